"""What the program's Outcomes page reads, in a few queries: the months
asked for (``Period``) and the figures summed by the database (``Figures``).

Everything is read from metadata the app keeps for it: the agreement row's
dates, goal counts and fading flag, the ``MonthlyOutcome`` rows
(``agreements.models.outcomes``) and the survey answers' numbers. None of it
reads what a pair wrote: a survey's comment is never selected.
"""

from __future__ import annotations

import datetime
import itertools
import re
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import Avg, Case, Count, F, Q, Sum, When
from django.db.models.functions import Least, TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from agreements import dashboard
from agreements.models import Agreement, MonthlyOutcome, Party, SurveyResponse
from agreements.months import month_of, month_range, months_apart, quarter_of, shift_month

# The range shown when none is asked for, and the longest one may ask for.
DEFAULT_MONTHS = 12
MOST_MONTHS = 60

MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


def min_respondents():
    """The fewest people a survey cell may show (never fewer than 5)."""
    return settings.SURVEY_MIN_RESPONDENTS


def midnight(day: datetime.date) -> datetime.datetime:
    """The start of ``day`` where the site is (``TIME_ZONE``): the program's
    months, as on the dashboard."""
    return timezone.make_aware(
        datetime.datetime.combine(day, datetime.time()), timezone.get_default_timezone()
    )


class Period:
    """The months the admin asked for (``?from=YYYY-MM&to=YYYY-MM``, both
    included), the last ``DEFAULT_MONTHS`` by default. Input that cannot be
    used is replaced by the default, and ``error`` says why."""

    def __init__(self, params, today):
        self.current = month_of(today)
        self.first, self.last, self.error = self._read(params)

    def _read(self, params):
        last = self.current
        default = (shift_month(last, 1 - DEFAULT_MONTHS), last)
        asked_first = params.get("from", "").strip()
        asked_last = params.get("to", "").strip()
        if not (asked_first or asked_last):
            return *default, ""
        instead = ngettext(
            "Showing the last %(months)s month instead.",
            "Showing the last %(months)s months instead.",
            DEFAULT_MONTHS,
        ) % {"months": DEFAULT_MONTHS}
        try:
            last = _month(asked_last) if asked_last else last
            first = _month(asked_first) if asked_first else shift_month(last, 1 - DEFAULT_MONTHS)
        except ValueError:
            # Translators: %(example)s is a month written as YYYY-MM.
            error = _("Write each month as YYYY-MM, for example %(example)s.") % {
                "example": f"{self.current:%Y-%m}"
            }
            return *default, f"{error} {instead}"
        if first > last:
            return *default, _("The range starts after it ends.") + f" {instead}"
        if last > self.current:
            return *default, _("The range cannot end after this month.") + f" {instead}"
        if months_apart(first, last) + 1 > MOST_MONTHS:
            error = ngettext(
                "A range covers at most %(months)s month.",
                "A range covers at most %(months)s months.",
                MOST_MONTHS,
            ) % {"months": MOST_MONTHS}
            return *default, f"{error} {instead}"
        return first, last, ""

    @cached_property
    def months(self):
        """The first day of each month, in order."""
        return month_range(self.first, self.last)

    @property
    def start(self):
        return midnight(self.first)

    @property
    def end(self):
        """The start of the month after the last: the range ends before it."""
        return midnight(shift_month(self.last, 1))

    @property
    def quarters(self):
        """The first day of each calendar quarter that overlaps the range and
        is over: the survey cells, each a whole quarter (see the module)."""
        now = quarter_of(self.current)
        quarter = quarter_of(self.first)
        found = []
        while quarter <= self.last and quarter < now:
            found.append(quarter)
            quarter = shift_month(quarter, 3)
        return found

    def query(self):
        return f"from={self.first:%Y-%m}&to={self.last:%Y-%m}"


def _month(text):
    match = MONTH.fullmatch(text)
    if not match:
        raise ValueError(text)
    year, month = int(match[1]), int(match[2])
    if year < 1900 or not 1 <= month <= 12:
        raise ValueError(text)
    return datetime.date(year, month, 1)


def _month_of_field(field):
    """The first day of the month of the datetime ``field``, where the site is."""
    return TruncMonth(
        field, tzinfo=timezone.get_default_timezone(), output_field=models.DateField()
    )


# The figures: four queries ------------------------------------------------------


