import uuid

from django.conf import settings
from django.db import models


class ProgramQuerySet(models.QuerySet):
    def administered_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(admins=user)


class Program(models.Model):
    """A mentoring program (a workplace scheme, a university cohort...)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="administered_programs", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ProgramQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
