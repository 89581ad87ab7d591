"""Charts the pair and the program read at a glance, drawn on the server as SVG.

``promises_chart`` gives the promises-kept chart of an agreement: month by
month from the start of the term to today, the meetings held against those
the signed rhythm promised, the days paused, the check-ins on time, late,
missed or during a pause, and how the goals stand. The monthly meeting
figures are those the program's outcomes count (``outcome_figures``), so the
pair and the program read the same numbers. Everything comes from what
``agreement_for(..., records=True)`` prefetched: no query.

``templates/agreements/_promises_chart.html`` renders it as ``chart``, a
``PromisesChart``:

- ``chart.kept``: the ``MeetingsKept`` (``held``, ``promised`` or None,
  ``paused_days``, ``since``); ``chart.sentence``: its sentence, the caption.
- ``chart.rhythm``: True when the signed rhythm is counted (weekly,
  fortnightly, monthly); else ``chart.own_words`` holds the pair's words for
  it ("" when the schedule names no rhythm) and only held meetings show.
- ``chart.months``: [``Month``], the figures (``first``: the month's first
  day; ``held``, ``promised`` (None without a rhythm), ``paused_days``, and
  ``checkins``: a ``CheckInCounts``) and the drawing (``x``: its centre,
  ``held_bar`` and ``promised_bar``: a ``Bar`` (``x``, ``y``, ``width``,
  ``height``, ``middle``) or None, ``show_name``, ``show_year``).
- ``chart.pauses``: [``Band``] (``x``, ``width``), the paused days, hatched.
- ``chart.marks``: [``Mark``] (``x``, ``kind``: one of ``CheckInOutcome``,
  ``day``), one per check-in, on its date.
- ``chart.checkins``: the ``CheckInCounts`` (``on_time``, ``late``,
  ``missed``, ``paused``) of the whole term so far; a check-in still within
  its grace days is in none of them yet.
- ``chart.goals``: ``GoalCounts`` (``achieved``, ``on_track``,
  ``at_risk``, ``not_yet``: not started or not reviewed yet).
- ``chart.show_values``: room for each bar's number above it.

The SVG's user units are those of ``WIDTH`` and the ``*_Y`` constants;
coordinates are floats, for ``|stringformat:".1f"`` (never localised).
"""

from __future__ import annotations

import dataclasses
import datetime
import math

from agreements.models import GoalProgress, MeetingSchedule
from agreements.models.meetings import MeetingsKept
from agreements.months import days_in_month, month_of, month_range, months_apart
from agreements.outcomes.drawing import MOST_NAMES, names_shown

Frequency = MeetingSchedule.Frequency

# The drawing, in SVG user units: about one per CSS pixel on a phone.
WIDTH = 360
HEIGHT = 218
LEFT, RIGHT = 8, WIDTH - 8
PLOT_TOP_Y = 28  # the top of the meetings' area (a pause's band starts here)
TALLEST_Y = 44  # the top of the tallest bar, under its number
BASE_Y = 140  # the axis the bars stand on
HEADING_Y = 14  # "Meetings"
NAME_Y = 155  # the months' names
YEAR_Y = 168
TRACK_HEADING_Y = 186  # "Check-ins"
TRACK_Y = 204  # the line the check-ins sit on
TRACK_HALF = 10  # a pause's band on the check-ins' line: this far above and below
MARK = 12  # a check-in's mark, square


@dataclasses.dataclass
class CheckInCounts:
    on_time: int = 0
    late: int = 0
    missed: int = 0
    paused: int = 0

    def add(self, kind):
        setattr(self, kind, getattr(self, kind) + 1)

    def known(self):
        """[(CheckInOutcome, count)] of the kinds there are, in order."""
        counts = [(field.name, getattr(self, field.name)) for field in dataclasses.fields(self)]
        return [(kind, count) for kind, count in counts if count]


@dataclasses.dataclass(frozen=True)
class GoalCounts:
    achieved: int
    on_track: int
    at_risk: int
    not_yet: int

    @property
    def total(self):
        return self.achieved + self.on_track + self.at_risk + self.not_yet


@dataclasses.dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float

    @property
    def middle(self):
        return self.x + self.width / 2

    @property
    def label_y(self):
        """Where its number goes, above it."""
        return self.y - 3


@dataclasses.dataclass(frozen=True)
class Band:
    x: float
    width: float


@dataclasses.dataclass(frozen=True)
class Mark:
    x: float
    kind: str
    day: datetime.date

    @property
    def corner(self):
        return self.x - MARK / 2


@dataclasses.dataclass
class Month:
    first: datetime.date  # its first day
    held: int = 0
    promised: int | None = None
    paused_days: int = 0
    checkins: CheckInCounts = dataclasses.field(default_factory=CheckInCounts)
    x: float = 0.0
    held_bar: Bar | None = None
    promised_bar: Bar | None = None
    show_name: bool = True
    show_year: bool = False


