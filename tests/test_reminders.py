"""Reminder emails (``manage.py send_reminders``) and the automatic end
(``manage.py end_agreements``), both run daily from cron.

The ``active`` agreement started 60 days ago and both signed it today (day
60): check-ins on days 60 and 120, fortnightly meetings (days 0, 14, ...,
70, 84, ...), exit on day 182, 14 days' notice.
"""

import datetime
import io
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import demo, tasks
from agreements.models import (
    Agreement,
    AuditEvent,
    CheckInRecord,
    Effect,
    GoalProgress,
    Party,
    Reminder,
    SurveyResponse,
)
from agreements.reminders import due_reminders, send_due_reminders
from agreements.services import pairing_create
from tests.helpers import START, fresh, make_active, make_user
from tests.test_calendar import activate
from tests.test_concurrency import run_at_once

Kind = Reminder.Kind


def day(agreement, number):
    """The date ``number`` days after the agreement's start."""
    return agreement.content_in_force.term.start_date + datetime.timedelta(days=number)


def send(today=None):
    """Run the command; the emails it queues are sent once it commits."""
    out = io.StringIO()
    args = ["--date", today.isoformat()] if today else []
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def end(today=None):
    out = io.StringIO()
    args = ["--date", today.isoformat()] if today else []
    call_command("end_agreements", *args, stdout=out)
    return out.getvalue()


def record(agreement, planned_date):
    """A check-in held on its day, as the check-in form stores it."""
    return CheckInRecord.objects.create(
        agreement=agreement,
        planned_date=planned_date,
        held_on=planned_date,
        recorded_by=agreement.mentor,
    )


def answered(agreement):
    """Both parties answered both surveys, as the survey page stores them: the
    tests of the other reminders are not about the surveys' invitations."""
    for party in Party.values:
        for moment in SurveyResponse.Moment.values:
            SurveyResponse.objects.create(
                agreement=agreement,
                program_id=agreement.program_id,
                party=party,
                moment=moment,
                satisfaction=4,
                growth=4,
                recommend=8,
            )


def sent(kind):
    return sorted(
        (r.recipient.email, r.about) for r in Reminder.objects.filter(kind=kind).order_by("pk")
    )


def queued(agreement, first, last):
    """Run the daily job as of each day from day ``first`` to day ``last``:
    {day: how many reminders it queued} for the days it queued any."""
    counts = {n: send_due_reminders(today=day(agreement, n)) for n in range(first, last + 1)}
    return {n: count for n, count in counts.items() if count}


def on(monkeypatch, agreement, number):
    """Now is noon UTC on day ``number``, for a move that checks today's date."""
    noon = datetime.datetime.combine(day(agreement, number), datetime.time(12), tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: noon)


# Which reminders are due -------------------------------------------------------


def test_checkin_reminder_goes_to_both_parties_once(settings, active, mentor, mentee, mailoutbox):
    checkin = day(active, 60)

    assert send(checkin - datetime.timedelta(days=4)) == "Queued 0 reminders to send.\n"
    assert send(checkin - datetime.timedelta(days=3)) == "Queued 2 reminders to send.\n"
    assert send(checkin - datetime.timedelta(days=3)) == "Queued 0 reminders to send.\n"
    assert send(checkin - datetime.timedelta(days=1)) == "Queued 0 reminders to send.\n"

    assert sorted(m.to[0] for m in mailoutbox) == [mentee.email, mentor.email]
    assert sent(Kind.CHECKIN_SOON) == [(mentee.email, checkin), (mentor.email, checkin)]
    to_mentee = next(m for m in mailoutbox if m.to == [mentee.email])
    assert (
        to_mentee.subject
        == f"Check-in with Maria Mentor on {checkin:%A} {checkin.day} {checkin:%B}"
    )
    assert f"{checkin:%A} {checkin.day} {checkin:%B %Y}, in 3 days." in to_mentee.body
    assert "Test Programme" in to_mentee.body
    url = settings.SITE_URL + reverse("agreements:checkins", args=[active.uuid])
    assert f"\n{url}\n" in to_mentee.body


def test_a_missed_run_still_sends_the_checkin_reminder(active, mailoutbox):
    checkin = day(active, 60)

    assert send(checkin - datetime.timedelta(days=1)) == "Queued 2 reminders to send.\n"
    assert "tomorrow." in mailoutbox[0].body


