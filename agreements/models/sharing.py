"""What the pair shares with their program's admins, section by section.

Content is private to the pair. A section is shared only while both
parties consent to it; either may withdraw, which clears both consents.
Every time an admin opens shared content, the trail records it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements.exceptions import AlreadyEnded

from .audit import AuditEvent
from .drafting import Section
from .parties import Party
from .text import untranslated

Event = AuditEvent.Kind

# The sections the pair write, which they may share with the program: all but
# the language they write in.
SHAREABLE_KINDS = [kind for kind in Section.Kind if kind != Section.Kind.LANGUAGE]

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User

# ``details["by"]`` of the VIEWED entry written each time a program admin
# reads shared sections; the pair's sharing page lists these entries.
PROGRAM_ADMIN_VIEW = "program admin"


class SharingConsent(models.Model):
    """One party's consent to share one section with the program's admins."""

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="sharing_consents"
    )
    kind = models.CharField(max_length=16)
    party = models.CharField(max_length=6, choices=Party.choices)
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["given_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "kind", "party"], name="agreements_sharing_one_per_party"
            ),
        ]

    def __str__(self):
        return _("Sharing consent %(id)s") % {"id": self.pk}


class SharingMixin(models.Model):
    """The sharing moves and reads of ``Agreement``; needs ``sharing_consents``
    prefetched for the reads."""

    class Meta:
        abstract = True

    def consents_by_kind(self):
        """{section kind: {party: consent}} from the prefetched consents."""
        consents = {}
        for consent in self.sharing_consents.all():
            consents.setdefault(consent.kind, {})[consent.party] = consent
        return consents

    def shared_kinds(self):
        """The sections both parties share with the program, in section order."""
        consents = self.consents_by_kind()
        return [kind for kind in SHAREABLE_KINDS if len(consents.get(kind, {})) == len(Party)]

    def consent_to_share(
        self: Agreement, kind: str, *, by: User, origin: Origin | None = None
    ) -> bool:
        """Record one party's consent; the section is shared once both consent."""
        with transaction.atomic():
            agreement = self._lock()
            party = agreement.party_of(by)
            if agreement.is_ended:
                raise AlreadyEnded(
                    _(
                        "The agreement has ended: no more sections can be shared. "
                        "You can still stop sharing."
                    )
                )
            consent, created = SharingConsent.objects.get_or_create(
                agreement=agreement, kind=kind, party=party
            )
            if not created:
                return False
            label = untranslated(Section.Kind(kind).label)
            now_shared = SharingConsent.objects.filter(
                agreement=agreement, kind=kind
            ).count() == len(Party)
            event = agreement._finish(
                Event.SHARING_CONSENTED,
                by=by,
                origin=origin,
                at=consent.given_at,
                details={"section": label, "shared": now_shared},
            )
            agreement.tell_other_party("sharing_consented", by=by, event=event, section=kind)
            return True

    def withdraw_sharing(
        self: Agreement, kind: str, *, by: User, origin: Origin | None = None
    ) -> bool:
        """Either party stops sharing: both consents go, from the next request on."""
        with transaction.atomic():
            agreement = self._lock()
            deleted, _ = SharingConsent.objects.filter(agreement=agreement, kind=kind).delete()
            if not deleted:
                return False
            event = agreement._finish(
                Event.SHARING_WITHDRAWN,
                by=by,
                origin=origin,
                at=timezone.now(),
                details={"section": untranslated(Section.Kind(kind).label)},
            )
            agreement.tell_other_party("sharing_withdrawn", by=by, event=event, section=kind)
            return True
