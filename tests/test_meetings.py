"""The meeting log and pauses, as moves of the agreement: what counts as held,
what the rhythm promised, and what a pause leaves out."""

import datetime
import json

import pytest
from django.utils import timezone

from agreements.calendar import meeting_starts
from agreements.exceptions import MeetingInvalid, NotActive, PauseInvalid
from agreements.models import (
    Agreement,
    AuditEvent,
    CheckInState,
    Effect,
    Meeting,
    MeetingSchedule,
    Pause,
    Term,
    meeting_days,
)
from tests.helpers import assert_unchanged, fresh, make_active, make_agreement, make_user

pytestmark = pytest.mark.django_db

Frequency = MeetingSchedule.Frequency
Kind = AuditEvent.Kind
CANARY = "canary-meeting-note-4c1e"


def day(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def loaded(agreement):
    """As the meetings page loads it: with the log, the pauses and the check-ins held."""
    return Agreement.objects.with_working_copy().with_records().get(pk=agreement.pk)


def log(agreement, by, held_on, **fields):
    return fresh(agreement).log_meeting(
        held_on=held_on,
        duration_minutes=fields.get("minutes", 60),
        format=fields.get("format", MeetingSchedule.Format.VIDEO),
        note=fields.get("note", ""),
        by=by,
    )


def told(name):
    """Who was promised the email ``name``, by user id."""
    return [effect.args["to"] for effect in Effect.objects.filter(args__email=name).order_by("pk")]


def kinds(agreement):
    return list(agreement.audit_events.order_by("sequence").values_list("kind", flat=True))


# What the rhythm promises -------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency", "first", "last", "expected"),
    [
        (Frequency.WEEKLY, "2027-01-04", "2027-01-31", ["01-04", "01-11", "01-18", "01-25"]),
        (Frequency.FORTNIGHTLY, "2027-01-04", "2027-01-31", ["01-04", "01-18"]),
        (Frequency.MONTHLY, "2027-01-15", "2027-04-14", ["01-15", "02-15", "03-15"]),
        # The 31st is the month's last day in a shorter month.
        (
            Frequency.MONTHLY,
            "2027-01-31",
            "2027-05-31",
            ["01-31", "02-28", "03-31", "04-30", "05-31"],
        ),
        (Frequency.MONTHLY, "2028-01-30", "2028-03-30", ["01-30", "02-29", "03-30"]),
        # A rhythm in the pair's own words promises no countable meetings.
        (Frequency.CUSTOM, "2027-01-04", "2027-01-31", []),
        ("", "2027-01-04", "2027-01-31", []),
    ],
)
def test_the_days_each_rhythm_promises(frequency, first, last, expected):
    first, last = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    days = meeting_days(frequency, first, last)
    assert [f"{d:%m-%d}" for d in days] == expected
    assert all(d.year == first.year for d in days)


def test_the_count_holds_across_a_change_to_summer_time():
    # London moves its clocks on 28 March 2027: the meetings stay at 18:00
    # local, and the days the calendar has are the days counted.
    schedule = MeetingSchedule(
        frequency=Frequency.WEEKLY,
        time=datetime.time(18, 0),
        time_zone="Europe/London",
    )
    first, last = datetime.date(2027, 3, 15), datetime.date(2027, 4, 12)
    starts = meeting_starts(schedule, first, last)
    assert [start.date() for start in starts] == meeting_days(Frequency.WEEKLY, first, last)
    assert len(starts) == 5
    assert {start.hour for start in starts} == {18}
    assert len({start.utcoffset() for start in starts}) == 2


def test_the_promise_counts_the_rhythm_from_the_start_of_the_term(agreement):
    active = make_active(agreement, start=day(-60))  # fortnightly: days 0, 14, 28, 42, 56
    kept = loaded(active).meetings_kept(day(0), timezone.now())
    assert (kept.held, kept.promised, kept.paused_days) == (0, 5, 0)
    assert kept.since == day(-60)
    assert kept.sentence().startswith("0 of 5 agreed meetings held since ")


def test_a_pause_takes_the_meetings_inside_it_out_of_the_promise(agreement):
    active = make_active(agreement, start=day(-60))
    # Days 10 to 30 of the term: the meetings of days 14 and 28.
    Pause.objects.create(agreement=active, starts_on=day(-50), until=day(-30), paused_by="mentee")
    kept = loaded(active).meetings_kept(day(0), timezone.now())
    assert (kept.promised, kept.paused_days) == (3, 21)


def test_a_pause_called_off_before_it_began_takes_nothing_out(agreement):
    active = make_active(agreement, start=day(-60))
    Pause.objects.create(
        agreement=active,
        starts_on=day(-50),
        until=day(-30),
        paused_by="mentee",
        cancelled_at=timezone.now(),
    )
    kept = loaded(active).meetings_kept(day(0), timezone.now())
    assert (kept.promised, kept.paused_days) == (5, 0)


def test_nothing_is_promised_before_the_term_starts(agreement):
    active = make_active(agreement, start=day(5))
    assert loaded(active).meetings_kept(day(0), timezone.now()) is None


