"""Calendar months and quarters, each written as its first day.

The program's outcomes keep a row per month (``MonthlyOutcome.month``), the
Outcomes page shows a range of months and closed quarters, and the pair's
promises-kept chart a column per month: they all name a month by the date of
its first day, and count months here.
"""

from __future__ import annotations

import calendar
import datetime


def month_of(day: datetime.date) -> datetime.date:
    """The month of ``day``: its first day."""
    return day.replace(day=1)


def shift_month(day: datetime.date, months: int) -> datetime.date:
    """The month ``months`` after that of ``day`` (before it when negative)."""
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    return datetime.date(year, index + 1, 1)


def months_apart(first: datetime.date, day: datetime.date) -> int:
    """How many months the month of ``day`` comes after that of ``first``:
    0 in the same month, negative before it."""
    return (day.year - first.year) * 12 + day.month - first.month


def month_range(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Every month from that of ``first`` to that of ``last``, both included."""
    return [shift_month(first, n) for n in range(months_apart(first, last) + 1)]


def days_in_month(day: datetime.date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def quarter_of(day: datetime.date) -> datetime.date:
    """The calendar quarter of ``day``: the first day of its first month."""
    return datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_number(day: datetime.date) -> int:
    """Which quarter of its year ``day`` falls in, 1 to 4."""
    return (day.month - 1) // 3 + 1
