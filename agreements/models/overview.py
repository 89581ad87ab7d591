"""What the program's dashboard shows of each pairing, kept on the agreement row.

Working these out reads the parties' names, the signatures, the check-in dates in force (or the
draft's) and the check-ins held: correlated subqueries that cost a program
of 50,000 pairings seconds if the page runs them for every row it sorts,
filters or skips. So they are columns, which the dashboard sorts, filters and
pages on through indexes, and ``refresh_overview()`` keeps them true:

- every move of the agreement refreshes its row, in the move's transaction
  (``Agreement.audit``: each move writes its audit entry there);
- two of them depend on the date (the next check-in, and which check-ins are
  overdue), so ``end_agreements``, run daily from cron, refreshes every row for
  the new day, and a dashboard shown before that does it for its program
  (``Program.overview_as_of`` says the day a program was last refreshed).
  The dashboard runs on the site's date (``TIME_ZONE``), the program's day,
  whatever the time zone of the admin who looks.

They are metadata: dates, counts and who signed, never what the pair wrote.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OrderBy,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from .checkins import CheckInRecord, PlannedCheckIn
from .pauses import Pause
from .sections import CheckIn, Term
from .signatures import Signature
from .versions import AgreementVersion

# Refreshing a whole program updates this many rows per statement, so a row
# lock is never held long against a move of that pairing.
BATCH = 2000


class EmptyLastIndex(models.Index):
    """An index whose ``OrderBy(..., nulls_last=True)`` expressions say where
    empty values go (the dashboard sorts empty dates last either way).
    SQLite refuses NULLS LAST in an index; its descending order puts empty
    values last anyway, so there the index is made without it."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor != "sqlite":
            return super().create_sql(model, schema_editor, using, **kwargs)
        expressions = [
            OrderBy(e.expression, descending=e.descending) if isinstance(e, OrderBy) else e
            for e in self.expressions
        ]
        plain = models.Index(
            *expressions,
            name=self.name,
            condition=self.condition,
            include=self.include,
            db_tablespace=self.db_tablespace,
        )
        return plain.create_sql(model, schema_editor, using, **kwargs)


class OverviewMixin(models.Model):
    """The dashboard's columns of a pairing; see the module's docstring."""

    # The parties' names, which the dashboard sorts on (``User.save`` keeps them).
    mentor_name = models.CharField(max_length=150, blank=True, editable=False)
    mentee_name = models.CharField(max_length=150, blank=True, editable=False)
    # The dates in force once signed, the draft's before; the end is the day
    # the program ended it, the end of a notice, or the exit date.
    start_on = models.DateField(null=True, blank=True, editable=False)
    exit_on = models.DateField(null=True, blank=True, editable=False)
    # As of ``overview_as_of``: the first check-in on or after that day, and
    # the check-ins in force not held CHECKIN_OVERDUE_AFTER_DAYS after their
    # date (unless a pause covers it).
    next_checkin = models.DateField(null=True, blank=True, editable=False)
    checkins_overdue = models.PositiveIntegerField(default=0, editable=False)
    checkins_held = models.PositiveIntegerField(default=0, editable=False)
    # Signatures on the version being signed or in force (not voided ones).
    mentor_signed = models.BooleanField(default=False, editable=False)
    mentee_signed = models.BooleanField(default=False, editable=False)
    # From pairing to both signatures, once signed: the summary's median
    # days to sign reads the middle of its index.
    signed_after = models.DurationField(null=True, blank=True, editable=False)
    # The order of ``status`` in ``Status``: drafts first, ended last.
    status_order = models.PositiveSmallIntegerField(default=0, editable=False)
    overview_as_of = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def refresh_overview(self):
        """Refresh this row's columns as of today: one UPDATE, in the caller's
        transaction (a move's, which holds the row lock)."""
        model = type(self)
        model._default_manager.filter(pk=self.pk).update(
            **overview_columns(model, timezone.localdate())
        )


def _first_upcoming(checkins, today):
    return Subquery(checkins.filter(date__gte=today).order_by("date").values("date")[:1])


