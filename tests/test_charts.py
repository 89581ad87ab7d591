"""The promises-kept chart: month by month, the meetings held against those
the signed rhythm promised less the paused days, the check-ins on time, late,
missed or during a pause, and the goals; drawn as SVG from what the agreement
page prefetched, with a text alternative and a table."""

import datetime

import lxml.html
import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation

from agreements import demo
from agreements.charts import promises_chart
from agreements.models import Agreement, MeetingSchedule, Pause, Section
from tests.helpers import START, fresh

Frequency = MeetingSchedule.Frequency
PARTIAL = "agreements/_promises_chart.html"
day = datetime.date


def loaded(agreement):
    """As ``agreement_for(..., records=True)`` loads it."""
    return Agreement.objects.with_working_copy().with_records().get(pk=agreement.pk)


def rewrite(agreement, kind, change):
    """Save section ``kind`` through the real path, ``change`` doing the edit."""
    working = fresh(agreement)
    revision = working.sections_by_kind[kind].revision
    working.save_section(
        kind, by=working.mentor, expected_revision=revision, save=lambda: change(working)
    )


def in_force(agreement, *, start, frequency, custom="", checkins=()):
    """Signed by both: the term starting on ``start``, meetings every
    ``frequency`` and check-ins on the dates ``checkins`` (else the demo's)."""
    demo.write_all(agreement, by=agreement.mentor, start=start)

    def schedule(working):
        working.schedule.frequency = frequency
        working.schedule.frequency_custom = custom
        working.schedule.save()

    def dates(working):
        working.checkins.all().delete()
        for date in checkins:
            working.checkins.create(date=date)

    rewrite(agreement, Section.Kind.SCHEDULE, schedule)
    if checkins:
        rewrite(agreement, Section.Kind.CHECKINS, dates)
    demo.agree_all(agreement)
    demo.sign_as(agreement, agreement.mentor)
    demo.sign_as(agreement, agreement.mentee)
    assert fresh(agreement).status == Agreement.Status.ACTIVE
    return loaded(agreement)


def log(agreement, held_on, *, then=None):
    """A meeting the mentee logs; ``then`` is "confirm", "decline" or None (pending)."""
    meeting = agreement.log_meeting(
        held_on=held_on, duration_minutes=60, format="video", note="", by=agreement.mentee
    )
    if then == "confirm":
        agreement.confirm_meeting(number=meeting.pk, by=agreement.mentor)
    elif then == "decline":
        agreement.decline_meeting(number=meeting.pk, by=agreement.mentor)
    return meeting


def pause(agreement, starts_on, until, **fields):
    """A pause row as the move writes it: the move itself only pauses from
    today on, and these terms are in the past."""
    return Pause.objects.create(
        agreement=agreement, starts_on=starts_on, until=until, paused_by="mentor", **fields
    )


def record(agreement, planned, held_on, statuses):
    agreement = loaded(agreement)
    goals = agreement.goals_in_force()
    agreement.write_checkin_record(
        planned_date=planned,
        held_on=held_on,
        progress=[(goal, status, "") for goal, status in zip(goals, statuses, strict=True)],
        working="yes",
        note="",
        by=agreement.mentor,
    )


def figures(chart):
    """{month: (held, promised, days paused, (on time, late, missed, paused))}."""
    return {
        f"{month.first:%Y-%m}": (
            month.held,
            month.promised,
            month.paused_days,
            tuple(vars(month.checkins).values()),
        )
        for month in chart.months
    }


# Weekly, from Monday 2 March 2026: promised 5 days in March, 4 in April (2
# of them, the 13th and the 20th, inside the pause of 8 to 21 April) and 3
# in May to the 20th. Check-ins: 20 March held that day, 3 April held a week
# late, 15 April inside the pause, 8 May never held, 19 May still in its
# grace days, 30 June to come.
WEEKLY_START = day(2026, 3, 2)
WEEKLY_TODAY = day(2026, 5, 20)
CHECKINS = [
    day(2026, 3, 20),
    day(2026, 4, 3),
    day(2026, 4, 15),
    day(2026, 5, 8),
    day(2026, 5, 19),
    day(2026, 6, 30),
]


