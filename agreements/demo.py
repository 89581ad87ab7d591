"""Realistic agreement content for the demo data and the tests."""

import datetime

from django.db import transaction
from django.utils import timezone

from agreements.models import Agreement, AuditEvent, MeetingSchedule, OffLimitsTopic, Section
from agreements.models.meetings import meeting_days


def _fill(agreement, kind, start):
    Kind = Section.Kind
    if kind == Kind.CONTACT:
        for preference in agreement.contact_preferences.all():
            person = agreement.user_for(preference.party)
            preference.by_email = True
            preference.email_details = person.email
            preference.by_video = True
            preference.video_details = "Teams, link in the invitation"
            preference.preferred_times = "Weekdays 9:00–17:00"
            preference.response_time = preference.ResponseTime.TWO_DAYS
            preference.save()
    elif kind == Kind.SCHEDULE:
        schedule = agreement.schedule
        schedule.frequency = schedule.Frequency.FORTNIGHTLY
        schedule.time = datetime.time(17, 30)
        schedule.time_zone = agreement.mentee.time_zone
        schedule.duration_minutes = 60
        schedule.format = schedule.Format.MIXED
        schedule.location = "Café on the ground floor, or Teams"
        schedule.arranged_by = "mentee"
        schedule.agenda_by = "mentee"
        schedule.notice_hours = 24
        schedule.save()
    elif kind == Kind.GOALS:
        agreement.goals.create(
            owner="mentee",
            description="Lead a project from kick-off to delivery.",
            success_measure="A delivered project and feedback from the sponsor.",
            target_date=start + datetime.timedelta(days=150),
        )
        agreement.goals.create(
            owner="mentor",
            description="Practise coaching rather than advising.",
            success_measure="The mentee says most answers were their own.",
            target_date=start + datetime.timedelta(days=170),
        )
    elif kind == Kind.CHECKINS:
        for days in (60, 120):
            agreement.checkins.create(
                date=start + datetime.timedelta(days=days), focus="Progress on the goals"
            )
    elif kind == Kind.CONFIDENTIALITY:
        confidentiality = agreement.confidentiality
        confidentiality.work_matters = "Performance feedback, team dynamics, career plans."
        confidentiality.personal_matters = "Work-life balance, if the mentee raises it."
        confidentiality.mentor_areas = "The mentor's own career moves, as examples."
        # A clause the program locked stays as the program wrote it.
        confidentiality.exceptions_notes = agreement.policy.get(
            "exceptions_notes", "Where it is safe, the mentor tells the mentee first."
        )
        confidentiality.line_manager_by_mentor = "Only that meetings take place."
        confidentiality.line_manager_by_mentee = "Whatever the mentee chooses."
        confidentiality.save()
    elif kind == Kind.OFF_LIMITS:
        agreement.off_limits_topics.create(
            topic="Salary negotiations", rule=OffLimitsTopic.Rule.NOT_DISCUSSED
        )
        agreement.off_limits_topics.create(topic="Health", rule=OffLimitsTopic.Rule.MENTEE_RAISES)
    elif kind == Kind.TERM:
        term = agreement.term
        term.start_date = start
        term.exit_date = start + datetime.timedelta(days=182)
        term.notice_days = agreement.policy.get("notice_days", 14)
        term.save()


def write_section(agreement, kind, *, by, start):
    """Fill one section through the real save path (revisions)."""
    agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
    section = agreement.sections_by_kind[kind]
    agreement.save_section(
        kind, by=by, expected_revision=section.revision, save=lambda: _fill(agreement, kind, start)
    )


def write_language(agreement, language, second_language="", *, by):
    """Write the agreement in ``language`` (and show it in ``second_language``),
    through the real save path."""
    agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
    section = agreement.sections_by_kind[Section.Kind.LANGUAGE]

    def save():
        agreement.language, agreement.second_language = language, second_language
        agreement.save(update_fields=["language", "second_language"])

    agreement.save_section(
        Section.Kind.LANGUAGE, by=by, expected_revision=section.revision, save=save
    )


# Term first: check-ins must fall inside it.
FILL_ORDER = [
    Section.Kind.TERM,
    Section.Kind.CONTACT,
    Section.Kind.SCHEDULE,
    Section.Kind.GOALS,
    Section.Kind.CHECKINS,
    Section.Kind.CONFIDENTIALITY,
    Section.Kind.OFF_LIMITS,
]