def test_verbose_run_lists_each_reminder_sent(active):
    out = io.StringIO()
    call_command("send_reminders", "--date", f"{day(active, 57)}", verbosity=2, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines == [
        f"Check-in coming up ({day(active, 60)}): agreement {active.uuid}, mentor.",
        f"Check-in coming up ({day(active, 60)}): agreement {active.uuid}, mentee.",
        "Queued 2 reminders to send.",
    ]


def test_overdue_checkin_is_reminded_once(active, mentor, mentee, mailoutbox):
    checkin = day(active, 60)

    # Due on its day, and for the few days of grace after.
    assert send(checkin) == "Queued 0 reminders to send.\n"
    assert send(checkin + datetime.timedelta(days=3)) == "Queued 0 reminders to send.\n"
    assert send(checkin + datetime.timedelta(days=4)) == "Queued 2 reminders to send.\n"
    assert send(checkin + datetime.timedelta(days=5)) == "Queued 0 reminders to send.\n"

    assert sent(Kind.CHECKIN_OVERDUE) == [(mentee.email, checkin), (mentor.email, checkin)]
    assert {m.to[0] for m in mailoutbox} == {mentor.email, mentee.email}
    assert all("not recorded yet" in m.subject for m in mailoutbox)


def test_recorded_checkin_gets_no_overdue_reminder(active, mailoutbox):
    record(active, day(active, 60))

    assert send(day(active, 64)) == "Queued 0 reminders to send.\n"
    assert mailoutbox == []


def test_exit_reminder_invites_the_closing_conversation(
    settings, active, mentor, mentee, mailoutbox
):
    exit_date = day(active, 182)
    record(active, day(active, 60))
    record(active, day(active, 120))
    answered(active)

    assert send(exit_date - datetime.timedelta(days=15)) == "Queued 0 reminders to send.\n"
    assert send(exit_date - datetime.timedelta(days=14)) == "Queued 2 reminders to send.\n"
    assert send(exit_date - datetime.timedelta(days=1)) == "Queued 0 reminders to send.\n"
    assert send(exit_date) == "Queued 0 reminders to send.\n"

    assert sent(Kind.EXIT_SOON) == [(mentee.email, exit_date), (mentor.email, exit_date)]
    body = mailoutbox[0].body
    assert "closing conversation" in body
    assert "closing note" in body
    assert "start an amendment" in body
    assert "in 14 days" in body
    url = settings.SITE_URL + reverse("agreements:detail", args=[active.uuid])
    assert f"\n{url}\n" in body


def test_exit_reminder_follows_a_notice(active, mentor, mentee, mailoutbox):
    answered(active)
    ends_on = active.give_notice(by=mentor)
    mailoutbox.clear()  # the notice's own email

    assert send(ends_on - datetime.timedelta(days=14)) == "Queued 2 reminders to send.\n"

    assert sent(Kind.EXIT_SOON) == [(mentee.email, ends_on), (mentor.email, ends_on)]
    assert "the notice given to end it has run" in mailoutbox[0].body
    assert "start an amendment" not in mailoutbox[0].body


def test_checkin_on_the_end_date_gets_no_reminder(agreement, mentor, mentee, mailoutbox):
    # The agreement ends that morning: the check-in could not be recorded.
    start = timezone.localdate() - datetime.timedelta(days=60)
    exit_date = start + datetime.timedelta(days=182)
    demo.write_all(agreement, by=mentor, start=start)
    agreement.checkins.filter(date=start + datetime.timedelta(days=120)).update(date=exit_date)
    demo.agree_all(agreement)
    demo.sign_as(agreement, mentor)
    demo.sign_as(agreement, mentee)
    record(agreement, start + datetime.timedelta(days=60))
    answered(agreement)

    assert send(exit_date - datetime.timedelta(days=3)) == "Queued 2 reminders to send.\n"

    assert set(Reminder.objects.values_list("kind", flat=True)) == {Kind.EXIT_SOON}


def test_each_party_is_reminded_on_their_own_date(agreement, mentor, mentee, monkeypatch):
    # Kiritimati (UTC+14) is a day or two ahead of Pago Pago (UTC-11).
    mentor.time_zone, mentee.time_zone = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    mentor.save()
    mentee.save()
    now = datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC)
    checkin = datetime.date(2027, 3, 5)
    active = make_active(agreement, start=checkin - datetime.timedelta(days=60))
    assert day(active, 60) == checkin
    monkeypatch.setattr(timezone, "now", lambda: now)
    assert (mentor.today(), mentee.today()) == (
        datetime.date(2027, 3, 2),
        datetime.date(2027, 3, 1),
    )

    assert send() == "Queued 1 reminder to send.\n"
    assert sent(Kind.CHECKIN_SOON) == [(mentor.email, checkin)]

    now += datetime.timedelta(days=1)
    assert send() == "Queued 1 reminder to send.\n"
    assert sent(Kind.CHECKIN_SOON) == [(mentee.email, checkin), (mentor.email, checkin)]