@pytest.fixture
def weekly(agreement):
    weekly = in_force(agreement, start=WEEKLY_START, frequency=Frequency.WEEKLY, checkins=CHECKINS)
    for held_on in (day(2026, 3, 2), day(2026, 3, 9), day(2026, 3, 17), day(2026, 4, 6)):
        log(weekly, held_on, then="confirm")
    log(weekly, day(2026, 4, 14), then="confirm")  # during the pause: held all the same
    log(weekly, day(2026, 5, 4))  # waits for the mentor's word
    log(weekly, day(2026, 5, 11), then="decline")  # "it did not happen"
    pause(weekly, day(2026, 4, 8), day(2026, 4, 21))
    # Called off before it began: nothing of it took place.
    pause(weekly, day(2026, 5, 1), day(2026, 5, 31), cancelled_at=timezone.now())
    record(weekly, day(2026, 3, 20), day(2026, 3, 20), ["on_track", "on_track"])
    record(weekly, day(2026, 4, 3), day(2026, 4, 10), ["done", "at_risk"])
    return loaded(weekly)


def test_weekly_rhythm_month_by_month_with_a_pause(weekly):
    chart = promises_chart(weekly, today=WEEKLY_TODAY, now=timezone.now())
    assert figures(chart) == {
        "2026-03": (3, 5, 0, (1, 0, 0, 0)),
        "2026-04": (2, 2, 14, (0, 1, 0, 1)),
        "2026-05": (0, 3, 0, (0, 0, 1, 0)),
    }
    # The months add up to the sentence.
    assert (chart.kept.held, chart.kept.promised, chart.kept.paused_days) == (5, 10, 14)
    assert chart.sentence == "5 of 10 agreed meetings held since March 2026."
    assert (chart.checkins.on_time, chart.checkins.late) == (1, 1)
    assert (chart.checkins.missed, chart.checkins.paused) == (1, 1)
    assert (chart.goals.achieved, chart.goals.on_track, chart.goals.at_risk) == (1, 0, 1)
    assert chart.goals.not_yet == 0
    assert chart.rhythm and chart.own_words == ""


def test_a_pending_meeting_counts_once_its_objection_days_pass_a_declined_one_never(
    weekly, settings
):
    later = timezone.now() + datetime.timedelta(days=settings.MEETING_OBJECTION_DAYS)
    chart = promises_chart(weekly, today=WEEKLY_TODAY, now=later)
    assert [month.held for month in chart.months] == [3, 2, 1]
    assert chart.kept.held == 6


def test_the_pause_is_drawn_over_its_days_and_each_check_in_on_its_date(weekly):
    chart = promises_chart(weekly, today=WEEKLY_TODAY, now=timezone.now())
    (band,) = chart.pauses
    april = chart.months[1]
    column = chart.months[2].x - april.x
    # 8 to 21 April: from the start of its 8th day to the end of its 21st, of 30.
    assert band.x == pytest.approx(april.x - column / 2 + column * 7 / 30)
    assert band.width == pytest.approx(column * 14 / 30)
    assert [(mark.day, mark.kind) for mark in chart.marks] == [
        (day(2026, 3, 20), "on_time"),
        (day(2026, 4, 3), "late"),
        (day(2026, 4, 15), "paused"),
        (day(2026, 5, 8), "missed"),
    ]
    assert chart.marks[0].x < chart.marks[1].x < band.x < chart.marks[2].x < band.x + band.width
    # The promised bar stands beside the held one, as tall as its count.
    march = chart.months[0]
    assert march.promised_bar.height == pytest.approx(march.held_bar.height * 5 / 3)


def test_after_the_end_the_chart_stops_at_the_last_day_and_nothing_is_left_due(weekly):
    assert weekly.end_if_due(timezone.localdate())  # its exit date, 31 August 2026, is past
    ended = loaded(weekly)
    assert ended.status == Agreement.Status.ENDED
    chart = promises_chart(ended, today=day(2026, 11, 30), now=timezone.now())
    assert [f"{month.first:%Y-%m}" for month in chart.months][-1] == "2026-08"
    assert chart.last == day(2026, 8, 30)
    # Never recorded, and now it cannot be: missed, except the one in the pause.
    assert [(mark.day, mark.kind) for mark in chart.marks][2:] == [
        (day(2026, 4, 15), "paused"),
        (day(2026, 5, 8), "missed"),
        (day(2026, 5, 19), "missed"),
        (day(2026, 6, 30), "missed"),
    ]


def test_monthly_on_the_31st_meets_on_each_months_last_day(agreement):
    monthly = in_force(agreement, start=day(2026, 1, 31), frequency=Frequency.MONTHLY)
    log(monthly, day(2026, 2, 28), then="confirm")
    log(monthly, day(2026, 4, 30), then="confirm")
    chart = promises_chart(loaded(monthly), today=day(2026, 5, 10), now=timezone.now())
    assert [(f"{m.first:%Y-%m}", m.held, m.promised) for m in chart.months] == [
        ("2026-01", 0, 1),
        ("2026-02", 1, 1),
        ("2026-03", 0, 1),
        ("2026-04", 1, 1),
        ("2026-05", 0, 0),
    ]
    assert chart.sentence == "2 of 4 agreed meetings held since January 2026."


