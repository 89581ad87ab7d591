"""How a mentoring relationship closes: each party's closing note."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from .sections import Party, long_text


class ClosingNote(models.Model):
    class StayInTouch(models.TextChoices):
        YES = "yes", "Yes, I'd like to stay in touch"
        MAYBE = "maybe", "Maybe, now and then"
        NO = "no", "No, this is a good place to stop"

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="closing_notes"
    )
    party = models.CharField(max_length=6, choices=Party.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    achieved = long_text("what we achieved", blank=True)
    stay_in_touch = models.CharField(
        "stay in touch?", max_length=5, choices=StayInTouch.choices, blank=True
    )
    how_to_reach = long_text(
        "how to stay in touch",
        blank=True,
        help_text="Optional: a personal email, a profile, a yearly coffee.",
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-party"]  # the mentor's first
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"], name="agreements_closingnote_one_per_party"
            ),
        ]

    def __str__(self):
        return f"Closing note of the {self.get_party_display().lower()}"

    def is_empty(self):
        return not (self.achieved or self.stay_in_touch or self.how_to_reach)