def test_no_reminders_for_agreements_not_active(program, mentor, ready, mailoutbox):
    # All three share the dates of `ready`, which awaits signatures.
    def pairing(email, name):
        mentee = make_user(email, name)
        return pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=mentor)

    draft = pairing("dan@example.com", "Dan Draft")
    demo.write_all(draft, by=mentor, start=START)
    ended = make_active(pairing("eve@example.com", "Eve Ended"), start=START)
    assert ended.end_if_due(day(ended, 182))
    statuses = Agreement.objects.values_list("status", flat=True)
    assert sorted(statuses) == ["awaiting", "draft", "ended"]

    for offset in (57, 64, 117, 124, 170):
        assert send(day(ended, offset)) == "Queued 0 reminders to send.\n"
    assert mailoutbox == []
    assert not Reminder.objects.exists()


def test_due_reminders_lists_each_kind_with_its_date(active, mentor, outsider):
    assert due_reminders(agreement=active, user=mentor, today=day(active, 170)) == [
        (Kind.CHECKIN_OVERDUE, day(active, 60)),
        (Kind.CHECKIN_OVERDUE, day(active, 120)),
        (Kind.SURVEY_MIDPOINT, day(active, 91)),
        (Kind.SURVEY_END, day(active, 168)),
        (Kind.EXIT_SOON, day(active, 182)),
    ]
    assert due_reminders(agreement=active, user=mentor, today=day(active, 57)) == [
        (Kind.CHECKIN_SOON, day(active, 60))
    ]
    assert due_reminders(agreement=active, user=outsider, today=day(active, 57)) == []
    assert due_reminders(agreement=active, user=mentor, today=day(active, 73)) == [
        (Kind.CHECKIN_OVERDUE, day(active, 60)),
        (Kind.MEETING_LOG, day(active, 70)),
    ]


# Pauses and the meeting log --------------------------------------------------


def test_checkin_reminders_wait_during_a_pause_and_go_once_after(active, mentor, mentee):
    answered(active)
    active.pause_meetings(starts_on=day(active, 62), until=day(active, 90), note="", by=mentee)

    # Day 60's check-in is overdue from day 64, inside the pause; the meetings
    # of days 70 and 84 fall in it too: nobody is asked about them, ever.
    assert queued(active, 61, 100) == {91: 2}

    assert sent(Kind.CHECKIN_OVERDUE) == [
        (mentee.email, day(active, 60)),
        (mentor.email, day(active, 60)),
    ]
    assert Reminder.objects.count() == 2


def test_a_checkin_inside_a_pause_is_never_overdue(active, mentor, mentee):
    record(active, day(active, 60))
    answered(active)
    active.pause_meetings(starts_on=day(active, 110), until=day(active, 130), note="", by=mentor)

    # Day 120's check-in is neither coming up nor overdue; the meetings of
    # days 140 and 154, after the pause, are asked about as usual.
    assert queued(active, 100, 165) == {101: 2, 143: 2, 157: 2}

    assert set(Reminder.objects.values_list("kind", flat=True)) == {Kind.MEETING_LOG}
    assert (Kind.CHECKIN_OVERDUE, day(active, 120)) not in due_reminders(
        agreement=fresh(active), user=mentor, today=day(active, 165)
    )


