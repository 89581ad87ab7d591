"""What a program sees of how its pairs are doing, kept as metadata.

The program's Outcomes page charts a program of 10,000 pairings month by
month, so what it reads is kept, not worked out per view: each agreement's
``MonthlyOutcome`` rows (meetings promised and held, days paused, check-ins
on time, late or missed, by month) and three columns on the agreement row
(its goals, how many are achieved, and whether the pair is fading).

``refresh_outcomes()`` rewrites them from the agreement's log, pauses and
check-ins: after each move that changes them (``Agreement.audit`` calls it
for the kinds in ``OUTCOME_KINDS``, in the move's transaction) and daily for
every agreement in force (``end_agreements``), as the days move on. They are
counts and dates only, never what the pair wrote. ``OutcomesMixin`` is a
concern of ``Agreement``.
"""

from __future__ import annotations

import collections
import datetime
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone

from agreements.months import month_of

from .audit import AuditEvent
from .checkins import CheckInOutcome
from .ending import runs_on

if TYPE_CHECKING:
    from .agreement import Agreement

Event = AuditEvent.Kind

# The moves that change what the program's outcomes count.
OUTCOME_KINDS = {
    Event.IN_FORCE,
    Event.CHECKIN_RECORDED,
    Event.NOTICE_GIVEN,
    Event.ENDED,
    Event.MEETING_LOGGED,
    Event.MEETING_CONFIRMED,
    Event.MEETING_CORRECTED,
    Event.MEETING_DECLINED,
    Event.MEETINGS_PAUSED,
    Event.MEETINGS_RESUMED,
}

# A pair is fading when it held fewer than half the meetings its rhythm
# promised over this many days.
FADING_DAYS = 60

# Agreements refreshed per query batch by the daily refresh.
BATCH = 500


class OutcomesMixin(models.Model):
    # The goals in force, and those whose latest check-in marked them done.
    goals_total = models.PositiveSmallIntegerField(default=0, editable=False)
    goals_achieved = models.PositiveSmallIntegerField(default=0, editable=False)
    # Active and held fewer than half the meetings promised in FADING_DAYS.
    fading = models.BooleanField(default=False, editable=False)
    outcomes_as_of = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def refresh_outcomes(self: Agreement, today: datetime.date | None = None):
        """Rewrite this agreement's outcomes as of ``today`` (the site's
        date), read again with what they count, in the caller's transaction
        (a move's, which holds the row lock)."""
        agreements = type(self)._default_manager.filter(pk=self.pk).with_outcome_inputs()
        _write_outcomes(list(agreements), today or timezone.localdate())

    def outcome_figures(self: Agreement, today: datetime.date, now: datetime.datetime):
        """([MonthlyOutcome fields by month], {column: value}) from the
        prefetched content in force, check-in records, meetings and pauses
        (``with_outcome_inputs``)."""
        plan = self.content_in_force
        goals = self.goals_in_force() if plan is not None else []
        achieved = self.achieved_goal_ids()
        columns = {
            "goals_total": len(goals),
            "goals_achieved": sum(1 for goal in goals if goal.pk in achieved),
            "fading": False,
        }
        promise = self._promise(today, now)
        if promise is None:
            return [], columns
        first, last = promise.first, promise.last
        months: dict[datetime.date, collections.Counter] = collections.defaultdict(
            collections.Counter
        )
        for day in promise.promised:
            months[month_of(day)]["meetings_promised"] += 1
        for day in promise.held:
            months[month_of(day)]["meetings_held"] += 1
        for pause in promise.pauses:
            for offset in range(pause.days_between(first, last)):
                day = max(first, pause.starts_on) + datetime.timedelta(days=offset)
                months[month_of(day)]["paused_days"] += 1
        for day, outcome in self.checkin_outcomes(today):
            if outcome != CheckInOutcome.PAUSED and first <= day <= last:
                months[month_of(day)][f"checkins_{outcome}"] += 1
        columns["fading"] = self._is_fading(today, promise.promised)
        return [{"month": month, **counts} for month, counts in sorted(months.items())], columns

    def _is_fading(self: Agreement, today: datetime.date, promised: list[datetime.date]) -> bool:
        """Active, and fewer than half the meetings promised in the
        FADING_DAYS before today held. Today's meeting is not due yet, and a
        meeting logged counts as held until the other party says it did not
        happen: the program asks whether pairs meet, not whether they confirm."""
        if self.status != self.Status.ACTIVE or not runs_on(today, self.end_date):
            return False
        since = today - datetime.timedelta(days=FADING_DAYS)
        window = [day for day in promised if since <= day < today]
        held = sum(
            1
            for meeting in self.meetings.all()
            if meeting.status != meeting.Status.DECLINED and since <= meeting.held_on < today
        )
        return bool(window) and 2 * held < len(window)


def _write_outcomes(agreements, today: datetime.date) -> None:
    """Rewrite the outcomes of ``agreements`` (loaded ``with_outcome_inputs``,
    their rows locked by the caller): three statements whatever their number."""
    now = timezone.now()
    rows, changed = [], []
    for agreement in agreements:
        months, columns = agreement.outcome_figures(today, now)
        rows += [
            MonthlyOutcome(agreement_id=agreement.pk, program_id=agreement.program_id, **fields)
            for fields in months
        ]
        for name, value in {**columns, "outcomes_as_of": today}.items():
            setattr(agreement, name, value)
        changed.append(agreement)
    MonthlyOutcome.objects.filter(agreement__in=[a.pk for a in agreements]).delete()
    MonthlyOutcome.objects.bulk_create(rows)
    if changed:
        type(changed[0])._default_manager.bulk_update(
            changed, ["goals_total", "goals_achieved", "fading", "outcomes_as_of"]
        )


def refresh_all_outcomes(agreements, today: datetime.date) -> int:
    """Refresh the outcomes of ``agreements`` (a queryset) as of ``today``,
    ``BATCH`` at a time, each in a transaction of its own that locks its rows
    in order first, as a move does: a move on one of them waits, or is
    waited for, and its own refresh is never overwritten by figures read
    before it. Returns how many."""
    pks = list(agreements.order_by("pk").values_list("pk", flat=True))
    manager = agreements.model._default_manager
    for start in range(0, len(pks), BATCH):
        with transaction.atomic():
            batch = manager.filter(pk__in=pks[start : start + BATCH]).order_by("pk")
            list(batch.select_for_update(of=("self",)).values_list("pk"))
            _write_outcomes(list(batch.with_outcome_inputs()), today)
    return len(pks)


class MonthlyOutcome(models.Model):
    """One month of one agreement in force, as counts: what the program's
    Outcomes page sums by month."""

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="monthly_outcomes"
    )
    # The agreement's program, so the page sums a program's months off one index.
    program = models.ForeignKey("Program", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # its first day
    meetings_promised = models.PositiveIntegerField(default=0)
    meetings_held = models.PositiveIntegerField(default=0)
    paused_days = models.PositiveIntegerField(default=0)
    checkins_on_time = models.PositiveIntegerField(default=0)
    checkins_late = models.PositiveIntegerField(default=0)
    checkins_missed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["agreement", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "month"], name="agreements_monthlyoutcome_one_per_month"
            ),
        ]
        indexes = [models.Index(fields=["program", "month"], name="monthly_outcome_by_month")]

    def __str__(self):
        return f"{self.month:%Y-%m}"
