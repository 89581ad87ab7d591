"""The two parties of every agreement."""

from django.db import models
from django.utils.translation import gettext_lazy


class Party(models.TextChoices):
    MENTOR = "mentor", gettext_lazy("Mentor")
    MENTEE = "mentee", gettext_lazy("Mentee")

    @property
    def other(self):
        """The other side of the agreement: ``Party(value).other``."""
        return Party.MENTEE if self == Party.MENTOR else Party.MENTOR
