"""The Outcomes page's charts, one builder per chart: which figures it
reads of ``Figures``, its sentence, its drawing (``drawing``) and every
figure in words (``words``), as a ``Chart`` that
``templates/programs/_outcome_chart.html`` draws, and its CSV. ``CHARTS``
names them."""

from __future__ import annotations

import csv
import dataclasses
import io
import statistics

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements.models import Agreement, SurveyResponse
from agreements.templatetags.agreement_tags import mid_sentence

from .drawing import Drawing, draw, scale
from .figures import Figures, min_respondents
from .words import (
    Table,
    by_month,
    csv_value,
    month_names,
    number,
    percent,
    quarter_cell,
    quarter_code,
    quarter_name,
    signed_number,
)


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
    table, rows = by_month(period, [(counts[key], number) for key, _label in series])
    return Chart(
        key="statuses",
        title=_("Pairings by status"),
        sentence=sentence % now,
        drawing=draw(
            month_names(period.months),
            values,
            [f"bar-{key}" for key, _label in series],
            *scale(max(sum(column) for column in values)),
            label=number,
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
        ) % {"count": len(every), "days": number(statistics.median(every), 1)}
    else:
        sentence = _("No agreement was signed in this range.")
    table, rows = by_month(period, [(signed, number), (medians, lambda days: number(days, 1))])
    return Chart(
        key="signing",
        title=_("Median days to sign"),
        sentence=sentence,
        drawing=draw(
            month_names(period.months),
            [[days] for days in medians],
            ["bar-signing"],
            *scale(max(days or 0 for days in medians)),
            label=lambda days: number(days, 1 if 0 < days < 1 else 0),
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
        ) % {"percent": percent(100 * held / promised), "held": held, "promised": promised}
    else:
        sentence = _("No agreed meeting fell in this range.")
    table, rows = by_month(
        period,
        [
            (sums["promised"], number),
            (sums["kept"], number),
            (shares, percent),
            (sums["held"], number),
        ],
    )
    return Chart(
        key="meetings",
        title=_("Agreed meetings held"),
        sentence=sentence,
        drawing=draw(
            month_names(period.months),
            [[share] for share in shares],
            ["bar-meetings"],
            top=100,
            step=50,
            label=percent,
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
            "percent": percent(100 * on_time / total),
            "on_time": on_time,
            "total": total,
            "late": late,
            "missed": missed,
        }
    else:
        sentence = _("No check-in fell due in this range.")
    table, rows = by_month(period, [(counts[key], number) for key, _label in series])
    return Chart(
        key="checkins",
        title=_("Check-ins on time"),
        sentence=sentence,
        drawing=draw(
            month_names(period.months),
            values,
            [f"bar-{key}" for key, _label in series],
            *scale(max(sum(column) for column in values)),
            label=number,
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
        ) % {"achieved": achieved, "goals": goals, "percent": percent(share)}
    else:
        sentence = _("No agreement in force during this range has goals yet.")
    return Chart(
        key="goals",
        title=_("Goals achieved"),
        sentence=sentence,
        share=share,
        table=Table(
            [_("Goals"), _("Achieved"), _("Share achieved")],
            [[number(goals), number(achieved), "—" if share is None else percent(share)]],
        ),
        header=["goals", "achieved", "share_achieved_percent"],
        rows=[[goals, achieved, csv_value(share)]],
    )


def _nps(cell):
    """The net promoter score: the share of 9s and 10s less that of 0 to 6."""
    return round(100 * (cell["promoters"] - cell["detractors"]) / cell["answers"])


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
                    number(cell["people"]),
                    number(cell["satisfaction"], 1),
                    number(cell["growth"], 1),
                    signed_number(cell["nps"]),
                ]
                raw = [
                    cell["people"],
                    round(cell["satisfaction"], 2),
                    round(cell["growth"], 2),
                    cell["nps"],
                ]
            table.append([quarter_cell(quarter), moment.label, *shown])
            rows.append([quarter_code(quarter), moment.value, *raw])
    drawing = None
    if quarters:
        drawing = draw(
            [(quarter_name(quarter), str(quarter.year)) for quarter in quarters],
            [
                [cells.get((quarter, m), {}).get("nps") for m in moments.values]
                for quarter in quarters
            ],
            [f"bar-{moment}" for moment in moments.values],
            top=100,
            step=100,
            bottom=-100,
            stacked=False,
            label=signed_number,
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
                    "quarter": quarter_cell(quarter),
                    "moment": mid_sentence(moment.label),
                    "nps": signed_number(cell["nps"]),
                    "satisfaction": number(cell["satisfaction"], 1),
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
