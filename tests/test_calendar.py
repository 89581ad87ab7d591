"""Calendar export: the recurrence, the .ics file, the private feed and its token."""

import datetime
import zoneinfo

import pytest
import recurring_ical_events
import vobject
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from agreements import demo
from agreements.calendar import meeting_starts, meetings_left_out, next_meeting
from agreements.models import Agreement, CalendarFeed, MeetingSchedule, Section
from agreements.services import pairing_create
from tests.helpers import client_for, fresh, make_active, make_user

LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC = datetime.UTC
ICS_TYPE = "text/calendar; charset=utf-8"
ONE_DAY = datetime.timedelta(days=1)


def schedule(frequency, time=datetime.time(18), zone="Europe/London", **fields):
    return MeetingSchedule(frequency=frequency, time=time, time_zone=zone, **fields)


def set_schedule(agreement, *, by, **fields):
    agreement = fresh(agreement)
    section = agreement.sections_by_kind[Section.Kind.SCHEDULE]

    def save():
        for name, value in fields.items():
            setattr(agreement.schedule, name, value)
        agreement.schedule.save()

    agreement.save_section(
        Section.Kind.SCHEDULE, by=by, expected_revision=section.revision, save=save
    )


def activate(agreement, *, start, **schedule_fields):
    """Written with the demo content and this schedule, agreed and signed by both."""
    demo.write_all(agreement, by=agreement.mentor, start=start)
    if schedule_fields:
        set_schedule(agreement, by=agreement.mentor, **schedule_fields)
    demo.agree_all(agreement)
    demo.sign_as(agreement, agreement.mentor)
    demo.sign_as(agreement, agreement.mentee)
    return fresh(agreement)


