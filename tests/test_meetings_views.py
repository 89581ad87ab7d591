"""The meetings page: logging a meeting, the other party's word on it,
corrections, pausing and resuming, and what the agreement page says of them."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, AuditEvent, Meeting, MeetingSchedule, Pause
from tests.helpers import (
    assert_unchanged,
    client_for,
    fresh,
    make_active,
    make_agreement,
    make_user,
)

pytestmark = pytest.mark.django_db

Kind = AuditEvent.Kind
CANARY = "canary-meeting-page-9b2d"


def url(name, agreement, *args):
    return reverse(f"agreements:{name}", args=[agreement.uuid, *args])


def day(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def log_post(held_on=None, minutes=45, format="video", note=""):
    return {
        "held_on": (held_on or day(0)).isoformat(),
        "duration_minutes": minutes,
        "format": format,
        "note": note,
    }


def log(agreement, by, held_on, note=""):
    return fresh(agreement).log_meeting(
        held_on=held_on,
        duration_minutes=60,
        format=MeetingSchedule.Format.VIDEO,
        note=note,
        by=by,
    )


def kinds(agreement):
    return list(agreement.audit_events.order_by("sequence").values_list("kind", flat=True))


def shown(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def logged(active, mentor):
    """A meeting the mentor logged yesterday, waiting for the mentee."""
    return log(active, mentor, day(-1), note=CANARY)


# Logging and confirming ---------------------------------------------------------


def test_a_logged_meeting_shows_up_and_the_other_party_confirms_it(client, active, mentor, mentee):
    client_for(client, mentor)
    page = client.get(url("meetings", active)).text
    # The form is ready in a few taps: today, the schedule's length and format.
    assert f'value="{day(0).isoformat()}"' in page
    assert 'name="duration_minutes" value="60"' in page
    assert '<option value="mixed" selected>' in page

    response = client.post(url("meetings", active), log_post(note=CANARY))
    assert response.status_code == 302
    meeting = Meeting.objects.get(agreement=active)
    assert (meeting.held_on, meeting.duration_minutes, meeting.format) == (day(0), 45, "video")
    assert (meeting.status, meeting.awaits, meeting.mentor_note) == ("pending", "mentee", CANARY)
    page = client.get(url("meetings", active)).text
    assert "Waiting for Milo Mentee to confirm" in page
    assert CANARY in page

    client_for(client, mentee)
    assert "Meetings (1 to confirm)" in client.get(url("detail", active)).text
    page = client.get(url("meetings", active)).text
    assert "Meetings Maria Mentor logged: is this right?" in page
    assert CANARY in page  # the other's note, shown to both of them
    response = client.post(url("meeting_confirm", active, meeting.pk), follow=True)
    assert shown(response) == ["Meeting confirmed: it counts."]
    meeting.refresh_from_db()
    assert meeting.status == Meeting.Status.AGREED
    assert kinds(active)[-2:] == [Kind.MEETING_LOGGED, Kind.MEETING_CONFIRMED]
    assert "is this right?" not in response.text
    assert "Confirmed" in response.text
    # Fortnightly from 60 days ago: five meetings promised so far.
    assert "1 of 5 agreed meetings held since" in response.text
    detail = client.get(url("detail", active)).text
    assert "1 of 5 agreed meetings held since" in detail
    assert "to confirm" not in detail


def test_the_one_who_logged_it_cannot_confirm_it(client, logged, active, mentor):
    client_for(client, mentor)
    with assert_unchanged(active):
        response = client.post(url("meeting_confirm", active, logged.pk), follow=True)
    assert shown(response) == ["This meeting does not wait for your confirmation."]
    assert fresh(active).meetings.get().status == Meeting.Status.PENDING


def test_the_other_party_says_it_did_not_happen(client, logged, active, mentee):
    client_for(client, mentee)
    response = client.post(url("meeting_decline", active, logged.pk), follow=True)
    assert shown(response) == ["The meeting is taken out of the log. Maria Mentor is told."]
    logged.refresh_from_db()
    assert (logged.status, logged.declined_by) == ("declined", "mentee")
    assert kinds(active)[-1] == Kind.MEETING_DECLINED
    assert "Taken out of the log" in response.text
    assert "Milo Mentee said it did not happen." in response.text
    # Nothing waits for the mentee any more.
    assert "is this right?" not in response.text
    assert "to confirm)" not in client.get(url("detail", active)).text


def test_the_one_who_logged_it_withdraws_it(client, logged, active, mentor):
    client_for(client, mentor)
    page = client.get(url("meetings", active)).text
    assert "Withdraw it" in page
    response = client.post(url("meeting_decline", active, logged.pk), follow=True)
    assert shown(response) == ["Your meeting is withdrawn from the log."]
    assert Meeting.objects.get().declined_by == "mentor"
    assert "Withdrawn by Maria Mentor, who logged it." in response.text
    assert "Withdraw it" not in response.text


def test_correcting_a_meeting_asks_the_other_party_again(client, logged, active, mentor, mentee):
    client_for(client, mentee)
    page = client.get(url("meeting_correct", active, logged.pk)).text
    assert f'value="{day(-1).isoformat()}"' in page
    assert 'name="duration_minutes" value="60"' in page
    assert CANARY in page  # the mentor's note, to read while correcting

    response = client.post(
        url("meeting_correct", active, logged.pk),
        log_post(held_on=day(-2), minutes=30, format="phone", note="It was shorter"),
        follow=True,
    )
    assert shown(response) == ["Meeting corrected. Maria Mentor is asked to confirm it."]
    logged.refresh_from_db()
    assert (logged.held_on, logged.duration_minutes, logged.format) == (day(-2), 30, "phone")
    assert (logged.awaits, logged.mentee_note, logged.mentor_note) == (
        "mentor",
        "It was shorter",
        CANARY,
    )
    assert kinds(active)[-1] == Kind.MEETING_CORRECTED

    client_for(client, mentor)
    page = client.get(url("meetings", active)).text
    assert "Meetings Milo Mentee logged: is this right?" in page
    assert client.post(url("meeting_confirm", active, logged.pk)).status_code == 302
    assert Meeting.objects.get().status == Meeting.Status.AGREED


def test_a_correction_the_agreement_refuses_is_a_form_error(client, logged, active, mentee):
    start = active.content_in_force.term.start_date
    client_for(client, mentee)
    with assert_unchanged(active):
        response = client.post(
            url("meeting_correct", active, logged.pk),
            log_post(held_on=start - datetime.timedelta(days=1)),
        )
    assert response.status_code == 200
    assert "The agreement’s term had not started on that date." in response.text


def test_a_meeting_that_counts_cannot_be_corrected(client, logged, active, mentor, mentee):
    client_for(client, mentee)
    # A week without an objection: it counts.
    Meeting.objects.filter(pk=logged.pk).update(
        proposed_at=timezone.now() - datetime.timedelta(days=8)
    )
    assert client.get(url("meeting_correct", active, logged.pk)).status_code == 404
    page = client.get(url("meetings", active)).text
    assert "Counts: no objection in 7 days" in page
    assert "is this right?" not in page
    # Confirmed: 404 too.
    Meeting.objects.filter(pk=logged.pk).update(proposed_at=timezone.now())
    fresh(active).confirm_meeting(number=logged.pk, by=mentee)
    for user in (mentor, mentee):
        client_for(client, user)
        assert client.get(url("meeting_correct", active, logged.pk)).status_code == 404


def test_a_meeting_of_another_agreement_cannot_be_corrected_here(
    client, active, logged, program, program_admin
):
    other_mentee = make_user("other-mentee@example.com", "Olive Othermentee")
    other = make_agreement(program, active.mentor, other_mentee, program_admin)
    other = make_active(other, start=day(-60))
    client_for(client, active.mentor)
    assert client.get(url("meeting_correct", other, logged.pk)).status_code == 404
    with assert_unchanged(active, other):
        client.post(url("meeting_decline", other, logged.pk))
    assert Meeting.objects.get().status == Meeting.Status.PENDING


# Who may ------------------------------------------------------------------------

PAGES = ["meetings", "meeting_correct"]
MOVES = ["meeting_confirm", "meeting_decline", "meetings_pause", "meetings_resume"]


def route_url(name, agreement, meeting):
    if name.startswith("meeting_"):
        return url(name, agreement, meeting.pk)
    return url(name, agreement)


@pytest.mark.parametrize("persona", ["outsider", "program_admin"])
@pytest.mark.parametrize("name", PAGES + MOVES)
def test_a_stranger_to_the_pair_gets_404_everywhere(request, client, active, logged, persona, name):
    client_for(client, request.getfixturevalue(persona))
    target = route_url(name, active, logged)
    if name in PAGES:
        assert client.get(target).status_code == 404
    with assert_unchanged(active):
        response = client.post(target, {**log_post(), "pause-starts_on": day(0).isoformat()})
    assert response.status_code == 404


@pytest.mark.parametrize("name", MOVES)
def test_moves_are_post_only(client, active, logged, mentee, name):
    client_for(client, mentee)
    with assert_unchanged(active):
        assert client.get(route_url(name, active, logged)).status_code == 405


def test_before_signing_the_page_sends_back_to_the_agreement(client, ready, mentor):
    client_for(client, mentor)
    response = client.get(url("meetings", ready))
    assert response.status_code == 302
    assert response["Location"] == url("detail", ready)
    with assert_unchanged(ready):
        assert client.post(url("meetings", ready), log_post()).status_code == 302


def test_an_ended_agreement_keeps_its_log_readable_not_writable(client, active, logged, mentee):
    active.give_notice(by=active.mentee)
    Agreement.objects.filter(pk=active.pk).update(ends_on=timezone.localdate())
    fresh(active).end_if_due(timezone.localdate())
    client_for(client, mentee)
    page = client.get(url("meetings", active)).text
    assert CANARY in page
    assert "can be read, not added to" in page
    for field in ('name="held_on"', 'name="pause-starts_on"', "Confirm", "Resume meetings"):
        assert field not in page
    assert client.get(url("meeting_correct", active, logged.pk)).status_code == 404
    with assert_unchanged(active):
        response = client.post(url("meetings", active), log_post(held_on=day(-3)))
        assert response.status_code == 200
        assert "Meetings are logged only on an Active agreement." in response.text
        client.post(url("meeting_confirm", active, logged.pk))
        client.post(url("meetings_pause", active), {"pause-starts_on": day(0).isoformat()})


# Bad input ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"held_on": day(1).isoformat()}, "not a future date"),
        ({"held_on": "yesterday"}, "Enter a valid date."),
        ({"held_on": ""}, "This field is required."),
        ({"duration_minutes": 0}, "Ensure this value is greater than or equal to 5."),
        ({"duration_minutes": 601}, "Ensure this value is less than or equal to 600."),
        ({"duration_minutes": "an hour"}, "Enter a whole number."),
        ({"format": "carrier pigeon"}, "Select a valid choice."),
        ({"note": "Null\x00byte"}, "Null characters are not allowed."),
        ({"note": "x" * 100_000}, "Ensure this value has at most 2000 characters"),
        ({"note": "\n".join(["line"] * 51)}, "Keep this to at most 50 lines (it has 51)"),
    ],
)
def test_bad_input_is_a_clear_form_error_and_changes_nothing(
    client, active, mentor, changes, message
):
    client_for(client, mentor)
    with assert_unchanged(active):
        response = client.post(url("meetings", active), {**log_post(), **changes})
    assert response.status_code == 200
    assert message in response.text
    assert "There is a problem" in response.text


def test_a_refusal_of_the_agreement_is_a_form_error(client, active, logged, mentor):
    client_for(client, mentor)
    with assert_unchanged(active):
        response = client.post(url("meetings", active), log_post(held_on=day(-1)))
    assert response.status_code == 200
    assert "A meeting on that day is already in the log." in response.text


def test_bytes_that_are_not_utf8_become_replacement_characters(client, active, mentor):
    """A lone surrogate cannot be sent as UTF-8: a browser sends invalid
    bytes, which Django reads as U+FFFD. Never a 500."""
    client_for(client, mentor)
    response = client.post(
        url("meetings", active),
        f"held_on={day(0).isoformat()}&duration_minutes=60&format=&note=A+%ED%A0%80+note".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    assert Meeting.objects.get().mentor_note == "A \ufffd\ufffd\ufffd note"


def test_markup_in_a_note_is_shown_literally(client, active, mentor):
    log(active, mentor, day(0), note="<script>alert('x')</script>")
    client_for(client, mentor)
    page = client.get(url("meetings", active)).text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


# Pausing ------------------------------------------------------------------------


def pause_post(starts_on=None, until=None, note=""):
    return {
        "pause-starts_on": (starts_on or day(0)).isoformat(),
        "pause-until": until.isoformat() if until else "",
        "pause-note": note,
    }


def test_pause_then_resume(client, active, mentor, mentee):
    client_for(client, mentor)
    page = client.get(url("meetings", active)).text
    assert "No reason needed. Milo Mentee will be told." in page
    response = client.post(
        url("meetings_pause", active),
        pause_post(starts_on=day(1), until=day(14), note=CANARY),
        follow=True,
    )
    assert shown(response) == ["Meetings paused. Milo Mentee is told."]
    pause = Pause.objects.get(agreement=active)
    assert (pause.starts_on, pause.until, pause.paused_by, pause.note) == (
        day(1),
        day(14),
        "mentor",
        CANARY,
    )
    assert kinds(active)[-1] == Kind.MEETINGS_PAUSED

    client_for(client, mentee)
    page = client.get(url("meetings", active)).text
    assert "Maria Mentor paused them on" in page
    assert CANARY in page
    assert 'name="pause-starts_on"' not in page
    assert "Meetings are paused from" in client.get(url("detail", active)).text
    response = client.post(url("meetings_resume", active), follow=True)
    assert shown(response) == ["Meetings resumed. Maria Mentor is told."]
    pause.refresh_from_db()
    assert pause.cancelled_at is not None  # it had not begun
    assert kinds(active)[-1] == Kind.MEETINGS_RESUMED
    assert 'name="pause-starts_on"' in response.text
    assert "Meetings are paused from" not in client.get(url("detail", active)).text


def test_a_pause_until_resumed_says_so_and_is_listed_once_over(client, active, mentor):
    client_for(client, mentor)
    assert client.post(url("meetings_pause", active), pause_post()).status_code == 302
    page = client.get(url("meetings", active)).text
    assert "until one of you resumes them." in page
    assert "Resume meetings" in page
    # Under way since yesterday, resumed today: it ended yesterday.
    Pause.objects.update(starts_on=day(-3))
    client.post(url("meetings_resume", active))
    page = client.get(url("meetings", active)).text
    assert "Earlier pauses" in page
    assert "paused by Maria Mentor" in page


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (pause_post(starts_on=day(-1)), "A pause starts today or later, not in the past."),
        (pause_post(until=day(-1)), "The pause cannot end before it starts."),
        (pause_post(until=day(400)), "A pause cannot outlast the agreement"),
        (pause_post(note="Null\x00byte"), "Null characters are not allowed."),
        (pause_post(note="x" * 100_000), "Ensure this value has at most 2000 characters"),
        ({"pause-starts_on": "soon"}, "Enter a valid date."),
    ],
)
def test_a_bad_pause_is_a_form_error_and_changes_nothing(client, active, mentor, post, message):
    client_for(client, mentor)
    with assert_unchanged(active):
        response = client.post(url("meetings_pause", active), post)
    assert response.status_code == 200
    assert message in response.text


def test_one_pause_at_a_time(client, active, mentor, mentee):
    fresh(active).pause_meetings(starts_on=day(0), until=None, note="", by=mentor)
    client_for(client, mentee)
    with assert_unchanged(active):
        response = client.post(url("meetings_pause", active), pause_post(starts_on=day(5)))
    assert response.status_code == 200
    assert "Resume them first." in response.text


# Cost ---------------------------------------------------------------------------


def test_the_meetings_page_runs_a_constant_number_of_queries(
    client, active, mentor, mentee, django_assert_num_queries
):
    log(active, mentor, day(-1), note="one")
    client_for(client, mentee)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url("meetings", active)).status_code == 200
    for n in range(2, 21):
        log(active, mentor if n % 2 else mentee, day(-n), note=f"note {n}")
    fresh(active).pause_meetings(starts_on=day(0), until=day(3), note="a pause", by=mentor)
    assert Meeting.objects.count() == 20
    with django_assert_num_queries(len(one)):
        assert client.get(url("meetings", active)).status_code == 200
