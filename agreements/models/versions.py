"""Signed versions of an agreement and the sealed PDF of each."""

import json

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property

from .snapshot import AgreementContent


def _pdf_path(version, filename):
    return f"agreements/{version.agreement.uuid}/version-{version.number}-{filename}"


class AgreementVersion(models.Model):
    """The agreement's content frozen when its first signature was made.

    ``content`` holds the exact canonical JSON both signatures stand on and
    ``content_hash`` its SHA-256. A version is pending until the second
    signature puts it in force; an edit before that voids it. An amendment
    put in force supersedes the version before it.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting the second signature"
        IN_FORCE = "in_force", "In force"
        SUPERSEDED = "superseded", "Superseded by an amendment"
        VOID = "void", "Void: changed before both had signed"

    agreement = models.ForeignKey("Agreement", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    content = models.TextField("canonical content")
    content_hash = models.CharField("SHA-256 of the canonical content", max_length=64)
    frozen_at = models.DateTimeField(default=timezone.now)
    in_force_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    voided_at = models.DateTimeField(null=True, blank=True)

    # The signed PDF: rendered once, sealed, then served byte for byte.
    pdf = models.FileField(upload_to=_pdf_path, blank=True)
    # The rendering, kept until it is sealed so a retry seals the same bytes.
    unsealed_pdf = models.FileField(upload_to=_pdf_path, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    sealed_at = models.DateTimeField(null=True, blank=True)
    seal_timestamped = models.BooleanField(default=False)
    seal_attempts = models.PositiveSmallIntegerField(default=0)
    seal_error = models.CharField(max_length=300, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["agreement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="agreements_agreementversion_unique_number"
            ),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status="pending"),
                name="agreements_agreementversion_one_pending",
            ),
            models.UniqueConstraint(
                fields=["agreement"],
                condition=Q(status="in_force"),
                name="agreements_agreementversion_one_in_force",
            ),
            models.UniqueConstraint(
                fields=["content_hash"],
                condition=~Q(status="void"),
                name="agreements_agreementversion_unique_hash",
            ),
        ]

    def __str__(self):
        return f"Version {self.number}"

    @cached_property
    def data(self):
        return json.loads(self.content)

    def as_content(self):
        return AgreementContent.frozen(self.data)

    @property
    def is_signed(self):
        return self.status in {self.Status.IN_FORCE, self.Status.SUPERSEDED}

    @property
    def is_sealed(self):
        return bool(self.sealed_at and self.pdf)