def test_meeting_log_reminder_goes_once_to_each_party_per_missed_day(
    settings, active, mentor, mentee, mailoutbox
):
    record(active, day(active, 60))
    answered(active)

    # Three days after each meeting day; day 56's came before the signatures.
    assert queued(active, 61, 96) == {73: 2, 87: 2}
    assert queued(active, 61, 96) == {}  # run again: nothing more

    assert sent(Kind.MEETING_LOG) == [
        (mentee.email, day(active, 70)),
        (mentee.email, day(active, 84)),
        (mentor.email, day(active, 70)),
        (mentor.email, day(active, 84)),
    ]
    assert send(day(active, 101)) == "Queued 2 reminders to send.\n"  # day 98's
    to_mentee = next(m for m in mailoutbox if m.to == [mentee.email])
    meeting = day(active, 98)
    assert (
        to_mentee.subject
        == f"Did you meet Maria Mentor on {meeting:%A} {meeting.day} {meeting:%B}?"
    )
    assert f"on {meeting:%A} {meeting.day} {meeting:%B %Y}. Did you meet?" in to_mentee.body
    assert "Log it in a few taps" in to_mentee.body
    url = settings.SITE_URL + reverse("agreements:meetings", args=[active.uuid])
    assert f"\n{url}\n" in to_mentee.body


def test_a_missed_run_still_asks_about_a_meeting_up_to_ten_days_old(active):
    record(active, day(active, 60))

    assert send_due_reminders(today=day(active, 81)) == 0  # day 70 is 11 days old
    assert send_due_reminders(today=day(active, 80)) == 2
    assert sent(Kind.MEETING_LOG) == [
        ("mentee@example.com", day(active, 70)),
        ("mentor@example.com", day(active, 70)),
    ]


def test_a_meeting_logged_near_the_day_stands_for_it(active, mentor, mentee, monkeypatch):
    record(active, day(active, 60))
    answered(active)
    on(monkeypatch, active, 88)
    details = {"duration_minutes": 60, "format": "", "note": ""}
    active.log_meeting(held_on=day(active, 67), by=mentee, **details)  # 3 days before day 70
    active.log_meeting(held_on=day(active, 80), by=mentor, **details)  # 4 days before day 84
    withdrawn = active.log_meeting(held_on=day(active, 85), by=mentor, **details)
    active.decline_meeting(number=withdrawn.pk, by=mentor)

    assert queued(active, 61, 96) == {87: 2}

    assert sent(Kind.MEETING_LOG) == [
        (mentee.email, day(active, 84)),
        (mentor.email, day(active, 84)),
    ]


def test_meeting_log_reminders_wait_during_a_pause(active, mentor):
    record(active, day(active, 60))
    answered(active)
    active.pause_meetings(starts_on=day(active, 72), until=day(active, 76), note="", by=mentor)

    # Day 70's meeting, before the pause, is asked about once it ends.
    assert queued(active, 61, 96) == {77: 2, 87: 2}


def test_no_meeting_log_reminder_for_a_rhythm_of_their_own(agreement):
    start = timezone.localdate() - datetime.timedelta(days=60)
    active = activate(agreement, start=start, frequency="custom", frequency_custom="When we can")
    record(active, day(active, 60))
    answered(active)

    assert queued(active, 61, 110) == {}


# Surveys ------------------------------------------------------------------------


def test_survey_invitation_goes_once_to_each_party_when_it_opens(
    settings, active, mentor, mentee, mailoutbox
):
    record(active, day(active, 60))
    midpoint = day(active, 91)  # of a 182-day term

    assert (Kind.SURVEY_MIDPOINT, midpoint) not in due_reminders(
        agreement=active, user=mentor, today=day(active, 90)
    )
    send_due_reminders(today=day(active, 90))
    assert sent(Kind.SURVEY_MIDPOINT) == []
    mailoutbox.clear()

    send(midpoint)
    assert sent(Kind.SURVEY_MIDPOINT) == [(mentee.email, midpoint), (mentor.email, midpoint)]
    for later in (91, 92, 120):  # a second run, and the days after
        send_due_reminders(today=day(active, later))
    assert len(sent(Kind.SURVEY_MIDPOINT)) == 2

    to_mentee = next(
        m for m in mailoutbox if m.to == [mentee.email] and "three quick questions" in m.subject
    )
    assert (
        to_mentee.subject
        == "Halfway through your mentoring with Maria Mentor: three quick questions"
    )
    body = " ".join(to_mentee.body.split())
    assert "three short questions; answering takes about two minutes" in body
    assert "Maria Mentor does not" in body
    assert "added up over at least 5 people, never your comment" in body
    url = settings.SITE_URL + reverse("agreements:survey", args=[active.uuid, "midpoint"])
    assert f"\n{url}\n" in to_mentee.body


