"""How the Outcomes charts write their figures: in the page's language for
their sentences, the names on their axes and the ``Table`` under each (every
figure in words), and as plain values for their CSV, the same in every
language."""

from __future__ import annotations

import dataclasses

from django.utils import formats
from django.utils.translation import gettext as _

from agreements.months import quarter_number


def number(value, decimals=0):
    return "" if value is None else formats.number_format(value, decimals)


def percent(share):
    # Translators: a percentage, e.g. "83%"; %(number)s is the number.
    return _("%(number)s%%") % {"number": formats.number_format(round(share))}


def signed_number(value):
    """``value`` with its sign, "+" too: a net promoter score."""
    text = formats.number_format(value)
    return f"+{text}" if value > 0 else text


def csv_value(value):
    if value is None:
        return ""
    return round(value, 1) if isinstance(value, float) else value


def month_names(months):
    """[(short name, year)] of ``months``; ``drawing.draw`` writes each year once."""
    return [(formats.date_format(month, "M"), str(month.year)) for month in months]


def month_cell(month, period):
    name = formats.date_format(month, "YEAR_MONTH_FORMAT")
    if month == period.current:
        # Translators: a month still under way, e.g. "March 2026 (so far)".
        return _("%(month)s (so far)") % {"month": name}
    return name


def quarter_code(quarter):
    """The CSV's name of a quarter: 2025-Q1."""
    return f"{quarter.year}-Q{quarter_number(quarter)}"


def quarter_name(quarter):
    # Translators: a calendar quarter as a chart names it: Q1 is January to March.
    return _("Q%(number)s") % {"number": quarter_number(quarter)}


def quarter_cell(quarter):
    # Translators: a calendar quarter, e.g. "Q1 2025".
    return _("Q%(number)s %(year)s") % {
        "number": quarter_number(quarter),
        "year": quarter.year,
    }


@dataclasses.dataclass(frozen=True)
class Table:
    headers: list  # the first column's cells head their rows
    rows: list  # of lists of strings

    @property
    def labelled(self):
        """Each row as [(its column's header, cell)]: a narrow screen shows
        the cells as cards, each under its header."""
        return [list(zip(self.headers, row, strict=True)) for row in self.rows]


def by_month(period, columns):
    """(the table's rows, the CSV's) of a chart by month: ``columns`` is
    [(a value per month, how the table writes one)]; the table writes no
    value as "—", the CSV as an empty cell."""
    table, rows = [], []
    for n, month in enumerate(period.months):
        values = [values[n] for values, _write in columns]
        table.append(
            [
                month_cell(month, period),
                *(
                    "—" if v is None else write(v)
                    for v, (_values, write) in zip(values, columns, strict=True)
                ),
            ]
        )
        rows.append([f"{month:%Y-%m}", *(csv_value(value) for value in values)])
    return table, rows