def test_a_rhythm_in_the_pairs_own_words_shows_the_meetings_held_only(agreement):
    words = "Whenever one of us needs it, about twice a month"
    custom = in_force(agreement, start=WEEKLY_START, frequency=Frequency.CUSTOM, custom=words)
    log(custom, day(2026, 3, 5), then="confirm")
    log(custom, day(2026, 3, 26), then="confirm")
    log(custom, day(2026, 4, 2), then="confirm")
    chart = promises_chart(loaded(custom), today=day(2026, 4, 10), now=timezone.now())
    assert [(m.held, m.promised, m.promised_bar) for m in chart.months] == [
        (2, None, None),
        (1, None, None),
    ]
    assert not chart.rhythm and chart.own_words == words
    assert chart.sentence == "3 meetings held since March 2026."
    page = lxml.html.fromstring(render_to_string(PARTIAL, {"chart": chart}))
    caption = page.find("figcaption").text_content()
    assert "3 meetings held since March 2026." in caption
    assert "in your own words" in caption and words in caption
    assert "Meetings promised" not in page.text_content()
    assert not page.xpath("//rect[@class='chart-promised']")


def test_no_chart_before_both_signed_or_before_the_term_starts(agreement, ready):
    assert promises_chart(loaded(ready), today=START, now=timezone.now()) is None
    demo.sign_as(ready, ready.mentor)
    demo.sign_as(ready, ready.mentee)
    signed = loaded(ready)
    assert signed.status == Agreement.Status.ACTIVE
    before = START - datetime.timedelta(days=1)
    assert promises_chart(signed, today=before, now=timezone.now()) is None
    assert promises_chart(signed, today=START, now=timezone.now()) is not None


def test_the_chart_renders_an_svg_with_its_text_alternative_and_a_table(weekly):
    chart = promises_chart(weekly, today=WEEKLY_TODAY, now=timezone.now())
    page = lxml.html.fromstring(render_to_string(PARTIAL, {"chart": chart}))
    assert page.tag == "figure"
    assert (
        page.find("figcaption").text_content().split()
        == (
            "5 of 10 agreed meetings held since March 2026. "
            "Paused for 14 days: the meetings they left out are not counted."
        ).split()
    )
    (svg,) = page.xpath("//svg[@role='img']")
    title, desc = (page.get_element_by_id(id) for id in svg.get("aria-labelledby").split())
    assert title.text_content() == "Promises kept, month by month"
    alternative = " ".join(desc.text_content().split())
    for said in (
        "From 2 March 2026 to 20 May 2026.",
        "Meetings held: 5.",
        "Meetings the rhythm promised, outside pauses: 10.",
        "Days paused: 14.",
        "Check-ins on time: 1; late: 1; missed: 1; during a pause: 1.",
        "Goals achieved: 1; on track: 0; at risk: 1.",
    ):
        assert said in alternative
    assert len(svg.xpath(".//rect[@class='chart-held']")) == 3 - 1  # May held none
    assert [text.text for text in svg.xpath(".//text[@class='chart-month']")] == [
        "Mar",
        "Apr",
        "May",
    ]
    rows = [
        [" ".join(cell.text_content().split()) for cell in row.xpath("td")]
        for row in page.xpath("//details/table/tbody/tr")
    ]
    assert rows == [
        ["March 2026", "3", "5", "0", "1 on time"],
        ["April 2026", "2", "2", "14", "1 late, 1 during a pause"],
        ["May 2026", "0", "3", "0", "1 missed"],
    ]
    assert page.xpath("//details/summary")[0].text == "Show as a table"
    # The strict CSP: no style attribute, no script.
    assert not page.xpath("//*[@style]") and not page.xpath("//script")


def test_the_chart_speaks_the_readers_language_and_keeps_its_coordinates(weekly):
    chart = promises_chart(weekly, today=WEEKLY_TODAY, now=timezone.now())
    with translation.override("de"):
        html = render_to_string(PARTIAL, {"chart": chart})
    page = lxml.html.fromstring(html)
    months = [text.text for text in page.xpath("//text[@class='chart-month']")]
    assert months == ["Mär", "Apr", "Mai"]
    # German writes 12,5: an SVG coordinate must stay 12.5.
    for rect in page.xpath("//svg//rect[@x]"):
        float(rect.get("x")), float(rect.get("width"))


def test_the_chart_asks_nothing_of_the_database(weekly, django_assert_num_queries):
    with django_assert_num_queries(0):
        chart = promises_chart(weekly, today=WEEKLY_TODAY, now=timezone.now())
        render_to_string(PARTIAL, {"chart": chart})