def test_the_end_survey_invites_two_weeks_before_the_end(settings, active, mentor, mailoutbox):
    record(active, day(active, 60))
    record(active, day(active, 120))

    send_due_reminders(today=day(active, 167))
    assert sent(Kind.SURVEY_END) == []
    mailoutbox.clear()
    send(day(active, 168))

    assert sent(Kind.SURVEY_END) == [
        ("mentee@example.com", day(active, 168)),
        (mentor.email, day(active, 168)),
    ]
    invitation = next(m for m in mailoutbox if "Looking back" in m.subject)
    assert "is coming to its end. Looking back, how did it go?" in invitation.body
    url = settings.SITE_URL + reverse("agreements:survey", args=[active.uuid, "end"])
    assert f"\n{url}\n" in invitation.body


def test_no_survey_invitation_once_answered(agreement, mentor, mentee):
    active = make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=100))
    record(active, day(active, 60))
    fresh(active).answer_survey(
        moment=SurveyResponse.Moment.MIDPOINT,
        satisfaction=4,
        growth=4,
        recommend=9,
        comment="",
        by=mentee,
    )

    send_due_reminders(today=timezone.localdate())
    assert sent(Kind.SURVEY_MIDPOINT) == [(mentor.email, day(active, 91))]

    fresh(active).answer_survey(
        moment=SurveyResponse.Moment.MIDPOINT,
        satisfaction=3,
        growth=3,
        recommend=7,
        comment="",
        by=mentor,
    )
    assert not any(
        kind == Kind.SURVEY_MIDPOINT
        for kind, _about in due_reminders(
            agreement=fresh(active), user=mentor, today=timezone.localdate()
        )
    )


def test_a_pause_does_not_hold_the_survey_back(active, mentor):
    record(active, day(active, 60))
    active.pause_meetings(starts_on=day(active, 85), until=None, note="", by=mentor)

    send_due_reminders(today=day(active, 91))

    assert len(sent(Kind.SURVEY_MIDPOINT)) == 2


def test_the_daily_run_never_reads_a_survey_comment(active, mentee):
    SurveyResponse.objects.create(
        agreement=active,
        program_id=active.program_id,
        party=Party.MENTEE,
        moment=SurveyResponse.Moment.MIDPOINT,
        satisfaction=4,
        growth=4,
        recommend=9,
        comment="Only mine",
    )
    with CaptureQueriesContext(connection) as context:
        send_due_reminders(today=day(active, 91))

    survey_queries = [q["sql"] for q in context.captured_queries if "surveyresponse" in q["sql"]]
    assert len(survey_queries) == 1
    assert "comment" not in survey_queries[0]
    assert sent(Kind.SURVEY_MIDPOINT) == [("mentor@example.com", day(active, 91))]


# Sending ------------------------------------------------------------------------


def test_failed_send_is_tried_again_by_the_worker_not_queued_twice(
    active, mentor, mentee, monkeypatch, caplog
):
    deliver = EmailBackend.send_messages

    def refuse_mentee(self, messages):
        if any(mentee.email in m.to for m in messages):
            raise OSError("Connection refused")
        return deliver(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_mentee)
    assert send(day(active, 57)) == "Queued 2 reminders to send.\n"
    assert [m.to for m in mail.outbox] == [[mentor.email]]
    (waiting,) = Effect.objects.outstanding().filter(key__startswith="email:reminder:")
    assert waiting.key.endswith(f":user:{mentee.pk}")
    assert (waiting.attempts, waiting.last_error) == (1, "Connection refused")
    assert "Connection refused" in caplog.text

    monkeypatch.setattr(EmailBackend, "send_messages", deliver)
    # The next cron run queues nothing new: the worker's retry sends it.
    assert send(day(active, 58)) == "Queued 0 reminders to send.\n"
    assert tasks.run_effect(waiting.pk) == "done"
    assert tasks.run_effect(waiting.pk) == "nothing to do"
    assert [m.to for m in mail.outbox] == [[mentor.email], [mentee.email]]
    assert len(sent(Kind.CHECKIN_SOON)) == 2


