from django.conf import settings
from django.db import models
from django.utils import timezone


class Reminder(models.Model):
    """One reminder email, sent once: the unique constraint is the claim.

    ``manage.py send_reminders`` inserts the row and sends the email in one
    transaction, so a second sender, concurrent or later, finds it taken.
    """

    class Kind(models.TextChoices):
        CHECKIN_SOON = "checkin_soon", "Check-in coming up"
        CHECKIN_OVERDUE = "checkin_overdue", "Check-in overdue"
        EXIT_SOON = "exit_soon", "Exit date coming up"

    agreement = models.ForeignKey("Agreement", on_delete=models.CASCADE, related_name="reminders")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=15, choices=Kind.choices)
    about = models.DateField("the date it is about")
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