@dataclasses.dataclass(frozen=True)
class PromisesChart:
    kept: MeetingsKept
    last: datetime.date  # the last day counted: today, or the term's last day
    rhythm: bool
    own_words: str
    months: list
    pauses: list
    marks: list
    checkins: CheckInCounts
    goals: GoalCounts
    show_values: bool
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = RIGHT
    heading_y: int = HEADING_Y
    plot_top_y: int = PLOT_TOP_Y
    base_y: int = BASE_Y
    name_y: int = NAME_Y
    year_y: int = YEAR_Y
    track_heading_y: int = TRACK_HEADING_Y
    track_y: int = TRACK_Y
    mark: int = MARK

    @property
    def sentence(self):
        return self.kept.sentence()

    @property
    def track_band_y(self):
        return TRACK_Y - TRACK_HALF

    @property
    def track_band_height(self):
        return 2 * TRACK_HALF

    @property
    def mark_y(self):
        return TRACK_Y - MARK / 2

    @property
    def plot_height(self):
        return BASE_Y - PLOT_TOP_Y


def promises_chart(agreement, *, today, now):
    """The promises-kept chart of ``agreement`` on ``today`` (meetings count
    as of ``now``), or None before a version is in force or the term starts."""
    kept = agreement.meetings_kept(today, now)
    if kept is None:
        return None
    schedule = agreement.content_in_force.schedule
    # The days meetings_kept counts: to today, or to the last day of the term.
    first, last = kept.since, agreement.last_counted_day(today)
    rhythm = kept.promised is not None
    checkins = [
        (day, kind) for day, kind in agreement.checkin_outcomes(today) if first <= day <= last
    ]
    months = _months(agreement, first, last, today=today, now=now, rhythm=rhythm)
    totals = CheckInCounts()
    for day, kind in checkins:
        months[month_of(day)].checkins.add(kind)
        totals.add(kind)
    months = list(months.values())
    drawing = _Drawing(months, rhythm=rhythm)
    return PromisesChart(
        kept=kept,
        last=last,
        rhythm=rhythm,
        own_words=schedule.frequency_custom if schedule.frequency == Frequency.CUSTOM else "",
        months=months,
        pauses=[
            drawing.band(max(first, pause.starts_on), min(last, pause.until or last))
            for pause in agreement.pauses_kept()
            if pause.days_between(first, last)
        ],
        marks=[Mark(drawing.at(day), kind, day) for day, kind in checkins],
        checkins=totals,
        goals=_goal_counts(agreement),
        show_values=drawing.column >= 18,
    )


def _months(agreement, first, last, *, today, now, rhythm):
    """{first day: Month} from the month of ``first`` to that of ``last``:
    the meetings held, those the rhythm promised and the days paused, as the
    program's outcomes count them."""
    figures = {row["month"]: row for row in agreement.outcome_figures(today, now)[0]}
    months = {}
    for month in month_range(first, last):
        row = figures.get(month, {})
        months[month] = Month(
            first=month,
            held=row.get("meetings_held", 0),
            promised=row.get("meetings_promised", 0) if rhythm else None,
            paused_days=row.get("paused_days", 0),
        )
    return months


def _goal_counts(agreement):
    """How the goals in force stand at their latest check-in."""
    latest = agreement.goal_statuses()
    statuses = [
        latest[goal.pk].status if goal.pk in latest else None for goal in agreement.goals_in_force()
    ]
    Status = GoalProgress.Status
    return GoalCounts(
        achieved=statuses.count(Status.DONE),
        on_track=statuses.count(Status.ON_TRACK),
        at_risk=statuses.count(Status.AT_RISK),
        not_yet=sum(status in {None, Status.NOT_STARTED} for status in statuses),
    )


class _Drawing:
    """Where each month, bar, band and mark goes: one column per month, a
    day's place in it in proportion to its date."""

    def __init__(self, months, *, rhythm):
        self.first = months[0].first
        self.column = (RIGHT - LEFT) / len(months)
        tallest = max([1] + [m.held for m in months] + [m.promised or 0 for m in months])
        self.unit = (BASE_Y - TALLEST_Y) / tallest
        bar = min(self.column * (0.36 if rhythm else 0.5), 24 if rhythm else 28)
        # The months named as on the program's Outcomes charts.
        shown = names_shown([m.first.year for m in months], math.ceil(len(months) / MOST_NAMES))
        for index, (month, (show_name, show_year)) in enumerate(zip(months, shown, strict=True)):
            month.x = LEFT + self.column * (index + 0.5)
            month.show_name, month.show_year = show_name, show_year
            if rhythm:
                month.promised_bar = self._bar(month.x - bar - 1, bar, month.promised)
                month.held_bar = self._bar(month.x + 1, bar, month.held)
            else:
                month.held_bar = self._bar(month.x - bar / 2, bar, month.held)

    def _bar(self, x, width, value):
        height = value * self.unit
        return Bar(x=x, y=BASE_Y - height, width=width, height=height)

    def _edge(self, day):
        """The x of the start of ``day``."""
        index = months_apart(self.first, day)
        return LEFT + self.column * (index + (day.day - 1) / days_in_month(day))

    def at(self, day):
        """The x of the middle of ``day``."""
        return (self._edge(day) + self._edge(day + datetime.timedelta(days=1))) / 2

    def band(self, start, stop):
        """From the start of ``start`` to the end of ``stop``."""
        x = self._edge(start)
        return Band(x=x, width=self._edge(stop + datetime.timedelta(days=1)) - x)
