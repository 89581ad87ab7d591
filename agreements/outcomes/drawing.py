"""The drawing of an Outcomes chart of columns, in SVG user units: where each
bar, number, name and line of the scale goes, for
``templates/programs/_outcome_chart.html`` to draw. Coordinates are floats,
for ``|stringformat:".1f"`` (never localised); the words on it (the names of
the columns, the numbers) are written by the caller.

The pair's promises-kept chart (``agreements.charts``) names its months as
these charts do: ``names_shown``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence

# About one user unit per CSS pixel on a phone.
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


def scale(largest, *, steps=4):
    """(top, step): a round top for the axis at or above ``largest``, in at
    most ``steps`` round steps."""
    for exponent in range(12):
        for multiple in (1, 2, 5):
            step = multiple * 10**exponent
            if math.ceil(largest / step) <= steps:
                return step * max(1, math.ceil(largest / step)), step
    return largest, largest


def names_shown(years: Sequence[object], every: int) -> list[tuple[bool, bool]]:
    """[(name shown, year shown)] of columns of ``years``, in order: the name
    of every ``every``th column from the first, and the year under the first
    name shown of each year."""
    shown, last_year = [], None
    for index, year in enumerate(years):
        named = index % every == 0
        shown.append((named, named and year != last_year))
        if named:
            last_year = year
    return shown


def draw(names, values, series, top, step, *, label: Callable, bottom=0, stacked=True):
    """One column per name, ``names`` [(name, year or "")]; ``values`` a list
    per column of a number (None: nothing) for each of the css classes
    ``series``; a scale from ``bottom`` to ``top`` by ``step``, its numbers
    and each column's total (stacked, when there is room) written by
    ``label``."""
    column = (RIGHT - LEFT) / len(names)
    unit = (BASE_Y - TOP_Y) / (top - bottom)

    def y(value):
        return BASE_Y - (value - bottom) * unit

    width = min(column * 0.7, 30) if stacked else min(column * 0.8 / len(series), 16)
    # Every other name (or fewer) when there are many, or when they are long
    # (Arabic writes each month's name in full).
    longest = max(len(name) for name, _year in names) * NAME_CHARACTER
    every = max(math.ceil(len(names) / MOST_NAMES), math.ceil(longest / column))
    shown = names_shown([year for _name, year in names], every)
    columns = []
    for index, ((name, year), numbers, (named, year_shown)) in enumerate(
        zip(names, values, shown, strict=True)
    ):
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
                written = label(value) if width >= SIDE_VALUES_FROM else ""
                below = top_y + height + 10 if value < 0 else top_y - 3
                segments.append(Segment(css, x, top_y, width, height, written, below))
        totalled = stacked and column >= VALUES_FROM and any(v is not None for v in numbers)
        columns.append(
            Column(
                x=centre,
                segments=segments,
                name=name if named else "",
                year=year if year_shown else "",
                value=label(total) if totalled else "",
                value_y=y(total) - 3,
            )
        )
    ticks = [
        Tick(y(bottom + n * step), label(bottom + n * step))
        for n in range(round((top - bottom) / step) + 1)
    ]
    return Drawing(columns=columns, ticks=ticks, zero_y=y(0))
