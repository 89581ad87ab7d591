"""Signed versions of an agreement and the sealed PDF of each."""

import hashlib
import json

from django.core.files.base import ContentFile
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from agreements.storage import remove_leftovers

from .audit import AuditEvent
from .effects import Effect
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
        PENDING = "pending", gettext_lazy("Awaiting the second signature")
        IN_FORCE = "in_force", pgettext_lazy("a version", "In force")
        SUPERSEDED = "superseded", gettext_lazy("Superseded by an amendment")
        VOID = "void", gettext_lazy("Void: changed before both had signed")

    # The versions both signed: the one in force and those it replaced.
    SIGNED = (Status.IN_FORCE, Status.SUPERSEDED)

    agreement = models.ForeignKey("Agreement", on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    canonical_json = models.TextField(gettext_lazy("canonical content"))
    content_hash = models.CharField(gettext_lazy("SHA-256 of the canonical content"), max_length=64)
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
        return _("Version %(number)s") % {"number": self.number}

    @cached_property
    def data(self):
        return json.loads(self.canonical_json)

    def as_content(self):
        return AgreementContent.frozen(self.data)

    @property
    def is_signed(self):
        return self.status in self.SIGNED

    @property
    def is_sealed(self):
        return bool(self.sealed_at and self.pdf)

    @property
    def seal_key(self):
        return f"seal:version:{self.pk}"

    @cached_property
    def seal_failed(self):
        """Sealing was tried ``EFFECT_MAX_ATTEMPTS`` times and failed: the
        operators see why in the admin, and try it again."""
        failed = Effect.objects.filter(key=self.seal_key, state=Effect.State.FAILED)
        return not self.is_sealed and failed.exists()

    def has_rendering(self):
        field = self.unsealed_pdf
        return bool(field) and field.storage.exists(field.name)

    def keep_rendering(self, rendered):
        """Store the rendering once, so every retry seals the same bytes."""
        with transaction.atomic():
            version = AgreementVersion.objects.select_for_update().get(pk=self.pk)
            if not (version.has_rendering() or version.is_sealed):
                remove_leftovers(version.unsealed_pdf.storage, _pdf_path(version, "unsealed"))
                version.unsealed_pdf.save("unsealed.pdf", ContentFile(rendered), save=True)
            return version

    def store_sealed(self, sealed, *, timestamped):
        """Keep the sealed PDF, record it, and promise each party the notice
        that it is ready; once, however often a worker gets here."""
        agreement_model = self._meta.get_field("agreement").related_model
        with transaction.atomic():
            # The agreement first, as every move locks it: its trail is appended.
            agreement = agreement_model.objects.select_for_update().get(pk=self.agreement_id)
            version = AgreementVersion.objects.select_for_update().get(pk=self.pk)
            if version.is_sealed:
                return version
            digest = hashlib.sha256(sealed).hexdigest()
            remove_leftovers(version.pdf.storage, _pdf_path(version, "sealed-"))
            # The storage writes the whole file or nothing under this name.
            version.pdf.save(f"sealed-{digest[:12]}.pdf", ContentFile(sealed), save=False)
            unsealed = version.unsealed_pdf.name
            version.unsealed_pdf = ""
            version.pdf_sha256 = digest
            version.sealed_at = timezone.now()
            version.seal_timestamped = timestamped
            version.save()
            agreement.audit(
                AuditEvent.Kind.PDF_SEALED,
                details={"version": version.number, "pdf_sha256": digest},
                at=version.sealed_at,
            )
            agreement.tell_both(
                "agreement_signed", about=f"version:{version.pk}", version_id=version.pk
            )
            if unsealed:
                storage = version.unsealed_pdf.storage
                transaction.on_commit(lambda: storage.delete(unsealed))
            return version