def get_ics(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == ICS_TYPE
    return response.content


def meeting_series(calendar):
    (series,) = [event for event in calendar.walk("VEVENT") if event.get("RRULE")]
    return series


def day_events(calendar):
    """[(date, summary)] of the all-day events, in date order."""
    return sorted(
        (event.start, str(event["SUMMARY"]))
        for event in calendar.walk("VEVENT")
        if not event.get("RRULE")
    )


def expand_with_vobject(data):
    """The meeting starts as vobject reads the file.

    vobject takes the zone from pytz by name, with an offset fixed at the
    first meeting; the wall clock it gives is right, so read it in the
    VTIMEZONE vobject parsed from the file itself.
    """
    parsed = vobject.readOne(data.decode())
    (series,) = [event for event in parsed.vevent_list if hasattr(event, "rrule")]
    if not hasattr(parsed, "vtimezone"):  # a series in UTC needs none
        return list(series.getrruleset())
    zone = parsed.vtimezone.tzinfo
    return [start.replace(tzinfo=zone) for start in series.getrruleset()]


def expand_with_recurring_ical_events(data, start, end):
    calendar = Calendar.from_ical(data)
    return [
        event.start
        for event in recurring_ical_events.of(calendar).between(start, end)
        if str(event["UID"]).endswith("-meetings@mentorship")
    ]


# The recurrence ---------------------------------------------------------


def test_monthly_on_the_31st_meets_on_the_last_day_of_shorter_months():
    starts = meeting_starts(
        schedule("monthly"), datetime.date(2027, 1, 31), datetime.date(2027, 7, 1)
    )
    assert [start.date() for start in starts] == [
        datetime.date(2027, 1, 31),
        datetime.date(2027, 2, 28),
        datetime.date(2027, 3, 31),
        datetime.date(2027, 4, 30),
        datetime.date(2027, 5, 31),
        datetime.date(2027, 6, 30),
    ]
    assert {start.timetz() for start in starts} == {datetime.time(18, tzinfo=LONDON)}


def test_monthly_on_the_30th_meets_on_the_29th_of_a_leap_february():
    starts = meeting_starts(
        schedule("monthly"), datetime.date(2028, 1, 30), datetime.date(2028, 4, 30)
    )
    assert [start.date() for start in starts] == [
        datetime.date(2028, 1, 30),
        datetime.date(2028, 2, 29),
        datetime.date(2028, 3, 30),
        datetime.date(2028, 4, 30),
    ]


def test_monthly_on_an_ordinary_day_keeps_that_day():
    starts = meeting_starts(
        schedule("monthly"), datetime.date(2027, 1, 15), datetime.date(2027, 4, 14)
    )
    assert [start.day for start in starts] == [15, 15, 15]


def test_weekly_meetings_keep_the_wall_clock_across_the_change_of_time():
    # Summer time in the UK ends on Sunday 31 October 2027.
    starts = meeting_starts(
        schedule("weekly"), datetime.date(2027, 10, 18), datetime.date(2027, 11, 8)
    )
    assert [(start.day, start.hour, start.minute) for start in starts] == [
        (18, 18, 0),
        (25, 18, 0),
        (1, 18, 0),
        (8, 18, 0),
    ]
    assert [start.utcoffset() for start in starts] == [
        datetime.timedelta(hours=1),
        datetime.timedelta(hours=1),
        datetime.timedelta(0),
        datetime.timedelta(0),
    ]
    assert [start.astimezone(UTC).hour for start in starts] == [17, 17, 18, 18]


def test_an_exit_in_the_middle_of_a_series_ends_it():
    fortnightly = schedule("fortnightly", time=datetime.time(9, 30))
    starts = meeting_starts(fortnightly, datetime.date(2027, 1, 4), datetime.date(2027, 2, 10))
    assert [start.date() for start in starts] == [
        datetime.date(2027, 1, 4),
        datetime.date(2027, 1, 18),
        datetime.date(2027, 2, 1),
    ]
    # A meeting on the last day itself still takes place.
    on_the_day = meeting_starts(fortnightly, datetime.date(2027, 1, 4), datetime.date(2027, 2, 1))
    assert on_the_day[-1].date() == datetime.date(2027, 2, 1)


@pytest.mark.parametrize(
    "meetings",
    [
        schedule("custom", frequency_custom="When we both can"),
        schedule("weekly", time=None),
        schedule("weekly", zone=""),
        schedule(""),
    ],
)
def test_no_meetings_without_a_rhythm_time_and_zone(meetings):
    assert meeting_starts(meetings, datetime.date(2027, 1, 4), datetime.date(2027, 6, 1)) == []
    assert meetings_left_out(meetings)


def test_a_meeting_without_a_time_asks_for_an_amendment():
    note = meetings_left_out(schedule("weekly", time=None))
    assert "add a meeting time through an amendment" in note
    assert meetings_left_out(schedule("weekly")) == ""


def test_next_meeting_is_the_first_after_now(active):
    now = timezone.now()
    upcoming = next_meeting(active, now)
    assert now < upcoming <= now + datetime.timedelta(days=14)
    assert (upcoming.hour, upcoming.minute) == (17, 30)
    assert upcoming in meeting_starts(
        active.content_in_force.schedule, active.content_in_force.term.start_date, active.end_date
    )


def test_no_next_meeting_before_both_signed(agreement):
    assert next_meeting(agreement, timezone.now()) is None


# The .ics file -------------------------------------------------------------


def test_party_downloads_the_agreement_as_ics(client, active, mentee):
    client_for(client, mentee)
    response = client.get(reverse("agreements:calendar_ics", args=[active.uuid]))
    assert response.status_code == 200
    assert response["Content-Type"] == ICS_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="mentoring-maria-mentor.ics"'

    calendar = Calendar.from_ical(response.content)
    assert str(calendar["PRODID"]) == "-//Mentorship//Agreements//EN"
    assert str(calendar["X-WR-CALNAME"]) == "Mentoring with Maria Mentor"
    assert str(calendar["X-WR-TIMEZONE"]) == mentee.time_zone
    series = meeting_series(calendar)
    assert str(series["UID"]) == f"{active.uuid}-meetings@mentorship"
    assert str(series["SUMMARY"]) == "Mentoring with Maria Mentor"
    assert str(series["LOCATION"]) == "Café on the ground floor, or Teams"
    assert series["SEQUENCE"] == 1
    assert series.end - series.start == datetime.timedelta(minutes=60)
    start = active.content_in_force.term.start_date
    assert day_events(calendar) == [
        (start + datetime.timedelta(days=60), "Check-in with Maria Mentor"),
        (start + datetime.timedelta(days=120), "Check-in with Maria Mentor"),
        (start + datetime.timedelta(days=182), "Exit date: mentoring with Maria Mentor"),
    ]
    uids = sorted(str(event["UID"]) for event in calendar.walk("VEVENT"))
    assert uids == sorted(
        [
            f"{active.uuid}-meetings@mentorship",
            f"{active.uuid}-checkin-{start + datetime.timedelta(days=60)}@mentorship",
            f"{active.uuid}-checkin-{start + datetime.timedelta(days=120)}@mentorship",
            f"{active.uuid}-exit@mentorship",
        ]
    )


def test_outsider_gets_404_for_the_ics(client, active, outsider):
    client_for(client, outsider)
    assert client.get(reverse("agreements:calendar_ics", args=[active.uuid])).status_code == 404


def test_ics_of_an_agreement_not_in_force_is_404(client, ready, mentor):
    client_for(client, mentor)
    assert client.get(reverse("agreements:calendar_ics", args=[ready.uuid])).status_code == 404


def test_ics_and_calendar_page_need_a_login(client, active):
    for url in (
        reverse("agreements:calendar_ics", args=[active.uuid]),
        reverse("agreements:calendar"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_monthly_on_the_31st_reads_the_same_in_three_parsers(client, agreement, mentor):
    start = datetime.date(2027, 1, 31)
    active = activate(agreement, start=start, frequency="monthly", time_zone="Europe/London")
    data = get_ics(
        client_for(client, mentor), reverse("agreements:calendar_ics", args=[active.uuid])
    )

    expected = meeting_starts(active.content_in_force.schedule, start, active.end_date)
    assert [d.date() for d in expected[:4]] == [
        datetime.date(2027, 1, 31),
        datetime.date(2027, 2, 28),
        datetime.date(2027, 3, 31),
        datetime.date(2027, 4, 30),
    ]
    series = meeting_series(Calendar.from_ical(data))
    assert series["RRULE"]["BYMONTHDAY"] == [28, 29, 30, 31]
    assert series["RRULE"]["BYSETPOS"] == [-1]
    assert expand_with_vobject(data) == expected
    window = expand_with_recurring_ical_events(data, start, active.end_date + ONE_DAY)
    assert window == expected


def test_meetings_across_a_change_of_time_in_another_zone(client, agreement, mentor):
    mentor.time_zone = "America/New_York"
    mentor.save()
    start = datetime.date(2027, 10, 18)
    active = activate(
        agreement,
        start=start,
        frequency="weekly",
        time=datetime.time(18),
        time_zone="Europe/London",
        location="Café; room 2, floor 3",
    )
    data = get_ics(
        client_for(client, mentor), reverse("agreements:calendar_ics", args=[active.uuid])
    )
    calendar = Calendar.from_ical(data)
    assert str(calendar["X-WR-TIMEZONE"]) == "America/New_York"
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/London"]
    series = meeting_series(calendar)
    assert series["DTSTART"].params["TZID"] == "Europe/London"
    assert str(series["LOCATION"]) == "Café; room 2, floor 3"

    # London changes on 31 October, New York on 7 November.
    starts = expand_with_recurring_ical_events(data, start, datetime.date(2027, 11, 15))
    assert [s.astimezone(NEW_YORK).strftime("%m-%d %H:%M %Z") for s in starts] == [
        "10-18 13:00 EDT",
        "10-25 13:00 EDT",
        "11-01 14:00 EDT",
        "11-08 13:00 EST",
    ]
    assert [(s.hour, s.tzname()) for s in starts] == [
        (18, "BST"),
        (18, "BST"),
        (18, "GMT"),
        (18, "GMT"),
    ]
    expected = meeting_starts(active.content_in_force.schedule, start, active.end_date)
    assert expand_with_vobject(data) == expected
    # The series runs through the spring change too, still at 18:00 London time.
    assert all(s.astimezone(LONDON).time() == datetime.time(18) for s in expand_with_vobject(data))


def test_notice_ends_the_series_and_drops_later_check_ins(client, active, mentee, mentor):
    fresh(active).give_notice(by=mentee)
    ended = fresh(active)
    ends_on = ended.ends_on
    data = get_ics(
        client_for(client, mentor), reverse("agreements:calendar_ics", args=[ended.uuid])
    )
    calendar = Calendar.from_ical(data)

    start = ended.content_in_force.term.start_date
    starts = expand_with_recurring_ical_events(data, start, ended.content_in_force.term.exit_date)
    assert starts and starts[-1].date() <= ends_on
    assert starts[-1].date() > ends_on - datetime.timedelta(days=14)  # fortnightly
    assert starts == meeting_starts(ended.content_in_force.schedule, start, ends_on)
    assert expand_with_vobject(data) == starts
    # The check-in of day 120 comes after the end: gone. Day 60 (today) stays.
    assert day_events(calendar) == [
        (start + datetime.timedelta(days=60), "Check-in with Milo Mentee"),
        (ends_on, "Agreement ends (notice given): mentoring with Milo Mentee"),
    ]
    assert meeting_series(calendar)["SEQUENCE"] == 2


def test_an_ended_agreement_ends_its_calendar_on_the_day_it_ended(client, active, mentor):
    exit_date = active.content_in_force.term.exit_date
    # The end command ran a few days late: the agreement still ended on its exit date.
    fresh(active).end_if_due(exit_date + datetime.timedelta(days=3))
    ended = fresh(active)
    assert ended.is_ended
    assert ended.end_date == exit_date
    client_for(client, mentor)
    data = get_ics(client, reverse("agreements:calendar_ics", args=[ended.uuid]))
    calendar = Calendar.from_ical(data)
    start = ended.content_in_force.term.start_date
    assert day_events(calendar) == [
        (start + datetime.timedelta(days=60), "Check-in with Milo Mentee"),
        (start + datetime.timedelta(days=120), "Check-in with Milo Mentee"),
        (exit_date, "Agreement ended: mentoring with Milo Mentee"),
    ]
    starts = expand_with_recurring_ical_events(data, start, exit_date + ONE_DAY)
    assert starts[-1].date() <= exit_date
    assert next_meeting(ended, timezone.now()) is None


def test_a_held_check_in_says_so(client, active, mentee):
    checkin = active.content_in_force.checkins[0]
    fresh(active).write_checkin_record(
        planned_date=checkin.date,
        held_on=checkin.date,
        progress=[(goal, "on_track", "") for goal in fresh(active).goals_in_force()],
        working="yes",
        note="",
        by=mentee,
    )
    client_for(client, mentee)
    calendar = Calendar.from_ical(
        get_ics(client, reverse("agreements:calendar_ics", args=[active.uuid]))
    )
    descriptions = {
        event.start: str(event["DESCRIPTION"])
        for event in calendar.walk("VEVENT")
        if "-checkin-" in str(event["UID"])
    }
    assert f"Held on {checkin.date.day} {checkin.date:%B %Y}." in descriptions[checkin.date]
    assert "Held on" not in descriptions[active.content_in_force.checkins[1].date]


def test_an_amendment_moves_the_exit_date_under_the_same_uid(client, active, mentor, mentee):
    client_for(client, mentor)
    url = reverse("agreements:calendar_ics", args=[active.uuid])
    before = Calendar.from_ical(get_ics(client, url))
    exit_date = active.content_in_force.term.exit_date
    later = exit_date + datetime.timedelta(days=28)

    active.start_amendment(by=mentor)
    amending = fresh(active)
    section = amending.sections_by_kind[Section.Kind.TERM]

    def save():
        amending.term.exit_date = later
        amending.term.save()

    amending.save_section(
        Section.Kind.TERM, by=mentee, expected_revision=section.revision, save=save
    )
    demo.agree_all(amending, kinds=[Section.Kind.TERM])
    # Until both sign, the calendar follows the version in force.
    assert day_events(Calendar.from_ical(get_ics(client, url)))[-1] == (
        exit_date,
        "Exit date: mentoring with Milo Mentee",
    )
    demo.sign_as(amending, mentor)
    demo.sign_as(amending, mentee)

    after = Calendar.from_ical(get_ics(client, url))
    exits = [e for e in after.walk("VEVENT") if str(e["UID"]).endswith("-exit@mentorship")]
    assert [(e.start, e["SEQUENCE"]) for e in exits] == [(later, 2)]
    assert str(exits[0]["UID"]) == f"{active.uuid}-exit@mentorship"
    until_before = meeting_series(before)["RRULE"]["UNTIL"][0]
    until_after = meeting_series(after)["RRULE"]["UNTIL"][0]
    assert until_after - until_before == datetime.timedelta(days=28)


def test_custom_rhythm_leaves_the_meetings_out_and_says_so(client, agreement, mentor):
    active = activate(
        agreement,
        start=datetime.date(2027, 1, 4),
        frequency="custom",
        frequency_custom="Whenever we both can",
    )
    client_for(client, mentor)
    data = get_ics(client, reverse("agreements:calendar_ics", args=[active.uuid]))
    calendar = Calendar.from_ical(data)
    assert not [event for event in calendar.walk("VEVENT") if event.get("RRULE")]
    assert len(calendar.walk("VEVENT")) == 3  # two check-ins and the exit date
    assert calendar.timezones == []

    page = client.get(reverse("agreements:calendar"))
    assert "The meetings are not in the calendar" in page.text
    assert "Whenever we both can" in page.text


# The page and the private feed ------------------------------------------


def test_calendar_page_makes_no_feed_on_get(client, active, mentor, django_assert_max_num_queries):
    client_for(client, mentor)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("agreements:calendar"))
    assert response.status_code == 200
    assert "Create my private feed link" in response.text
    assert reverse("agreements:calendar_ics", args=[active.uuid]) in response.text
    assert reverse("agreements:account") in response.text
    assert mentor.time_zone in response.text
    assert not CalendarFeed.objects.exists()


def test_creating_the_feed_shows_its_absolute_url(client, active, mentor):
    client_for(client, mentor)
    response = client.post(reverse("agreements:calendar_regenerate"))
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:calendar")
    feed = CalendarFeed.objects.get(user=mentor)
    page = client.get(reverse("agreements:calendar"))
    assert f"http://testserver/calendar/feed/{feed.token}.ics" in page.text
    assert "Regenerate (the old link stops working)" in page.text
    assert "Your private feed link is ready" in page.text


def test_regenerate_is_post_only(client, mentor):
    client_for(client, mentor)
    assert client.get(reverse("agreements:calendar_regenerate")).status_code == 405
    assert not CalendarFeed.objects.exists()


def test_anyone_with_the_feed_url_reads_it_without_logging_in(client, active, mentee):
    feed = CalendarFeed.objects.create(user=mentee)
    response = client.get(reverse("agreements:calendar_feed", args=[feed.token]))
    assert response.status_code == 200
    assert response["Content-Type"] == ICS_TYPE
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"private", "max-age=300"} <= cache
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Mentoring"
    assert str(meeting_series(calendar)["SUMMARY"]) == "Mentoring with Maria Mentor"
    assert expand_with_vobject(response.content) == meeting_starts(
        active.content_in_force.schedule, active.content_in_force.term.start_date, active.end_date
    )


def test_wrong_token_is_404(client, active, mentee):
    CalendarFeed.objects.create(user=mentee)
    for token in ("nope", "x" * 43, CalendarFeed.objects.get().token[:-1]):
        response = client.get(reverse("agreements:calendar_feed", args=[token]))
        assert response.status_code == 404
        assert b"Milo" not in response.content


def test_regenerating_revokes_the_old_feed_url(client, active, mentee):
    client_for(client, mentee)
    client.post(reverse("agreements:calendar_regenerate"))
    old = CalendarFeed.objects.get(user=mentee).token
    client.post(reverse("agreements:calendar_regenerate"))
    new = CalendarFeed.objects.get(user=mentee).token
    assert new != old
    client.logout()
    assert client.get(reverse("agreements:calendar_feed", args=[old])).status_code == 404
    assert client.get(reverse("agreements:calendar_feed", args=[new])).status_code == 200


def test_feed_of_a_deactivated_account_is_404(client, active, mentee):
    feed = CalendarFeed.objects.create(user=mentee)
    mentee.is_active = False
    mentee.save()
    assert client.get(reverse("agreements:calendar_feed", args=[feed.token])).status_code == 404


def test_feed_without_agreements_is_an_empty_calendar(client, outsider):
    feed = CalendarFeed.objects.create(user=outsider)
    data = get_ics(client, reverse("agreements:calendar_feed", args=[feed.token]))
    assert Calendar.from_ical(data).walk("VEVENT") == []
    assert vobject.readOne(data.decode()).name == "VCALENDAR"


def test_feed_reads_in_a_constant_number_of_queries(client, program, mentor, program_admin):
    feed = CalendarFeed.objects.create(user=mentor)
    url = reverse("agreements:calendar_feed", args=[feed.token])
    start = timezone.localdate() - datetime.timedelta(days=30)

    def pair(number):
        mentee = make_user(f"mentee{number}@example.com", f"Mentee {number}")
        created = pairing_create(
            program=program, mentor=mentor, mentee=mentee, created_by=program_admin
        )
        return make_active(Agreement.objects.get(pk=created.pk), start=start)

    pair(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for number in range(2, 6):
        pair(number)
    with CaptureQueriesContext(connection) as five:
        response = client.get(url)
    assert len(five) == len(one) <= 5
    series = [e for e in Calendar.from_ical(response.content).walk("VEVENT") if e.get("RRULE")]
    assert len(series) == 5
