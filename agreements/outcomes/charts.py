"""The Outcomes page's charts, drawn from ``Figures`` as ``Chart`` objects
that ``templates/programs/_outcome_chart.html`` draws, and their CSV.
``CHARTS`` names them."""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import statistics

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements.models import Agreement, SurveyResponse
from agreements.templatetags.agreement_tags import mid_sentence

from .figures import Figures, min_respondents

# The drawing of a chart of columns, in SVG user units: about one per CSS
# pixel on a phone. Coordinates are floats, for ``|stringformat:".1f"``.
WIDTH = 360
HEIGHT = 184
LEFT, RIGHT = 38, WIDTH - 6  # the plot; the axis's numbers end left of it
TOP_Y = 12
BASE_Y = 146
NAME_Y = 161
YEAR_Y = 175
MOST_NAMES = 12  # more columns than this: every other name (or fewer)
NAME_CHARACTER = 6.5  # about the width of a character of a name
VALUES_FROM = 24  # columns at least this wide have their number above them
SIDE_VALUES_FROM = 12  # and bars side by side at least this wide


def _percent(share):
    # Translators: a percentage, e.g. "83%"; %(number)s is the number.
    return _("%(number)s%%") % {"number": formats.number_format(round(share))}


def _number(value, decimals=0):
    return "" if value is None else formats.number_format(value, decimals)


@dataclasses.dataclass(frozen=True)
class Segment:
    css: str
    x: float
    y: float
    width: float
    height: float
    value: str = ""  # side by side: its number, above it (under it when below 0)
    value_y: float = 0.0

    @property
    def middle(self):
        return self.x + self.width / 2


@dataclasses.dataclass(frozen=True)
class Column:
    x: float  # its centre
    segments: list
    name: str  # "" where names are left out for room
    year: str  # under the first name shown of each year, else ""
    value: str  # its total above it, "" for none
    value_y: float


@dataclasses.dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclasses.dataclass(frozen=True)
class Drawing:
    """Columns of bars over a scale: segments stacked, or side by side from
    the zero line (``zero_y``, in the middle when the scale goes below 0)."""

    columns: list
    ticks: list
    zero_y: float
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = RIGHT
    name_y: int = NAME_Y
    year_y: int = YEAR_Y
    tick_x: int = LEFT - 4


@dataclasses.dataclass(frozen=True)
class Table:
    headers: list  # the first column's cells head their rows
    rows: list  # of lists of strings

    @property
    def labelled(self):
        """Each row as [(its column's header, cell)]: a narrow screen shows
        the cells as cards, each under its header."""
        return [list(zip(self.headers, row, strict=True)) for row in self.rows]


@dataclasses.dataclass
class Chart:
    """One figure of the page, and its CSV.

    ``key``: its CSV's name and its elements' ids; ``title``; ``sentence``:
    its headline, the caption; ``drawing``: a ``Drawing``, or None (nothing
    to draw, or ``share`` draws it); ``share``: a single share as one bar,
    its percentage (0 to 100); ``legend``: [(css class, label)] of the
    drawing's series, and ``note`` under it; ``table``: every figure in
    words; ``table_open``: the table shows without a click; ``header`` and
    ``rows``: the CSV's.
    """

    key: str
    title: str
    sentence: str
    table: Table
    header: list
    rows: list
    drawing: Drawing | None = None
    share: float | None = None
    legend: list = dataclasses.field(default_factory=list)
    note: str = ""
    table_open: bool = False


def _scale(largest, *, steps=4):
    """(top, step): a round top for the axis at or above ``largest``, in at
    most ``steps`` round steps."""
    for exponent in range(12):
        for multiple in (1, 2, 5):
            step = multiple * 10**exponent
            if math.ceil(largest / step) <= steps:
                return step * max(1, math.ceil(largest / step)), step
    return largest, largest