# Logging and agreeing -------------------------------------------------------------


def test_a_meeting_confirmed_by_both_counts_once(active, mentor, mentee):
    meeting = log(active, mentor, day(-3), note=CANARY)
    assert not meeting.counts(timezone.now())
    assert loaded(active).meetings_to_confirm(mentee, timezone.now()) == [meeting]
    assert loaded(active).meetings_to_confirm(mentor, timezone.now()) == []
    assert told("meeting_logged") == [mentee.pk]

    fresh(active).confirm_meeting(number=meeting.pk, by=mentee)
    kept = loaded(active).meetings_kept(day(0), timezone.now())
    assert kept.held == 1
    assert kinds(active)[-2:] == [Kind.MEETING_LOGGED, Kind.MEETING_CONFIRMED]

    # Confirming again changes nothing and counts nothing twice.
    with pytest.raises(MeetingInvalid), assert_unchanged(active):
        fresh(active).confirm_meeting(number=meeting.pk, by=mentee)
    assert loaded(active).meetings_kept(day(0), timezone.now()).held == 1


def test_the_one_who_logged_it_cannot_confirm_it(active, mentor):
    meeting = log(active, mentor, day(-3))
    with pytest.raises(MeetingInvalid, match="does not wait for your confirmation"):
        with assert_unchanged(active):
            fresh(active).confirm_meeting(number=meeting.pk, by=mentor)


def test_a_meeting_counts_after_a_week_without_an_objection(active, mentor):
    meeting = log(active, mentor, day(-3))
    now = timezone.now()
    Meeting.objects.filter(pk=meeting.pk).update(proposed_at=now - datetime.timedelta(days=6))
    assert not Meeting.objects.get(pk=meeting.pk).counts(now)
    Meeting.objects.filter(pk=meeting.pk).update(proposed_at=now - datetime.timedelta(days=7))
    assert Meeting.objects.get(pk=meeting.pk).counts(now)
    assert loaded(active).meetings_kept(day(0), now).held == 1


@pytest.mark.parametrize(
    ("held_on", "message"),
    [
        (1, "not a future date"),
        (-61, "term had not started"),
    ],
)
def test_a_meeting_outside_the_term_so_far_is_refused(active, mentor, held_on, message):
    with pytest.raises(MeetingInvalid, match=message), assert_unchanged(active):
        log(active, mentor, day(held_on))


def test_one_meeting_a_day_until_it_is_taken_out(active, mentor, mentee):
    meeting = log(active, mentor, day(-3))
    with pytest.raises(MeetingInvalid, match="already in the log"), assert_unchanged(active):
        log(active, mentee, day(-3))
    fresh(active).decline_meeting(number=meeting.pk, by=mentee)
    again = log(active, mentee, day(-3))
    assert again.status == Meeting.Status.PENDING
    assert Meeting.objects.filter(agreement=active).count() == 2


def test_a_correction_asks_the_other_party_again(active, mentor, mentee):
    meeting = log(active, mentor, day(-3), minutes=60)
    corrected = fresh(active).correct_meeting(
        number=meeting.pk,
        held_on=day(-4),
        duration_minutes=45,
        format=MeetingSchedule.Format.PHONE,
        note="",
        by=mentee,
    )
    assert (corrected.held_on, corrected.duration_minutes, corrected.awaits) == (
        day(-4),
        45,
        "mentor",
    )
    fresh(active).confirm_meeting(number=meeting.pk, by=mentor)
    with pytest.raises(MeetingInvalid, match="no longer be changed"), assert_unchanged(active):
        fresh(active).correct_meeting(
            number=meeting.pk,
            held_on=day(-5),
            duration_minutes=45,
            format="",
            note="",
            by=mentee,
        )
    assert told("meeting_logged") == [mentee.pk, mentor.pk]


def test_who_is_told_when_a_meeting_is_taken_out(active, mentor, mentee):
    disputed = log(active, mentor, day(-3))
    fresh(active).decline_meeting(number=disputed.pk, by=mentee)  # "it did not happen"
    assert told("meeting_declined") == [mentor.pk]
    withdrawn = log(active, mentor, day(-2))
    fresh(active).decline_meeting(number=withdrawn.pk, by=mentor)  # its logger withdraws it
    assert told("meeting_declined") == [mentor.pk]
    assert Meeting.objects.get(pk=withdrawn.pk).declined_by == "mentor"


def test_a_meeting_of_another_agreement_is_not_in_this_log(active, mentor, program, mentee):
    other = make_active(
        make_agreement(program, make_user("x@example.com", "Xavier"), mentee, mentor),
        start=day(-60),
    )
    meeting = log(other, mentee, day(-3))
    with pytest.raises(MeetingInvalid, match="not in the log"), assert_unchanged(active, other):
        fresh(active).confirm_meeting(number=meeting.pk, by=mentor)


