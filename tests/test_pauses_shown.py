"""Where a pause shows outside the meetings page: the check-ins inside it (never
overdue, still recordable once their day has come), the program's pairing
page (until when, never the note) and the final record (its dates)."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import formats, timezone

from agreements import demo
from agreements.models import Agreement, CheckInRecord
from agreements.pdf import render_final_pdf
from tests.helpers import client_for, fresh, make_active
from tests.test_living import checkin_post
from tests.test_pdf import page_texts

CANARY = "CANARY-pause-note-91c4"


def day(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def long_date(value):
    return f"{value.day} {value:%B %Y}"


@pytest.fixture
def overdue(agreement):
    """In force since 90 days ago: its first check-in (day 60) is 30 days
    overdue, its second (day 120) comes in 30 days."""
    return make_active(agreement, start=day(-90))


# The check-ins page ------------------------------------------------------------------


def test_a_checkin_inside_a_pause_is_never_overdue_and_may_still_be_recorded(
    client, overdue, mentor, mentee
):
    url = reverse("agreements:checkins", args=[overdue.uuid])
    client_for(client, mentor)
    assert "Overdue" in client.get(url).text

    demo.pause_in_the_past(overdue, by=mentee, starts_on=day(-40), until=None)
    page = client.get(url).text
    assert "Overdue" not in page
    assert page.count('<span class="badge checkin-paused">During a pause</span>') == 2
    # Nothing waits for them: neither check-in is a to-do.
    assert not any("check-in" in item for item in fresh(overdue).todo_for(mentor))
    # The one whose day has come may be recorded all the same; the other not yet.
    past, future = (checkin.date for checkin in fresh(overdue).content_in_force.checkins)
    record = reverse("agreements:checkin_record", args=[overdue.uuid, past.isoformat()])
    later = reverse("agreements:checkin_record", args=[overdue.uuid, future.isoformat()])
    assert page.count("Held it all the same? Record it") == 1
    assert f'href="{record}"' in page and f'href="{later}"' not in page

    response = client.get(later, follow=True)
    assert "A check-in can be recorded on or after its date." in response.text
    assert client.get(record).status_code == 200
    response = client.post(record, checkin_post(fresh(overdue), held_on=past))
    assert response.status_code == 302
    assert CheckInRecord.objects.get(agreement=overdue).planned_date == past
    assert "Held on" in client.get(url).text


# The program's pairing page ------------------------------------------------------------


def pairing_page(client, agreement):
    url = reverse("agreements:pairing", args=[agreement.program.uuid, agreement.uuid])
    response = client.get(url)
    assert response.status_code == 200
    return response.text


def short(value):
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def test_the_pairing_page_says_until_when_a_pair_is_paused_and_nothing_of_the_note(
    client, active, mentor, mentee, program_admin
):
    client_for(client, program_admin)
    assert "Paused" not in pairing_page(client, active)

    fresh(active).pause_meetings(starts_on=day(0), until=day(20), note=CANARY, by=mentor)
    text = pairing_page(client, active)
    assert f"Paused until {short(day(20))}" in text
    assert CANARY not in text

    fresh(active).resume_meetings(by=mentee)  # called off: it never took place
    assert "Paused" not in pairing_page(client, active)

    fresh(active).pause_meetings(starts_on=day(5), until=None, note=CANARY, by=mentee)
    text = pairing_page(client, active)
    assert f"Pause planned from {short(day(5))} (no end date set)" in text
    assert CANARY not in text


def test_an_open_pause_under_way_has_no_end_date_and_the_page_costs_the_same(
    client, overdue, mentee, program_admin
):
    client_for(client, program_admin)
    pairing_page(client, overdue)  # sessions and caches warm
    with CaptureQueriesContext(connection) as unpaused:
        pairing_page(client, overdue)
    # Two pauses over and one under way: the page loads them in one query.
    demo.pause_in_the_past(overdue, by=mentee, starts_on=day(-80), until=day(-75))
    demo.pause_in_the_past(overdue, by=mentee, starts_on=day(-50), until=day(-45))
    demo.pause_in_the_past(overdue, by=mentee, starts_on=day(-3), until=None)
    with CaptureQueriesContext(connection) as paused:
        text = pairing_page(client, overdue)
    assert "Paused (no end date set)" in text
    assert len(paused) == len(unpaused)
    # The pauses' notes are never even loaded for the program.
    [pauses] = [query["sql"] for query in paused if 'FROM "agreements_pause"' in query["sql"]]
    assert '"agreements_pause"."note"' not in pauses


# The final record ------------------------------------------------------------------------


def test_the_final_record_gives_the_meetings_held_and_each_pause_not_its_note(
    overdue, mentor, mentee, program_admin
):
    demo.pause_in_the_past(overdue, by=mentee, starts_on=day(-40), until=day(-30))
    # Under way when the program ends it: it ran until the last day.
    pause = demo.pause_in_the_past(overdue, by=mentor, starts_on=day(-5), until=None)
    Agreement.objects.get(pk=overdue.pk).pauses.update(note=CANARY)
    meeting = fresh(overdue).log_meeting(
        held_on=day(-60), duration_minutes=60, format="video", note=CANARY, by=mentee
    )
    fresh(overdue).confirm_meeting(number=meeting.pk, by=mentor)
    fresh(overdue).end_by_program(by=program_admin, note="The program closes.")

    agreement = fresh(overdue)
    kept = agreement.meetings_kept(agreement.end_date, timezone.now())
    assert kept.held == 1 and kept.promised > 1
    text = " ".join(page_texts(render_final_pdf(agreement)))
    assert kept.sentence() in text
    assert (
        f"Meetings were paused from {long_date(day(-40))} to {long_date(day(-30))}. "
        f"Meetings were paused from {long_date(pause.starts_on)} to {long_date(day(-1))}."
    ) in text
    assert CANARY not in text