def test_reminder_emails_hold_nothing_the_pair_wrote(agreement, mentor, mentee, mailoutbox):
    canary = "CANARY-7f3a"
    # The goal and the check-in focus go into the signed version.
    start = timezone.localdate() - datetime.timedelta(days=60)
    demo.write_all(agreement, by=mentor, start=start)
    agreement.goals.update(description=f"Goal {canary}", success_measure=f"Measure {canary}")
    agreement.checkins.update(focus=f"Focus {canary}")
    demo.agree_all(agreement)
    demo.sign_as(agreement, mentor)
    demo.sign_as(agreement, mentee)
    active = fresh(agreement)
    assert canary in active.version_in_force.canonical_json
    active.write_checkin_record(
        planned_date=day(active, 60),
        held_on=day(active, 60),
        progress=[
            (goal, GoalProgress.Status.ON_TRACK, f"Progress {canary}")
            for goal in active.goals_in_force()
        ],
        working="yes",
        note=f"Note {canary}",
        by=mentor,
    )
    active.answer_checkin(
        planned_date=day(active, 60), working="yes", note=f"Answer {canary}", by=mentee
    )
    active.write_closing_note(
        by=mentee, achieved=f"Achieved {canary}", stay_in_touch="yes", how_to_reach=canary
    )
    active.add_off_limits_topic(topic=f"Topic {canary}", rule="never", by=mentor)
    active.log_meeting(
        held_on=day(active, 50), duration_minutes=45, format="", note=f"Met {canary}", by=mentor
    )
    active.pause_meetings(
        starts_on=day(active, 125), until=day(active, 135), note=f"Away {canary}", by=mentee
    )
    # The mentor's answers to the midpoint survey, as the survey page stores them.
    SurveyResponse.objects.create(
        agreement=active,
        program_id=active.program_id,
        party=Party.MENTOR,
        moment=SurveyResponse.Moment.MIDPOINT,
        satisfaction=2,
        growth=3,
        recommend=4,
        comment=f"Survey {canary}",
    )
    mailoutbox.clear()

    # The second check-in is coming up, day 112's meeting not logged, the
    # midpoint survey open for the mentee.
    send(day(active, 117))
    send(day(active, 170))  # it is overdue, the exit is near, the end survey open

    kinds = set(Reminder.objects.values_list("kind", flat=True))
    # Every kind of reminder the daily run sends about check-ins, meetings,
    # surveys and the exit; the digests have a test of their own
    # (tests/test_discussion_emails.py).
    assert kinds == {
        Kind.CHECKIN_SOON,
        Kind.CHECKIN_OVERDUE,
        Kind.MEETING_LOG,
        Kind.SURVEY_MIDPOINT,
        Kind.SURVEY_END,
        Kind.EXIT_SOON,
    }
    assert len(mailoutbox) == Reminder.objects.count() == 11
    for message in mailoutbox:
        assert canary not in message.subject
        assert canary not in message.body
        assert "Focus" not in message.body


def test_query_count_does_not_grow_with_the_agreements(program, mentor, active):
    def queries(today):
        # The command's own queries: the worker sends the emails later.
        with CaptureQueriesContext(connection) as context:
            call_command("send_reminders", "--date", today.isoformat(), stdout=io.StringIO())
        return len(context)

    quiet = queries(day(active, 30))
    for index in range(2):
        other = make_active(
            pairing_create(
                program=program,
                mentor=mentor,
                mentee=make_user(f"mentee{index}@example.com", f"Mentee {index}"),
                created_by=mentor,
            ),
            start=day(active, 0),
        )
        # Meetings and pauses are read too: in one query each, however many.
        other.log_meeting(
            held_on=day(active, 50), duration_minutes=60, format="", note="", by=mentor
        )
        other.pause_meetings(starts_on=day(active, 100), until=None, note="", by=mentor)
    assert queries(day(active, 31)) == quiet

    # Each reminder costs its claim (3 with its savepoint) and its email's
    # effect (6: looked up, then inserted, inside savepoints).
    assert queries(day(active, 57)) <= quiet + 6 * 9


