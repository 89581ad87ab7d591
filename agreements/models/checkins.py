"""What happened at each check-in: when it was held, how each goal is going,
and whether the agreement still works for each party. Private to the pair."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .sections import Party, long_text


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
        return f"Planned check-in {self.pk}"


class StillWorking(models.TextChoices):
    YES = "yes", "Yes"
    NEEDS_CHANGES = "needs_changes", "It needs changes"


class CheckInRecord(models.Model):
    """A check-in the pair held, recorded against the check-in date it fulfils.

    Keyed by that date rather than by the planned row, so an amendment that
    rewrites the check-in dates keeps the record.
    """

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="checkin_records"
    )
    planned_date = models.DateField("check-in date")
    held_on = models.DateField("date it was held")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    mentor_working = models.CharField(max_length=13, choices=StillWorking.choices, blank=True)
    mentor_note = long_text(blank=True)
    mentor_answered_at = models.DateTimeField(null=True, blank=True)
    mentee_working = models.CharField(max_length=13, choices=StillWorking.choices, blank=True)
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
        return f"Check-in of {self.planned_date:%Y-%m-%d}"

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
        NOT_STARTED = "not_started", "Not started"
        ON_TRACK = "on_track", "On track"
        AT_RISK = "at_risk", "At risk"
        DONE = "done", "Done"

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
        return f"Goal progress {self.pk}"