def _draw(names, values, series, top, step, *, bottom=0, stacked=True, label=_number):
    """One column per name, ``names`` [(name, year or "")]; ``values`` a list
    per column of a number (None: nothing) for each of the css classes
    ``series``; a scale from ``bottom`` to ``top`` by ``step``, its numbers
    and each column's total (stacked, when there is room) by ``label``."""
    column = (RIGHT - LEFT) / len(names)
    unit = (BASE_Y - TOP_Y) / (top - bottom)

    def y(value):
        return BASE_Y - (value - bottom) * unit

    width = min(column * 0.7, 30) if stacked else min(column * 0.8 / len(series), 16)
    # Every other name (or fewer) when there are many, or when they are long
    # (Arabic writes each month's name in full).
    longest = max(len(name) for name, _year in names) * NAME_CHARACTER
    every = max(math.ceil(len(names) / MOST_NAMES), math.ceil(longest / column))
    columns, last_year = [], None
    for index, ((name, year), numbers) in enumerate(zip(names, values, strict=True)):
        centre = LEFT + column * (index + 0.5)
        segments, total = [], 0
        for position, (css, value) in enumerate(zip(series, numbers, strict=True)):
            if value is None or (stacked and not value):
                continue
            if stacked:
                x = centre - width / 2
                segments.append(Segment(css, x, y(total + value), width, value * unit))
                total += value
            else:
                x = centre + (position - len(series) / 2) * width
                # A score of 0 is a sliver on the line, not nothing.
                height = max(abs(value) * unit, 1.5)
                top_y = y(0) - height / 2 if not value else min(y(0), y(value))
                shown = label(value) if width >= SIDE_VALUES_FROM else ""
                below = top_y + height + 10 if value < 0 else top_y - 3
                segments.append(Segment(css, x, top_y, width, height, shown, below))
        named = index % every == 0
        if named and year != last_year:
            last_year = year
        else:
            year = ""
        shown = stacked and column >= VALUES_FROM and any(v is not None for v in numbers)
        columns.append(
            Column(
                x=centre,
                segments=segments,
                name=name if named else "",
                year=year,
                value=label(total) if shown else "",
                value_y=y(total) - 3,
            )
        )
    ticks = [
        Tick(y(bottom + n * step), label(bottom + n * step))
        for n in range(round((top - bottom) / step) + 1)
    ]
    return Drawing(columns=columns, ticks=ticks, zero_y=y(0))


def _month_names(months):
    """[(short name, year)] of ``months``; ``_draw`` writes each year once."""
    return [(formats.date_format(month, "M"), str(month.year)) for month in months]


def _month_cell(month, period):
    name = formats.date_format(month, "YEAR_MONTH_FORMAT")
    if month == period.current:
        # Translators: a month still under way, e.g. "March 2026 (so far)".
        return _("%(month)s (so far)") % {"month": name}
    return name


def _quarter_code(quarter):
    """The CSV's name of a quarter: 2025-Q1."""
    return f"{quarter.year}-Q{(quarter.month - 1) // 3 + 1}"