def write_all(agreement, *, by, start=None):
    start = start or timezone.localdate()
    for kind in FILL_ORDER:
        write_section(agreement, kind, by=by, start=start)


def agree_all(agreement, *, kinds=None):
    revisions = dict(agreement.sections.values_list("kind", "revision"))
    for kind in kinds or Section.Kind.values:
        for party in (agreement.mentor, agreement.mentee):
            agreement.agree_section(kind, by=party, seen_revision=revisions[kind])


def sign_as(agreement, user):
    agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
    agreement.sign(by=user, typed_name=user.full_name, seen_hash=agreement.content_hash)


def activate(agreement, *, start):
    """Written, agreed and signed by both, the term starting on ``start``."""
    write_all(agreement, by=agreement.mentor, start=start)
    agree_all(agreement)
    sign_as(agreement, agreement.mentor)
    sign_as(agreement, agreement.mentee)


def write_checkin_records(agreement, *, by, today, answer_both=False):
    """Record every check-in in force up to ``today``, with steady progress."""
    agreement = Agreement.objects.with_working_copy().with_records().get(pk=agreement.pk)
    for number, checkin in enumerate(agreement.content_in_force.checkins, start=1):
        if checkin.date > today:
            break
        status = "done" if number > 1 else "on_track"
        agreement.write_checkin_record(
            planned_date=checkin.date,
            held_on=checkin.date,
            progress=[(goal, status, "") for goal in agreement.goals_in_force()],
            working="yes",
            note="",
            by=by,
        )
        if answer_both:
            other = agreement.other_person(by)
            agreement.answer_checkin(planned_date=checkin.date, working="yes", note="", by=other)


def pause_in_the_past(agreement, *, by, starts_on, until):
    """A pause over by now, as if ``by`` had paused the meetings two days
    before it began. The move pauses from today on only, so the row and its
    trail entry are written here; the entry is dated today, as the rest of
    the demo's trail is."""
    paused_at = datetime.datetime.combine(starts_on - datetime.timedelta(days=2), datetime.time(18))
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        party = agreement.party_of(by)
        pause = agreement.pauses.create(
            starts_on=starts_on,
            until=until,
            paused_by=party,
            paused_at=timezone.make_aware(paused_at),
        )
        agreement.audit(AuditEvent.Kind.MEETINGS_PAUSED, actor=by, details=pause.facts(party))
    return pause


# A pause of three weeks, two months into the term.
PAUSE_FROM, PAUSE_UNTIL = 64, 84


def keep_meetings(agreement, *, today):
    """The meetings of an Active agreement whose term started at least
    ``PAUSE_UNTIL`` days before ``today``: a pause of three weeks, over by
    now; the mentee logged a meeting on each day the rhythm promised outside
    it but the second, which they skipped, and held the third a day late; the
    mentor confirmed each but the latest, which waits for the mentor's word.
    The pair holds at least half its recent meetings: it is not fading."""
    agreement = Agreement.objects.with_working_copy().with_records().get(pk=agreement.pk)
    plan = agreement.content_in_force
    first = plan.term.start_date
    mentor, mentee = agreement.mentor, agreement.mentee
    pause = pause_in_the_past(
        agreement,
        by=mentee,
        starts_on=first + datetime.timedelta(days=PAUSE_FROM),
        until=first + datetime.timedelta(days=PAUSE_UNTIL),
    )
    rhythm = meeting_days(plan.schedule.frequency, first, today)
    days = [day for day in rhythm if not pause.covers(day)]
    formats = [MeetingSchedule.Format.VIDEO, MeetingSchedule.Format.IN_PERSON]
    for number, day in enumerate(days):
        if number == 1:
            continue
        late = number == 2 and day < today
        meeting = agreement.log_meeting(
            held_on=day + datetime.timedelta(days=late),
            duration_minutes=plan.schedule.duration_minutes or 60,
            format=formats[number % 2],
            note="",
            by=mentee,
        )
        if day != days[-1]:
            agreement.confirm_meeting(number=meeting.pk, by=mentor)


def close(agreement):
    """Both closing notes."""
    agreement.write_closing_note(
        by=agreement.mentee,
        achieved="I led a project from kick-off to delivery, and learnt to ask for feedback.",
        stay_in_touch="yes",
        how_to_reach="LinkedIn, or coffee when I'm in town.",
    )
    agreement.write_closing_note(
        by=agreement.mentor,
        achieved="I practised coaching rather than advising.",
        stay_in_touch="maybe",
        how_to_reach="",
    )
