"""Reminders: the emails the cron sends before check-ins and the exit
(``Reminder``, one row per email), and a program admin's nudge to a pair
(``RemindersMixin``, a concern of ``Agreement``)."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.exceptions import AlreadyEnded, RemindedRecently

from .audit import AuditEvent

# A program admin reminds a pair at most this often.
PROGRAM_REMINDER_INTERVAL = datetime.timedelta(hours=24)


if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User


class RemindersMixin(models.Model):
    # The last reminder a program admin sent the pair.
    program_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def reminded_recently(self, now):
        """A program admin reminded the pair less than a day ago."""
        last = self.program_reminded_at
        return last is not None and now - last < PROGRAM_REMINDER_INTERVAL

    def remind_by_program(self: Agreement, *, by: User, origin: Origin | None = None) -> Agreement:
        """A program admin nudges the pair: each gets what waits for them.
        What the program does is not the pair's activity: ``last_activity_at``
        stays as it is."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.is_ended:
                raise AlreadyEnded(_("This pairing has ended: there is nothing to remind them of."))
            now = timezone.now()
            if agreement.reminded_recently(now):
                raise RemindedRecently(
                    _(
                        "A reminder already went to this pair in the last 24 hours. "
                        "Give them a little time."
                    )
                )
            agreement.program_reminded_at = now
            agreement.save(update_fields=["program_reminded_at"])
            event = agreement.audit(
                AuditEvent.Kind.PROGRAM_REMINDER, actor=by, origin=origin, at=now
            )
            agreement.tell_both(
                "program_reminder", about=f"audit:{event.pk}", agreement_id=agreement.pk
            )
            return agreement


class Reminder(models.Model):
    """One reminder email, sent once: the unique constraint is the claim.

    ``manage.py send_reminders`` inserts the row and sends the email in one
    transaction, so a second sender, concurrent or later, finds it taken.
    """

    class Kind(models.TextChoices):
        CHECKIN_SOON = "checkin_soon", gettext_lazy("Check-in coming up")
        CHECKIN_OVERDUE = "checkin_overdue", gettext_lazy("Check-in overdue")
        EXIT_SOON = "exit_soon", gettext_lazy("Exit date coming up")
        # A meeting the rhythm planned on ``about`` that neither party logged.
        MEETING_LOG = "meeting_log", gettext_lazy("Meeting to log")
        # A survey opened on ``about``.
        SURVEY_MIDPOINT = "survey_mid", gettext_lazy("Midpoint survey")
        SURVEY_END = "survey_end", gettext_lazy("End-of-term survey")
        # What happened in the pair's discussions on ``about``, for those who
        # chose a daily digest.
        DIGEST = "digest", gettext_lazy("Discussion digest")

    agreement = models.ForeignKey("Agreement", on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=15, choices=Kind.choices)
    about = models.DateField(gettext_lazy("the date it is about"))
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "recipient", "kind", "about"],
                name="agreements_reminder_sent_once",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.about:%Y-%m-%d})"
