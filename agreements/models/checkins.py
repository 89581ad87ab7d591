"""Check-ins: the dated meetings of the agreement in force.

Each check-in in force is upcoming, due, overdue, held or cancelled; a held
one has a record of when it was held, how each goal is going, and whether
the agreement still works for each party. What the pair writes is private
to the pair. ``CheckInsMixin`` is a concern of ``Agreement``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from agreements import content
from agreements.exceptions import CheckInInvalid

from .audit import AuditEvent
from .ending import runs_on
from .parties import Party
from .text import long_text

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .sections import Goal
    from .users import User


class CheckInState:
    UPCOMING = "upcoming"
    DUE = "due"  # its day has come: it can be recorded
    OVERDUE = "overdue"
    HELD = "held"
    CANCELLED = "cancelled"  # not held, and now it cannot be: the agreement ends first
    PAUSED = "paused"  # not held, and its date falls in a pause: never overdue


class CheckInOutcome:
    """How a check-in went, once that is known."""

    ON_TIME = "on_time"  # held within CHECKIN_OVERDUE_AFTER_DAYS of its date
    LATE = "late"
    MISSED = "missed"  # overdue, or never held before the agreement ended
    PAUSED = "paused"  # its date fell in a pause: never counted against the pair


class CheckInsMixin(models.Model):
    class Meta:
        abstract = True

    # Reading ----------------------------------------------------------------

    def goals_in_force(self):
        """The goal rows both signed: during an amendment, draft goals are left out."""
        goals = list(self.goals.all())
        if not self.is_amending:
            return goals
        signed = [content.normalise(goal.as_data()) for goal in self.content_in_force.goals]
        return [goal for goal in goals if content.normalise(goal.as_data()) in signed]

    def goal_statuses(self):
        """{goal id: latest GoalProgress} from the prefetched check-in records."""
        latest = {}
        for record in sorted(self.checkin_records.all(), key=lambda r: r.held_on):
            for progress in record.progress.all():
                if progress.goal_id:
                    latest[progress.goal_id] = progress
        return latest

    def achieved_goal_ids(self):
        """The goals whose latest check-in marked them done."""
        return {
            goal_id
            for goal_id, progress in self.goal_statuses().items()
            if progress.status == GoalProgress.Status.DONE
        }

    def checkin_timeline(self, today):
        """[(check-in, record or None, state)] for the check-ins in force,
        from the prefetched records and pauses."""
        if self.content_in_force is None:
            return []
        records = {record.planned_date: record for record in self.checkin_records.all()}
        grace = datetime.timedelta(days=settings.CHECKIN_OVERDUE_AFTER_DAYS)
        end = self.end_date
        timeline = []
        for checkin in self.content_in_force.checkins:
            record = records.get(checkin.date)
            if record:
                state = CheckInState.HELD
            elif self.is_ended or not runs_on(checkin.date, end):
                state = CheckInState.CANCELLED
            elif self.paused_on(checkin.date):
                state = CheckInState.PAUSED
            elif checkin.date > today:
                state = CheckInState.UPCOMING
            elif today > checkin.date + grace:
                state = CheckInState.OVERDUE
            else:
                state = CheckInState.DUE
            timeline.append((checkin, record, state))
        return timeline

    def checkin_outcomes(self, today):
        """[(date, CheckInOutcome)] of the check-ins in force while the
        agreement ran whose outcome is known on ``today``: one still due, or
        within its grace days, is not in it yet."""
        grace = datetime.timedelta(days=settings.CHECKIN_OVERDUE_AFTER_DAYS)
        end = self.end_date
        outcomes = []
        for checkin, record, state in self.checkin_timeline(today):
            day = checkin.date
            if day > today:
                # Recorded already where the recorder's day is ahead of this one.
                continue
            if state == CheckInState.HELD:
                late = record.held_on > day + grace
                outcomes.append((day, CheckInOutcome.LATE if late else CheckInOutcome.ON_TIME))
            elif state == CheckInState.PAUSED:
                outcomes.append((day, CheckInOutcome.PAUSED))
            elif state == CheckInState.OVERDUE:
                outcomes.append((day, CheckInOutcome.MISSED))
            elif state == CheckInState.CANCELLED and runs_on(day, end):
                # The agreement ended before anyone recorded it.
                paused = self.paused_on(day)
                outcomes.append((day, CheckInOutcome.PAUSED if paused else CheckInOutcome.MISSED))
        return outcomes

    def checkin_summary(self, today):
        """(held, overdue) counts: all a program admin learns of the check-ins."""
        states = [state for _checkin, _record, state in self.checkin_timeline(today)]
        return states.count(CheckInState.HELD), states.count(CheckInState.OVERDUE)

    def checkins_to_record(self, today):
        if self.status != self.Status.ACTIVE:
            return []
        return [
            checkin
            for checkin, _record, state in self.checkin_timeline(today)
            if state in {CheckInState.DUE, CheckInState.OVERDUE}
        ]

    def next_checkin_date(self, today):
        return next(
            (
                checkin.date
                for checkin, _record, state in self.checkin_timeline(today)
                if state == CheckInState.UPCOMING
            ),
            None,
        )

    def _checkins_todo(self, user):
        """Check-ins the user should record or answer."""
        party = self.party_of(user)
        todo = []
        for checkin, record, state in self.checkin_timeline(user.today()):
            when = {"date": date_format(checkin.date, "SHORT_DATE_FORMAT")}
            if state == CheckInState.OVERDUE:
                todo.append(_("Record the check-in of %(date)s (overdue)") % when)
            elif state == CheckInState.DUE:
                todo.append(_("Record the check-in of %(date)s") % when)
            elif record and not record.answer_of(party)[0]:
                todo.append(
                    _("Answer “still working for you?” for the check-in of %(date)s") % when
                )
        return todo

    # Moves ------------------------------------------------------------------

    def write_checkin_record(
        self: Agreement,
        *,
        planned_date: datetime.date,
        held_on: datetime.date,
        progress: list[tuple[Goal, str, str]],
        working: str,
        note: str,
        by: User,
        origin: Origin | None = None,
    ) -> CheckInRecord:
        """Record a check-in held on or after its date.

        ``progress`` is [(goal, status, note)] for the goals in force; the
        recorder also gives their own answer to "still working for you?".
        """
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Check-ins are recorded only on an Active agreement."))
            today = by.today()
            dates = {checkin.date for checkin in agreement.content_in_force.checkins}
            if planned_date not in dates:
                raise CheckInInvalid(_("The agreement has no check-in on that date."))
            if planned_date > today:
                raise CheckInInvalid(
                    _("A check-in can be recorded on or after its date, not before.")
                )
            if held_on > today:
                raise CheckInInvalid(_("The date it was held cannot be in the future."))
            if agreement.checkin_records.filter(planned_date=planned_date).exists():
                raise CheckInInvalid(_("This check-in was already recorded."))
            goals = {goal.pk for goal in agreement.goals_in_force()}
            if {goal.pk for goal, _status, _note in progress} != goals:
                raise CheckInInvalid(
                    _("The goals changed while you were filling in the form. Open it again.")
                )
            party = agreement.party_of(by)
            now = timezone.now()
            record = CheckInRecord.objects.create(
                agreement=agreement,
                planned_date=planned_date,
                held_on=held_on,
                recorded_by=by,
                recorded_at=now,
                **{
                    f"{party}_working": working,
                    f"{party}_note": note,
                    f"{party}_answered_at": now,
                },
            )
            GoalProgress.objects.bulk_create(
                GoalProgress(
                    record=record,
                    goal=goal,
                    goal_description=goal.description,
                    status=status,
                    note=goal_note,
                )
                for goal, status, goal_note in progress
            )
            # Dates only: what the pair wrote stays out of the trail's details.
            agreement._finish(
                Event.CHECKIN_RECORDED,
                by=by,
                origin=origin,
                at=now,
                details={"planned_date": planned_date, "held_on": held_on, "party": party},
            )
            return record

    def answer_checkin(
        self: Agreement,
        *,
        planned_date: datetime.date,
        working: str,
        note: str,
        by: User,
        origin: Origin | None = None,
    ) -> None:
        """A party's own answer to "is this agreement still working for you?"."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Check-ins are answered only on an Active agreement."))
            record = agreement.checkin_records.filter(planned_date=planned_date).first()
            if record is None:
                raise CheckInInvalid(_("This check-in has not been recorded yet."))
            party = agreement.party_of(by)
            now = timezone.now()
            setattr(record, f"{party}_working", working)
            setattr(record, f"{party}_note", note)
            setattr(record, f"{party}_answered_at", now)
            record.save(update_fields=[f"{party}_working", f"{party}_note", f"{party}_answered_at"])
            agreement._finish(
                Event.CHECKIN_ANSWERED,
                by=by,
                origin=origin,
                at=now,
                details={"planned_date": planned_date, "party": party},
            )