class Figures:
    """What the charts read of a program over a period, each query run when
    a chart first needs it: the page runs all four, a chart's CSV its own."""

    def __init__(self, program, period):
        self.program, self.period = program, period

    @cached_property
    def pairings(self):
        """One query over the agreement rows, grouped by the months in which
        each pairing was made, put in force and ended (so that it costs the
        same however many months are shown): {status: [how many pairings had
        it at the end of each month]} for "waiting" (not yet in force),
        "active" and "ended"; the goals of those in force at some time in the
        range ("goals", "achieved"); how many pairs are fading now."""
        in_force = Q(activated_at__lt=self.period.end) & (
            Q(ended_at__isnull=True) | Q(ended_at__gte=self.period.start)
        )
        rows = (
            Agreement.objects.filter(program=self.program)
            .values(
                made=_month_of_field("created_at"),
                signed=_month_of_field("activated_at"),
                ended=_month_of_field("ended_at"),
            )
            .annotate(
                pairings=Count("pk"),
                goals=Sum("goals_total", filter=in_force, default=0),
                achieved=Sum("goals_achieved", filter=in_force, default=0),
                fading=Count("pk", filter=dashboard.IS_FADING),
            )
            .order_by()
        )
        months = self.period.months
        # A pairing has a status from the month it came to it until the one
        # it left it: +n at the first, -n at the other, summed up after.
        changes = {status: [0] * (len(months) + 1) for status in ("waiting", "active", "ended")}
        found: dict[str, int | list[int]] = {"goals": 0, "achieved": 0, "fading": 0}
        for row in rows:
            made, signed, ended = (self._index(row[name]) for name in ("made", "signed", "ended"))
            for status, first, stop in (
                ("waiting", made, min(signed, ended)),
                ("active", signed, ended),
                ("ended", ended, len(months)),
            ):
                if first < stop:
                    changes[status][first] += row["pairings"]
                    changes[status][stop] -= row["pairings"]
            for name in found:
                found[name] += row[name]
        for status, steps in changes.items():
            found[status] = list(itertools.accumulate(steps[:-1]))
        return found

    def _index(self, month):
        """Where ``month`` falls among the range's months: 0 before them, and
        after them (or for None, never) their number."""
        months = len(self.period.months)
        if month is None:
            return months
        return min(max(0, months_apart(self.period.first, month)), months)

    @cached_property
    def signings(self):
        """{month: [days from pairing to both signatures]} of the agreements
        put in force in each month of the range."""
        rows = (
            Agreement.objects.filter(
                program=self.program,
                activated_at__gte=self.period.start,
                activated_at__lt=self.period.end,
                signed_after__isnull=False,
            )
            .order_by()
            .values_list(_month_of_field("activated_at"), "signed_after")
        )
        found: dict[datetime.date, list[float]] = {}
        for month, signed_after in rows:
            found.setdefault(month, []).append(signed_after.total_seconds() / 86400)
        return found

    @cached_property
    def kept(self):
        """{month: sums of the program's ``MonthlyOutcome`` rows}. A meeting
        held counts against the promise of its own pair and month only
        (``kept``): a pair meeting more often than agreed does not make up for
        another that did not meet, and a pair whose rhythm is its own words
        has none promised."""
        rows = (
            MonthlyOutcome.objects.filter(
                program=self.program, month__gte=self.period.first, month__lte=self.period.last
            )
            .values("month")
            .annotate(
                promised=Sum("meetings_promised"),
                kept=Sum(Least("meetings_held", "meetings_promised")),
                held=Sum("meetings_held"),
                on_time=Sum("checkins_on_time"),
                late=Sum("checkins_late"),
                missed=Sum("checkins_missed"),
            )
            .order_by("month")
        )
        return {row.pop("month"): row for row in rows}

    @cached_property
    def answers(self):
        """{(quarter, moment): sums} of the survey answers of each closed
        quarter of the range, by moment: the people who answered (someone who
        answered twice, in two pairings, counts once), the average answers and
        the promoters and detractors. Only numbers are selected and summed
        here: no one's answer, and never a comment, leaves the database."""
        quarters = self.period.quarters
        if not quarters:
            return {}
        respondent = Case(
            When(party=Party.MENTOR, then=F("agreement__mentor")),
            default=F("agreement__mentee"),
        )
        rows = (
            SurveyResponse.objects.filter(
                program=self.program,
                answered_at__gte=midnight(quarters[0]),
                answered_at__lt=midnight(shift_month(quarters[-1], 3)),
            )
            .annotate(
                quarter=TruncQuarter(
                    "answered_at",
                    tzinfo=timezone.get_default_timezone(),
                    output_field=models.DateField(),
                )
            )
            .values("quarter", "moment")
            .annotate(
                people=Count(respondent, distinct=True),
                answers=Count("pk"),
                satisfaction=Avg("satisfaction"),
                growth=Avg("growth"),
                promoters=Count("pk", filter=Q(recommend__gte=9)),
                detractors=Count("pk", filter=Q(recommend__lte=6)),
            )
            .order_by()
        )
        return {(row.pop("quarter"), row.pop("moment")): row for row in rows}