def _count(queryset):
    """A correlated COUNT(*) subquery of ``queryset``, 0 when empty."""
    counted = queryset.order_by().values("agreement").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _signed(party):
    return Exists(
        Signature.objects.filter(
            agreement=OuterRef("pk"),
            party=party,
            voided_at__isnull=True,
            version__status__in=[AgreementVersion.Status.PENDING, AgreementVersion.Status.IN_FORCE],
        )
    )


def overview_columns(model, today):
    """{column: expression} for ``QuerySet.update()``: every column of
    ``OverviewMixin`` as of ``today``."""
    Status = model.Status
    overdue_before = today - datetime.timedelta(days=settings.CHECKIN_OVERDUE_AFTER_DAYS)
    in_force = PlannedCheckIn.objects.filter(agreement=OuterRef("pk"))
    drafted = CheckIn.objects.filter(agreement=OuterRef("pk"))
    held = CheckInRecord.objects.filter(
        agreement=OuterRef("agreement"), planned_date=OuterRef("date")
    )
    paused = Pause.objects.filter(
        Q(until__isnull=True) | Q(until__gte=OuterRef("date")),
        agreement=OuterRef("agreement"),
        starts_on__lte=OuterRef("date"),
        cancelled_at__isnull=True,
    )
    term = Term.objects.filter(agreement=OuterRef("pk"))
    signed_once = Q(activated_at__isnull=False)
    users = get_user_model()._default_manager
    return {
        "mentor_name": Subquery(users.filter(pk=OuterRef("mentor")).values("full_name")[:1]),
        "mentee_name": Subquery(users.filter(pk=OuterRef("mentee")).values("full_name")[:1]),
        "start_on": Case(
            When(signed_once, then=F("start_in_force")),
            default=Subquery(term.values("start_date")[:1]),
        ),
        "exit_on": Case(
            When(
                end_reason=model.EndReason.BY_PROGRAM,
                then=TruncDate("ended_at", tzinfo=timezone.get_default_timezone()),
            ),
            When(ends_on__isnull=False, then=F("ends_on")),
            When(signed_once, then=F("exit_in_force")),
            default=Subquery(term.values("exit_date")[:1]),
            output_field=models.DateField(),
        ),
        "next_checkin": Case(
            When(status=Status.ENDED, then=Value(None)),
            When(signed_once, then=_first_upcoming(in_force, today)),
            default=_first_upcoming(drafted, today),
            output_field=models.DateField(),
        ),
        "checkins_held": _count(CheckInRecord.objects.filter(agreement=OuterRef("pk"))),
        "checkins_overdue": _count(
            in_force.filter(date__lt=overdue_before).filter(~Exists(held), ~Exists(paused))
        ),
        "mentor_signed": _signed("mentor"),
        "mentee_signed": _signed("mentee"),
        "signed_after": ExpressionWrapper(
            F("activated_at") - F("created_at"), output_field=models.DurationField()
        ),
        "status_order": Case(
            *(When(status=value, then=Value(i)) for i, value in enumerate(Status.values)),
            output_field=models.PositiveSmallIntegerField(),
        ),
        "overview_as_of": Value(today),
    }


class OverviewQuerySet(models.QuerySet):
    def refresh_overview(self, today=None):
        """Refresh the dashboard's columns of these rows as of ``today`` (by
        default the date where the site is, ``TIME_ZONE``); returns how many.

        ``BATCH`` rows at a time, each batch in a transaction of its own that
        locks its rows in order first: the UPDATE then reads what a move on
        one of them committed meanwhile (an UPDATE that only waited for the
        row would read the signatures and check-ins as they were before that
        move), and no row stays locked for longer than its batch.
        """
        today = today or timezone.localdate()
        model = self.model
        pks = list(self.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(pks), BATCH):
            with transaction.atomic():
                batch = model._default_manager.filter(pk__in=pks[start : start + BATCH])
                list(batch.select_for_update(of=("self",)).order_by("pk").values_list("pk"))
                batch.update(**overview_columns(model, today))
        return len(pks)
