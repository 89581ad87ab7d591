"""A pause in the calendar: the meetings and check-ins inside it stay in the
.ics and the feed as cancelled events (STATUS:CANCELLED), read back with
icalendar and expanded as a client would with recurring-ical-events."""

import datetime
import zoneinfo

import recurring_ical_events
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from agreements.calendar import next_meeting
from agreements.models import CalendarFeed
from tests.helpers import client_for, fresh
from tests.test_calendar import activate, get_ics, meeting_series

LONDON = zoneinfo.ZoneInfo("Europe/London")
ONE_DAY = datetime.timedelta(days=1)
MONDAY = datetime.date(2027, 1, 4)  # the first weekly meeting, at 18:00 London time


def on(monkeypatch, day):
    """Now is noon UTC on ``day``, for the moves that check today's date."""
    noon = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: noon)


def weekly(agreement, start=MONDAY):
    return activate(
        agreement,
        start=start,
        frequency="weekly",
        time=datetime.time(18),
        time_zone="Europe/London",
    )


def ics(client, user, agreement):
    client_for(client, user)
    return Calendar.from_ical(
        get_ics(client, reverse("agreements:calendar_ics", args=[agreement.uuid]))
    )


def meetings(calendar, start, end):
    """[(start, STATUS)] of the meetings from ``start`` to ``end``, as a
    client expands the series with its overrides."""
    return sorted(
        (event.start, str(event.get("STATUS", "")))
        for event in recurring_ical_events.of(calendar).between(start, end)
        if str(event["UID"]).endswith("-meetings@mentorship")
    )


def cancelled_days(calendar, start, end):
    return [
        start.date() for start, status in meetings(calendar, start, end) if status == "CANCELLED"
    ]


def checkins(calendar):
    """{date: STATUS} of the check-in events."""
    return {
        event.start: str(event.get("STATUS", ""))
        for event in calendar.walk("VEVENT")
        if "-checkin-" in str(event["UID"])
    }


def sequences(calendar):
    return {event["SEQUENCE"] for event in calendar.walk("VEVENT")}


def test_a_pause_cancels_exactly_the_weekly_meetings_inside_it(
    client, agreement, mentor, mentee, monkeypatch
):
    active = weekly(agreement)
    before = ics(client, mentor, active)
    on(monkeypatch, datetime.date(2027, 1, 20))
    fresh(active).pause_meetings(
        starts_on=datetime.date(2027, 2, 1),
        until=datetime.date(2027, 2, 15),
        note="Moving house",
        by=mentee,
    )

    after = ics(client, mentor, active)

    window = (MONDAY, datetime.date(2027, 3, 1))
    assert [start for start, _status in meetings(after, *window)] == [
        start for start, _status in meetings(before, *window)
    ]
    assert cancelled_days(after, *window) == [
        datetime.date(2027, 2, 1),
        datetime.date(2027, 2, 8),
        datetime.date(2027, 2, 15),
    ]
    assert cancelled_days(before, *window) == []
    # Updated events, not deleted ones: overrides of the one series, each
    # naming the meeting it replaces, a step of SEQUENCE on.
    series = meeting_series(after)
    overrides = [e for e in after.walk("VEVENT") if e.get("RECURRENCE-ID")]
    assert {str(e["UID"]) for e in overrides} == {str(series["UID"])}
    assert [e["RECURRENCE-ID"].dt for e in overrides] == [e.start for e in overrides]
    assert overrides[0]["RECURRENCE-ID"].params["TZID"] == "Europe/London"
    assert sequences(before) == {1}
    assert sequences(after) == {2}
    assert "Cancelled: the meetings are paused." in str(overrides[0]["DESCRIPTION"])
    assert b"Moving house" not in after.to_ical()