def _quarter_name(quarter):
    # Translators: a calendar quarter as a chart names it: Q1 is January to March.
    return _("Q%(number)s") % {"number": (quarter.month - 1) // 3 + 1}


def _quarter_cell(quarter):
    # Translators: a calendar quarter, e.g. "Q1 2025".
    return _("Q%(number)s %(year)s") % {
        "number": (quarter.month - 1) // 3 + 1,
        "year": quarter.year,
    }


def _by_month(period, columns):
    """(the table's rows, the CSV's) of a chart by month: ``columns`` is
    [(a value per month, how the table writes one)]; the table writes no
    value as "—", the CSV as an empty cell."""
    table, rows = [], []
    for n, month in enumerate(period.months):
        values = [values[n] for values, _write in columns]
        table.append(
            [
                _month_cell(month, period),
                *(
                    "—" if v is None else write(v)
                    for v, (_, write) in zip(values, columns, strict=True)
                ),
            ]
        )
        rows.append([f"{month:%Y-%m}", *(_raw(value) for value in values)])
    return table, rows


def _raw(value):
    if value is None:
        return ""
    return round(value, 1) if isinstance(value, float) else value


def _statuses(figures):
    period, counts = figures.period, figures.pairings
    Status = Agreement.Status
    # Stacked from the axis up: in force, not yet, ended.
    series = [
        ("active", Status.ACTIVE.label),
        ("waiting", _("Not yet in force")),
        ("ended", Status.ENDED.label),
    ]
    values = [list(column) for column in zip(*(counts[key] for key, _label in series), strict=True)]
    now = {key: counts[key][-1] for key, _label in series}
    if period.last == period.current:
        sentence = _("Today: %(active)s active, %(waiting)s not yet in force, %(ended)s ended.")
    else:
        now["month"] = formats.date_format(period.last, "YEAR_MONTH_FORMAT")
        sentence = _(
            "At the end of %(month)s: %(active)s active, %(waiting)s not yet in force, "
            "%(ended)s ended."
        )
    table, rows = _by_month(period, [(counts[key], _number) for key, _label in series])
    return Chart(
        key="statuses",
        title=_("Pairings by status"),
        sentence=sentence % now,
        drawing=_draw(
            _month_names(period.months),
            values,
            [f"bar-{key}" for key, _label in series],
            *_scale(max(sum(column) for column in values)),
        ),
        legend=[(f"bar-{key}", label) for key, label in series],
        table=Table([_("At the end of"), *(label for _key, label in series)], table),
        header=["month", "active", "not_yet_in_force", "ended"],
        rows=rows,
    )


def _signing(figures):
    period, signings = figures.period, figures.signings
    signed = [len(signings.get(month, [])) for month in period.months]
    medians = [
        statistics.median(signings[month]) if month in signings else None for month in period.months
    ]
    every = [days for month in period.months for days in signings.get(month, [])]
    if every:
        sentence = ngettext(
            "%(count)s agreement signed in this range, a median of %(days)s days after pairing.",
            "%(count)s agreements signed in this range, a median of %(days)s days after pairing.",
            len(every),
        ) % {"count": len(every), "days": _number(statistics.median(every), 1)}
    else:
        sentence = _("No agreement was signed in this range.")
    table, rows = _by_month(period, [(signed, _number), (medians, lambda days: _number(days, 1))])
    return Chart(
        key="signing",
        title=_("Median days to sign"),
        sentence=sentence,
        drawing=_draw(
            _month_names(period.months),
            [[days] for days in medians],
            ["bar-signing"],
            *_scale(max(days or 0 for days in medians)),
            label=lambda days: _number(days, 1 if 0 < days < 1 else 0),
        ),
        table=Table([_("Signed in"), _("Agreements signed"), _("Median days from pairing")], table),
        header=["month", "agreements_signed", "median_days_to_sign"],
        rows=rows,
    )


def _meetings(figures):
    period, kept = figures.period, figures.kept
    sums = {
        name: [kept.get(month, {}).get(name, 0) for month in period.months]
        for name in ("promised", "kept", "held")
    }
    shares = [
        100 * held / promised if promised else None
        for held, promised in zip(sums["kept"], sums["promised"], strict=True)
    ]
    promised, held = sum(sums["promised"]), sum(sums["kept"])
    if promised:
        sentence = _(
            "%(percent)s of the agreed meetings were held in this range: %(held)s of %(promised)s."
        ) % {"percent": _percent(100 * held / promised), "held": held, "promised": promised}
    else:
        sentence = _("No agreed meeting fell in this range.")
    table, rows = _by_month(
        period,
        [
            (sums["promised"], _number),
            (sums["kept"], _number),
            (shares, _percent),
            (sums["held"], _number),
        ],
    )
    return Chart(
        key="meetings",
        title=_("Agreed meetings held"),
        sentence=sentence,
        drawing=_draw(
            _month_names(period.months),
            [[share] for share in shares],
            ["bar-meetings"],
            top=100,
            step=50,
            label=_percent,
        ),
        table=Table(
            [
                _("Month"),
                _("Meetings agreed"),
                _("Held, of those agreed"),
                _("Share held"),
                _("All meetings held"),
            ],
            table,
        ),
        header=[
            "month",
            "meetings_agreed",
            "held_of_agreed",
            "share_held_percent",
            "all_meetings_held",
        ],
        rows=rows,
    )


def _checkins(figures):
    period, kept = figures.period, figures.kept
    series = [("on_time", _("On time")), ("late", _("Late")), ("missed", _("Missed"))]
    counts = {
        key: [kept.get(month, {}).get(key, 0) for month in period.months] for key, _label in series
    }
    values = [list(column) for column in zip(*counts.values(), strict=True)]
    on_time, late, missed = (sum(counts[key]) for key, _label in series)
    total = on_time + late + missed
    if total:
        sentence = _(
            "%(percent)s of the check-ins due in this range were held on time: %(on_time)s of "
            "%(total)s (%(late)s late, %(missed)s missed)."
        ) % {
            "percent": _percent(100 * on_time / total),
            "on_time": on_time,
            "total": total,
            "late": late,
            "missed": missed,
        }
    else:
        sentence = _("No check-in fell due in this range.")
    table, rows = _by_month(period, [(counts[key], _number) for key, _label in series])
    return Chart(
        key="checkins",
        title=_("Check-ins on time"),
        sentence=sentence,
        drawing=_draw(
            _month_names(period.months),
            values,
            [f"bar-{key}" for key, _label in series],
            *_scale(max(sum(column) for column in values)),
        ),
        legend=[(f"bar-{key}", label) for key, label in series],
        table=Table([_("Month"), *(label for _key, label in series)], table),
        header=["month", "on_time", "late", "missed"],
        rows=rows,
    )


def _goals(figures):
    goals, achieved = figures.pairings["goals"], figures.pairings["achieved"]
    share = 100 * achieved / goals if goals else None
    if goals:
        sentence = ngettext(
            "%(achieved)s of %(goals)s goal achieved (%(percent)s), in the agreements in force "
            "during this range.",
            "%(achieved)s of %(goals)s goals achieved (%(percent)s), in the agreements in force "
            "during this range.",
            goals,
        ) % {"achieved": achieved, "goals": goals, "percent": _percent(share)}
    else:
        sentence = _("No agreement in force during this range has goals yet.")
    return Chart(
        key="goals",
        title=_("Goals achieved"),
        sentence=sentence,
        share=share,
        table=Table(
            [_("Goals"), _("Achieved"), _("Share achieved")],
            [[_number(goals), _number(achieved), "—" if share is None else _percent(share)]],
        ),
        header=["goals", "achieved", "share_achieved_percent"],
        rows=[[goals, achieved, _raw(share)]],
    )


def _nps(cell):
    """The net promoter score: the share of 9s and 10s less that of 0 to 6."""
    return round(100 * (cell["promoters"] - cell["detractors"]) / cell["answers"])


def _signed(number):
    text = formats.number_format(number)
    return f"+{text}" if number > 0 else text


def _surveys(figures):
    quarters, moments = figures.period.quarters, SurveyResponse.Moment
    fewest = min_respondents()
    # Cells of fewer people are dropped here, before anything is shown of them.
    cells = {
        key: {**cell, "nps": _nps(cell)}
        for key, cell in figures.answers.items()
        if cell["people"] >= fewest
    }
    too_few = [_("too few answers"), "", "", ""]
    # In the file, the same in every language: fewer than that many people.
    too_few_raw = [f"<{fewest}", "", "", ""]
    table, rows = [], []
    for quarter in quarters:
        for moment in moments:
            cell = cells.get((quarter, moment.value))
            if cell is None:
                shown, raw = too_few, too_few_raw
            else:
                shown = [
                    _number(cell["people"]),
                    _number(cell["satisfaction"], 1),
                    _number(cell["growth"], 1),
                    _signed(cell["nps"]),
                ]
                raw = [
                    cell["people"],
                    round(cell["satisfaction"], 2),
                    round(cell["growth"], 2),
                    cell["nps"],
                ]
            table.append([_quarter_cell(quarter), moment.label, *shown])
            rows.append([_quarter_code(quarter), moment.value, *raw])
    drawing = None
    if quarters:
        drawing = _draw(
            [(_quarter_name(quarter), str(quarter.year)) for quarter in quarters],
            [
                [cells.get((quarter, m), {}).get("nps") for m in moments.values]
                for quarter in quarters
            ],
            [f"bar-{moment}" for moment in moments.values],
            top=100,
            step=100,
            bottom=-100,
            stacked=False,
            label=_signed,
        )
    return Chart(
        key="surveys",
        title=_("Surveys and net promoter score"),
        sentence=_survey_sentence(quarters, cells, fewest),
        drawing=drawing,
        legend=[(f"bar-{moment.value}", moment.label) for moment in moments],
        note=ngettext(
            "No bar: fewer than %(count)s person answered that survey in that quarter.",
            "No bar: fewer than %(count)s people answered that survey in that quarter.",
            fewest,
        )
        % {"count": fewest},
        table=Table(
            [
                _("Quarter"),
                _("Survey"),
                _("People who answered"),
                _("Satisfaction (1 to 5)"),
                _("Helping them grow (1 to 5)"),
                _("Net promoter score"),
            ],
            table,
        ),
        table_open=True,
        header=[
            "quarter",
            "survey",
            "respondents",
            "satisfaction_average",
            "growth_average",
            "net_promoter_score",
        ],
        rows=rows,
    )


def _survey_sentence(quarters, cells, fewest):
    """The newest cell shown, the end of the term's before the midpoint's."""
    if not quarters:
        return _("No quarter of this range is over yet: answers show once their quarter is over.")
    for quarter in reversed(quarters):
        for moment in reversed(SurveyResponse.Moment):
            cell = cells.get((quarter, moment.value))
            if cell is not None:
                return ngettext(
                    "%(quarter)s, %(moment)s: a net promoter score of %(nps)s and an average "
                    "satisfaction of %(satisfaction)s out of 5, from %(people)s person.",
                    "%(quarter)s, %(moment)s: a net promoter score of %(nps)s and an average "
                    "satisfaction of %(satisfaction)s out of 5, from %(people)s people.",
                    cell["people"],
                ) % {
                    "quarter": _quarter_cell(quarter),
                    "moment": mid_sentence(moment.label),
                    "nps": _signed(cell["nps"]),
                    "satisfaction": _number(cell["satisfaction"], 1),
                    "people": cell["people"],
                }
    return ngettext(
        "No survey has enough answers to show yet: a quarter's answers show once at least "
        "%(count)s person gave them.",
        "No survey has enough answers to show yet: a quarter's answers show once at least "
        "%(count)s people gave them.",
        fewest,
    ) % {"count": fewest}


# What the page and the CSV call ---------------------------------------------------

CHARTS = {
    "statuses": _statuses,
    "signing": _signing,
    "meetings": _meetings,
    "checkins": _checkins,
    "goals": _goals,
    "surveys": _surveys,
}


def page(program, period):
    """({key: ``Chart``} of every chart, how many pairs are fading now): four
    queries."""
    figures = Figures(program, period)
    charts = {key: build(figures) for key, build in CHARTS.items()}
    return charts, figures.pairings["fading"]


def chart_csv(program, period, key):
    """The CSV of the chart ``key`` (one of ``CHARTS``): only its own query.
    Its column names stay as they are in every language: a file format, like
    the dashboard's export."""
    chart = CHARTS[key](Figures(program, period))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(chart.header)
    writer.writerows(chart.rows)
    return out.getvalue()
