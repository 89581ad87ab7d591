"""The emails of the meeting log and of pauses: each goes to the other party
(the one who logged a meeting, when it is declined), in their language, with
names, the program, dates, minutes, how and the meetings page; never a note."""

import datetime

import pytest
from django.urls import reverse
from django.utils import formats, timezone

from agreements import emails
from agreements.models import MeetingSchedule
from tests.helpers import fresh

CANARY = "CANARY-meeting-mail-5b2d"
Format = MeetingSchedule.Format


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = "http://testserver"


@pytest.fixture
def moves(django_capture_on_commit_callbacks):
    """Run a move as a request would: its emails are sent once it commits."""

    def move(agreement, name, **args):
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(fresh(agreement), name)(**args)

    return move


def day(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def meetings_page(agreement):
    return "http://testserver" + reverse("agreements:meetings", args=[agreement.uuid])


def log(moves, agreement, by, **fields):
    return moves(
        agreement,
        "log_meeting",
        held_on=fields.get("held_on", day(-2)),
        duration_minutes=fields.get("minutes", 45),
        format=fields.get("format", Format.VIDEO),
        note=f"{CANARY} logged",
        by=by,
    )


def assert_no_note_in(messages):
    assert messages
    for message in messages:
        assert CANARY not in message.subject + message.body


def test_a_logged_meeting_asks_the_other_party_to_confirm_it(
    active, mentor, mentee, mailoutbox, moves
):
    log(moves, active, mentor, held_on=day(-2), minutes=45)

    [message] = mailoutbox
    assert message.to == [mentee.email]
    assert message.subject == "Maria Mentor asks you to confirm a meeting"
    held_on = day(-2)
    assert (
        f"Maria Mentor logged a meeting you held on {held_on:%A} {held_on.day} "
        f"{held_on:%B %Y}, in your mentoring agreement in Test Programme: "
        "45 minutes, video call."
    ) in message.body
    assert f"\n{meetings_page(active)}\n" in message.body
    assert "it counts as held after 7 days" in message.body
    assert_no_note_in(mailoutbox)


def test_a_correction_goes_to_the_one_who_logged_it_and_names_no_format_when_none(
    active, mentor, mentee, mailoutbox, moves
):
    meeting = log(moves, active, mentor)
    mailoutbox.clear()
    moves(
        active,
        "correct_meeting",
        number=meeting.pk,
        held_on=day(-3),
        duration_minutes=30,
        format="",
        note=f"{CANARY} corrected",
        by=mentee,
    )

    [message] = mailoutbox
    assert message.to == [mentor.email]
    assert message.subject == "Milo Mentee asks you to confirm a meeting"
    assert "in Test Programme: 30 minutes.\n" in message.body
    assert_no_note_in(mailoutbox)


def test_a_declined_meeting_tells_the_one_who_logged_it_and_a_withdrawn_one_nobody(
    active, mentor, mentee, mailoutbox, moves
):
    declined = log(moves, active, mentor, held_on=day(-2))
    withdrawn = log(moves, active, mentee, held_on=day(-4))
    mailoutbox.clear()

    moves(active, "decline_meeting", number=declined.pk, by=mentee)
    [message] = mailoutbox
    assert message.to == [mentor.email]
    short = formats.date_format(day(-2), "SHORT_DATE_FORMAT")
    assert message.subject == f"Milo Mentee says the meeting of {short} did not take place"
    assert "did not take place. It stays in the log, struck out, and does not count." in (
        message.body
    )
    assert f"\n{meetings_page(active)}\n" in message.body

    # The one who logged it taking it back tells nobody.
    moves(active, "decline_meeting", number=withdrawn.pk, by=mentee)
    assert len(mailoutbox) == 1
    assert_no_note_in(mailoutbox)


def test_a_meeting_answered_before_its_email_goes_out_asks_nothing_any_more(
    active, mentor, mentee, mailoutbox
):
    """The worker sends a little later (much later if it was down): a meeting
    confirmed in the app meanwhile is not to be confirmed by email."""
    meeting = fresh(active).log_meeting(
        held_on=day(-1), duration_minutes=60, format=Format.PHONE, note="", by=mentor
    )
    fresh(active).confirm_meeting(number=meeting.pk, by=mentee)
    ids = {"agreement_id": active.pk, "actor_id": mentor.pk, "meeting_id": meeting.pk}
    emails.EMAILS["meeting_logged"](mentee, **ids)
    assert mailoutbox == []


def test_a_pause_and_its_end_tell_the_other_party(active, mentor, mentee, mailoutbox, moves):
    moves(active, "pause_meetings", starts_on=day(0), until=None, note=CANARY, by=mentee)
    [paused] = mailoutbox
    assert paused.to == [mentor.email]
    assert paused.subject == "Milo Mentee paused your meetings"
    start = day(0)
    assert (
        f"Milo Mentee paused your meetings in Test Programme from {start:%A} {start.day} "
        f"{start:%B %Y} until one of you resumes them. No reason is needed. Check-ins and "
        "reminders inside the pause wait."
    ) in paused.body
    assert f"\n{meetings_page(active)}\n" in paused.body

    # Resumed the day it started: nothing of it took place.
    moves(active, "resume_meetings", by=mentor)
    [_paused, resumed] = mailoutbox
    assert resumed.to == [mentee.email]
    assert resumed.subject == "Maria Mentor resumed your meetings"
    assert "called off the pause of your meetings in Test Programme that was to start on" in (
        resumed.body
    )
    assert_no_note_in(mailoutbox)


def test_a_pause_with_an_end_names_both_days(active, mentor, mentee, mailoutbox, moves):
    moves(active, "pause_meetings", starts_on=day(3), until=day(20), note=CANARY, by=mentor)
    [message] = mailoutbox
    assert message.to == [mentee.email]
    first, last = day(3), day(20)
    assert (
        f"from {first:%A} {first.day} {first:%B %Y} until {last:%A} {last.day} {last:%B %Y}."
    ) in message.body
    assert_no_note_in(mailoutbox)


def test_a_pause_ended_early_says_when_it_ran(active, mentor, mentee, mailoutbox):
    pause = fresh(active).pause_meetings(starts_on=day(0), until=None, note=CANARY, by=mentor)
    # Begun some days ago, as if paused then.
    pause.starts_on = day(-10)
    pause.save(update_fields=["starts_on"])
    fresh(active).resume_meetings(by=mentee)
    ids = {"agreement_id": active.pk, "actor_id": mentee.pk, "pause_id": pause.pk}
    emails.EMAILS["meetings_resumed"](mentor, **ids)

    [message] = mailoutbox
    first, last = day(-10), day(-1)
    assert (
        f"Milo Mentee resumed your meetings in Test Programme: the pause ran from "
        f"{first:%A} {first.day} {first:%B %Y} to {last:%A} {last.day} {last:%B %Y}."
    ) in message.body
    assert_no_note_in(mailoutbox)


def test_each_email_is_in_its_recipients_language(active, mentor, mentee, mailoutbox, moves):
    mentee.language = "fr"
    mentee.save(update_fields=["language"])
    log(moves, active, mentor, held_on=day(-1), format=Format.VIDEO)
    moves(active, "pause_meetings", starts_on=day(1), until=None, note=CANARY, by=mentor)
    moves(active, "resume_meetings", by=mentor)
    # The mentor hears in English of what the mentee logged, the mentee in
    # French that the mentor declined it.
    meeting = log(moves, active, mentee, held_on=day(-3))
    moves(active, "decline_meeting", number=meeting.pk, by=mentor)

    to_mentee = [m for m in mailoutbox if m.to == [mentee.email]]
    to_mentor = [m for m in mailoutbox if m.to == [mentor.email]]
    assert len(to_mentee) == 4 and len(to_mentor) == 1
    for message in to_mentee:
        assert message.body.startswith("Bonjour Milo Mentee,")
    logged = to_mentee[0].body
    # The format and the date in French: their words, not the template's.
    assert "appel vidéo" in logged
    assert "lundi mardi mercredi jeudi vendredi samedi dimanche".split()[day(-1).weekday()] in (
        logged
    )
    for message in to_mentor:
        assert message.body.startswith("Hello Maria Mentor,")
    assert_no_note_in(mailoutbox)