class PlannedCheckIn(models.Model):
    """A check-in date of the version in force, kept as metadata the program's
    dashboard can query (the ``CheckIn`` rows are the working copy, which an
    amendment changes before anyone has signed it). Rewritten each time a
    version goes in force."""

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="planned_checkins"
    )
    date = models.DateField()

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "date"], name="agreements_plannedcheckin_one_per_date"
            ),
        ]

    def __str__(self):
        return _("Planned check-in %(id)s") % {"id": self.pk}


class StillWorking(models.TextChoices):
    YES = "yes", gettext_lazy("Yes")
    NEEDS_CHANGES = "needs_changes", gettext_lazy("It needs changes")


class CheckInRecord(models.Model):
    """A check-in the pair held, recorded against the check-in date it fulfils.

    Keyed by that date rather than by the planned row, so an amendment that
    rewrites the check-in dates keeps the record.
    """

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="checkin_records"
    )
    planned_date = models.DateField(gettext_lazy("check-in date"))
    held_on = models.DateField(gettext_lazy("date it was held"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    mentor_working = models.CharField(max_length=13, choices=StillWorking, blank=True)
    mentor_note = long_text(blank=True)
    mentor_answered_at = models.DateTimeField(null=True, blank=True)
    mentee_working = models.CharField(max_length=13, choices=StillWorking, blank=True)
    mentee_note = long_text(blank=True)
    mentee_answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["planned_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "planned_date"], name="agreements_checkinrecord_one_per_date"
            ),
            models.CheckConstraint(
                condition=Q(mentor_working="") | Q(mentor_answered_at__isnull=False),
                name="agreements_checkinrecord_mentor_answer_dated",
            ),
            models.CheckConstraint(
                condition=Q(mentee_working="") | Q(mentee_answered_at__isnull=False),
                name="agreements_checkinrecord_mentee_answer_dated",
            ),
        ]

    def __str__(self):
        # Notes never go into __str__: the Django admin and logs show it.
        return _("Check-in of %(date)s") % {"date": f"{self.planned_date:%Y-%m-%d}"}

    def answer_of(self, party):
        """(answer, note) of one party; the answer is "" until they give it."""
        return getattr(self, f"{party}_working"), getattr(self, f"{party}_note")

    def answers(self):
        """[(party label, answer label or "", note)], the mentor's first."""
        return [
            (label, StillWorking(answer).label if answer else "", note)
            for party, label in Party.choices
            for answer, note in [self.answer_of(party)]
        ]

    def needs_changes(self):
        return any(self.answer_of(party)[0] == StillWorking.NEEDS_CHANGES for party in Party.values)


class GoalProgress(models.Model):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", gettext_lazy("Not started")
        ON_TRACK = "on_track", gettext_lazy("On track")
        AT_RISK = "at_risk", gettext_lazy("At risk")
        DONE = "done", pgettext_lazy("goal progress", "Done")

    record = models.ForeignKey(CheckInRecord, on_delete=models.CASCADE, related_name="progress")
    # SET_NULL: an amendment may drop the goal; what was said about it stays.
    goal = models.ForeignKey(
        "Goal", on_delete=models.SET_NULL, null=True, blank=True, related_name="progress"
    )
    goal_description = long_text()
    status = models.CharField(max_length=11, choices=Status.choices)
    note = long_text(blank=True)

    class Meta:
        ordering = ["record", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["record", "goal"], name="agreements_goalprogress_one_per_goal"
            ),
        ]

    def __str__(self):
        return _("Goal progress %(id)s") % {"id": self.pk}
