"""The two parties of every agreement."""

from django.db import models


class Party(models.TextChoices):
    MENTOR = "mentor", "Mentor"
    MENTEE = "mentee", "Mentee"

    @property
    def other(self):
        """The other side of the agreement: ``Party(value).other``."""
        return Party.MENTEE if self == Party.MENTOR else Party.MENTOR