class SlowBackend(EmailBackend):
    """Holds the claim's transaction open a while, as SMTP would."""

    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_reminder_once(settings, active, mailoutbox):
    settings.EMAIL_BACKEND = "tests.test_reminders.SlowBackend"
    # Both check-ins overdue, both surveys open, exit near: 5 reminders each.
    today = day(active, 170)
    mailoutbox.clear()  # the signing's emails, sent as it committed

    outputs = run_at_once(lambda: send(today), lambda: send(today))

    assert sum(int(out.split()[1]) for out in outputs) == 10
    assert len(mail.outbox) == 10
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 10
    assert Reminder.objects.count() == 10
    assert send(today) == "Queued 0 reminders to send.\n"


def test_bad_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--date", "3 March 2027")


# The automatic end --------------------------------------------------------------


def test_agreement_ends_completed_on_its_exit_date(active):
    exit_date = day(active, 182)

    assert end(exit_date - datetime.timedelta(days=1)) == "Ended 0 agreements.\n"
    assert Agreement.objects.get(pk=active.pk).status == Agreement.Status.ACTIVE

    assert end(exit_date) == "Ended 1 agreement.\n"
    ended = Agreement.objects.get(pk=active.pk)
    assert ended.status == Agreement.Status.ENDED
    assert ended.end_reason == Agreement.EndReason.COMPLETED
    assert ended.ended_at is not None
    event = ended.audit_events.get(kind=AuditEvent.Kind.ENDED)
    assert event.details["reason"] == "Completed on the exit date"


def test_agreement_past_its_exit_date_ends_without_a_date_given(agreement):
    active = make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=190))

    assert end() == "Ended 1 agreement.\n"

    assert Agreement.objects.get(pk=active.pk).end_reason == Agreement.EndReason.COMPLETED


def test_agreement_ends_early_once_the_notice_has_run(active, mentor):
    ends_on = active.give_notice(by=mentor)

    assert end(ends_on - datetime.timedelta(days=1)) == "Ended 0 agreements.\n"
    assert end(ends_on) == "Ended 1 agreement.\n"

    ended = Agreement.objects.get(pk=active.pk)
    assert ended.status == Agreement.Status.ENDED
    assert ended.end_reason == Agreement.EndReason.EARLY_EXIT
    assert ended.audit_events.filter(kind=AuditEvent.Kind.ENDED).count() == 1


def test_ending_twice_ends_once_and_tells_both_once(
    active, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    # Runs the after-commit tasks: the final PDF is sealed and both are told.
    with django_capture_on_commit_callbacks(execute=True):
        assert end(day(active, 200)) == "Ended 1 agreement.\n"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert end(day(active, 201)) == "Ended 0 agreements.\n"

    assert callbacks == []
    ended = Agreement.objects.get(pk=active.pk)
    assert ended.audit_events.filter(kind=AuditEvent.Kind.ENDED).count() == 1
    assert ended.final_sealed_at is not None
    assert sorted(m.to[0] for m in mailoutbox) == [mentee.email, mentor.email]
    assert all("completed on its exit date" in m.body for m in mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_two_end_runs_at_once_end_the_agreement_once(active, mentor, mentee, mailoutbox):
    mailoutbox.clear()  # the signing's emails, sent as it committed

    outputs = run_at_once(lambda: end(day(active, 182)), lambda: end(day(active, 182)))

    assert sorted(outputs) == ["Ended 0 agreements.\n", "Ended 1 agreement.\n"]
    ended = Agreement.objects.get(pk=active.pk)
    assert ended.audit_events.filter(kind=AuditEvent.Kind.ENDED).count() == 1
    assert sorted(m.to[0] for m in mailoutbox) == [mentee.email, mentor.email]


def test_drafts_and_awaiting_agreements_are_not_ended(ready):
    assert end(datetime.date(2099, 1, 1)) == "Ended 0 agreements.\n"
    assert Agreement.objects.get(pk=ready.pk).status == Agreement.Status.AWAITING_SIGNATURES


def test_end_date_is_the_server_date_in_time_zone(settings, agreement, monkeypatch):
    active = make_active(agreement, start=START)
    exit_date = day(active, 182)
    settings.TIME_ZONE = "Pacific/Kiritimati"
    # 11:00 UTC the day before the exit date is already the exit date in Kiritimati.
    now = datetime.datetime.combine(
        exit_date - datetime.timedelta(days=1), datetime.time(11), tzinfo=datetime.UTC
    )
    monkeypatch.setattr(timezone, "now", lambda: now)
    assert timezone.localdate() == exit_date

    assert end() == "Ended 1 agreement.\n"