def test_the_trail_records_dates_and_minutes_never_the_note(active, mentor):
    log(active, mentor, day(-3), note=CANARY)
    fresh(active).pause_meetings(starts_on=day(0), until=day(5), note=CANARY, by=mentor)
    details = list(active.audit_events.values_list("details", flat=True))
    assert CANARY not in json.dumps(details)
    assert details[-2] == {
        "held_on": day(-3).isoformat(),
        "minutes": 60,
        "format": "video",
        "party": "mentor",
    }


def test_meetings_are_logged_only_on_an_active_agreement(ready, mentor):
    with pytest.raises(NotActive), assert_unchanged(ready):
        log(ready, mentor, day(0))
    with pytest.raises(NotActive), assert_unchanged(ready):
        fresh(ready).pause_meetings(starts_on=day(0), until=None, note="", by=mentor)


# Pausing ------------------------------------------------------------------------------


def test_a_pause_tells_the_other_party_and_one_pause_runs_at_a_time(active, mentor, mentee):
    pause = fresh(active).pause_meetings(starts_on=day(1), until=day(20), note="", by=mentee)
    assert told("meetings_paused") == [mentor.pk]
    assert loaded(active).pause_to_come(day(0)) == pause
    with pytest.raises(PauseInvalid, match="already paused"), assert_unchanged(active):
        fresh(active).pause_meetings(starts_on=day(25), until=None, note="", by=mentor)


@pytest.mark.parametrize(
    ("starts_on", "until", "message"),
    [
        (-1, None, "not in the past"),
        (5, 4, "cannot end before it starts"),
        # The term runs 182 days from day -60: its last day is day 121.
        (5, 122, "cannot outlast the agreement"),
        (122, None, "ends before that date"),
    ],
)
def test_a_pause_stays_inside_the_term_from_today(active, mentor, starts_on, until, message):
    with pytest.raises(PauseInvalid, match=message), assert_unchanged(active):
        fresh(active).pause_meetings(
            starts_on=day(starts_on),
            until=None if until is None else day(until),
            note="",
            by=mentor,
        )


def test_a_pause_may_last_to_the_last_day_of_the_term(active, mentor):
    pause = fresh(active).pause_meetings(starts_on=day(5), until=day(121), note="", by=mentor)
    assert pause.until == day(121)


def test_resuming_ends_a_pause_under_way_and_calls_off_one_to_come(active, mentor, mentee):
    pause = fresh(active).pause_meetings(starts_on=day(0), until=None, note="", by=mentor)
    Pause.objects.filter(pk=pause.pk).update(starts_on=day(-10))  # under way for ten days
    resumed = fresh(active).resume_meetings(by=mentee)
    assert (resumed.until, resumed.cancelled_at, resumed.resumed_by) == (day(-1), None, "mentee")
    assert loaded(active).paused_on(day(0)) is None
    assert loaded(active).paused_on(day(-1)) == resumed

    planned = fresh(active).pause_meetings(starts_on=day(3), until=day(9), note="", by=mentor)
    called_off = fresh(active).resume_meetings(by=mentor)
    assert called_off.pk == planned.pk and called_off.cancelled_at is not None
    assert loaded(active).paused_on(day(5)) is None
    assert kinds(active)[-1] == Kind.MEETINGS_RESUMED
    assert told("meetings_resumed") == [mentor.pk, mentee.pk]

    with pytest.raises(PauseInvalid, match="not paused"), assert_unchanged(active):
        fresh(active).resume_meetings(by=mentor)


def test_a_checkin_inside_a_pause_is_never_overdue(agreement):
    active = make_active(agreement, start=day(-70))  # its first check-in was day -10
    checkin = fresh(active).content_in_force.checkins[0].date
    timeline = loaded(active).checkin_timeline(day(0))
    assert timeline[0][2] == CheckInState.OVERDUE
    assert Agreement.objects.get(pk=active.pk).checkins_overdue == 1

    Pause.objects.create(agreement=active, starts_on=checkin, until=checkin, paused_by="mentor")
    assert loaded(active).checkin_timeline(day(0))[0][2] == CheckInState.PAUSED
    Agreement.objects.filter(pk=active.pk).refresh_overview()
    assert Agreement.objects.get(pk=active.pk).checkins_overdue == 0
    assert loaded(active).todo_for(active.mentor) == []


def test_a_pause_keeps_to_the_longest_pause_the_agreement_allows(agreement, mentor):
    Term.objects.filter(agreement=agreement).update(pause_max_days=30)
    active = make_active(agreement, start=day(-60))
    assert fresh(active).content_in_force.term.pause_max_days == 30
    for until in (None, day(35)):
        with pytest.raises(PauseInvalid, match="at most 30 days"), assert_unchanged(active):
            fresh(active).pause_meetings(starts_on=day(5), until=until, note="", by=mentor)
    pause = fresh(active).pause_meetings(starts_on=day(5), until=day(34), note="", by=mentor)
    assert pause.days_between(day(0), day(100)) == 30


def test_a_program_passes_its_longest_pause_to_new_agreements(program, mentor, mentee):
    program.pause_max_days = 21
    program.save()
    agreement = make_agreement(program, make_user("y@example.com", "Yara"), mentee, mentor)
    assert agreement.term.pause_max_days == 21