def test_a_pause_across_the_change_to_summer_time(client, agreement, mentor, mentee, monkeypatch):
    # Sundays at 18:00 London time; the clocks go forward on Sunday 28 March 2027.
    active = weekly(agreement, start=datetime.date(2027, 3, 7))
    on(monkeypatch, datetime.date(2027, 3, 10))
    fresh(active).pause_meetings(
        starts_on=datetime.date(2027, 3, 20),
        until=datetime.date(2027, 4, 4),
        note="",
        by=mentor,
    )

    calendar = ics(client, mentee, active)

    occurrences = meetings(calendar, datetime.date(2027, 3, 7), datetime.date(2027, 4, 19))
    assert [
        (start.astimezone(datetime.UTC).strftime("%m-%d %H:%M"), status)
        for start, status in occurrences
    ] == [
        ("03-07 18:00", ""),
        ("03-14 18:00", ""),
        ("03-21 18:00", "CANCELLED"),
        ("03-28 17:00", "CANCELLED"),
        ("04-04 17:00", "CANCELLED"),
        ("04-11 17:00", ""),
        ("04-18 17:00", ""),
    ]
    assert all(start.astimezone(LONDON).time() == datetime.time(18) for start, _ in occurrences)


def test_a_checkin_inside_a_pause_is_cancelled_and_one_outside_is_not(
    client, agreement, mentor, mentee, monkeypatch
):
    active = weekly(agreement)
    first, second = (checkin.date for checkin in active.content_in_force.checkins)
    on(monkeypatch, first - datetime.timedelta(days=10))
    fresh(active).pause_meetings(
        starts_on=first - ONE_DAY, until=first + ONE_DAY, note="", by=mentee
    )

    assert checkins(ics(client, mentor, active)) == {first: "CANCELLED", second: ""}


def test_a_pause_called_off_before_it_began_cancels_nothing(
    client, agreement, mentor, mentee, monkeypatch
):
    active = weekly(agreement)
    before = ics(client, mentor, active)
    on(monkeypatch, datetime.date(2027, 1, 20))
    fresh(active).pause_meetings(
        starts_on=datetime.date(2027, 2, 1), until=None, note="", by=mentee
    )
    fresh(active).resume_meetings(by=mentor)

    after = ics(client, mentor, active)

    end = active.end_date + ONE_DAY
    assert meetings(after, MONDAY, end) == meetings(before, MONDAY, end)
    assert not [e for e in after.walk("VEVENT") if e.get("STATUS") or e.get("RECURRENCE-ID")]
    assert checkins(after) == checkins(before)
    # The pause came and went: a client that took it takes its undoing too.
    assert sequences(after) == {3}


def test_resuming_early_gives_back_the_meetings_after_it(
    client, agreement, mentor, mentee, monkeypatch
):
    active = weekly(agreement)
    on(monkeypatch, datetime.date(2027, 1, 20))
    fresh(active).pause_meetings(
        starts_on=datetime.date(2027, 2, 1), until=None, note="", by=mentee
    )
    on(monkeypatch, datetime.date(2027, 2, 10))
    assert next_meeting(fresh(active), timezone.now()) is None  # paused to the end

    fresh(active).resume_meetings(by=mentor)

    calendar = ics(client, mentee, active)
    window = (MONDAY, datetime.date(2027, 3, 1))
    assert cancelled_days(calendar, *window) == [
        datetime.date(2027, 2, 1),
        datetime.date(2027, 2, 8),
    ]
    assert sequences(calendar) == {3}
    assert next_meeting(fresh(active), timezone.now()) == datetime.datetime(
        2027, 2, 15, 18, tzinfo=LONDON
    )


def test_the_feed_cancels_the_paused_meetings_of_each_agreement(
    client, agreement, mentor, mentee, monkeypatch
):
    active = weekly(agreement)
    on(monkeypatch, datetime.date(2027, 1, 20))
    fresh(active).pause_meetings(
        starts_on=datetime.date(2027, 2, 1), until=datetime.date(2027, 2, 7), note="", by=mentor
    )
    feed = CalendarFeed.objects.create(user=mentee)

    calendar = Calendar.from_ical(
        get_ics(client, reverse("agreements:calendar_feed", args=[feed.token]))
    )

    assert cancelled_days(calendar, MONDAY, datetime.date(2027, 3, 1)) == [
        datetime.date(2027, 2, 1)
    ]
