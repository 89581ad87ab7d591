"""What the pair shares with their program's admins, section by section.

Content is private to the pair. A section is shared only while both
parties consent to it; either may withdraw, which clears both consents.
A shared section's discussion (its comments, not its proposals) can be
shared too, again only while both consent; withdrawing the section
withdraws its discussion. Every time an admin opens shared content, the
trail records it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.exceptions import AlreadyEnded, NotShared

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
    """One party's consent to share one section with the program's admins,
    or (``scope``) the section's discussion too, which needs the section shared."""

    class Scope(models.TextChoices):
        SECTION = "section", gettext_lazy("the section")
        DISCUSSION = "discussion", gettext_lazy("its discussion")

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="sharing_consents"
    )
    kind = models.CharField(max_length=16)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.SECTION)
    party = models.CharField(max_length=6, choices=Party.choices)
    given_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["given_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "kind", "scope", "party"],
                name="agreements_sharing_one_per_party",
            ),
        ]

    def __str__(self):
        return _("Sharing consent %(id)s") % {"id": self.pk}


class SharingMixin(models.Model):
    """The sharing moves and reads of ``Agreement``; needs ``sharing_consents``
    prefetched for the reads."""

    class Meta:
        abstract = True

    def consents_by_kind(self, scope=SharingConsent.Scope.SECTION):
        """{section kind: {party: consent}} of one scope, from the prefetched consents."""
        return self._consents_by_scope().get(scope, {})

    def _consents_by_scope(self):
        # One pass over the consents: without a prefetch, one query.
        consents: dict[str, dict[str, dict[str, SharingConsent]]] = {}
        for consent in self.sharing_consents.all():
            consents.setdefault(consent.scope, {}).setdefault(consent.kind, {})[consent.party] = (
                consent
            )
        return consents

    def shared_kinds(self):
        """The sections both parties share with the program, in section order."""
        return self._both(self.consents_by_kind())

    def shared_discussions(self):
        """The sections whose discussion both parties share too, in section
        order: a discussion is shared only along with its section. One query
        if the consents are not prefetched (the discussion page's case)."""
        consents = self._consents_by_scope()
        sections = self._both(consents.get(SharingConsent.Scope.SECTION, {}))
        discussions = self._both(consents.get(SharingConsent.Scope.DISCUSSION, {}))
        return [kind for kind in sections if kind in discussions]

    @staticmethod
    def _both(consents):
        return [kind for kind in SHAREABLE_KINDS if len(consents.get(kind, {})) == len(Party)]

    def consent_to_share(
        self: Agreement,
        kind: str,
        *,
        by: User,
        scope: str = SharingConsent.Scope.SECTION,
        origin: Origin | None = None,
    ) -> bool:
        """Record one party's consent to share a section, or its discussion
        (``scope``), which only a shared section's can be; either is shared
        once both consent."""
        discussion = scope == SharingConsent.Scope.DISCUSSION
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
            both = SharingConsent.objects.filter(agreement=agreement, kind=kind)
            if discussion and both.filter(scope=SharingConsent.Scope.SECTION).count() != len(Party):
                raise NotShared(
                    _(
                        "The section is not shared with the program: its discussion "
                        "can be shared only along with it."
                    )
                )
            consent, created = SharingConsent.objects.get_or_create(
                agreement=agreement, kind=kind, scope=scope, party=party
            )
            if not created:
                return False
            now_shared = both.filter(scope=scope).count() == len(Party)
            event = agreement._finish(
                Event.SHARING_CONSENTED,
                by=by,
                origin=origin,
                at=consent.given_at,
                details=_details(kind, discussion, shared=now_shared),
            )
            agreement.tell_other_party(
                "sharing_consented", by=by, event=event, section=kind, discussion=discussion
            )
            return True

    def withdraw_sharing(
        self: Agreement,
        kind: str,
        *,
        by: User,
        scope: str = SharingConsent.Scope.SECTION,
        origin: Origin | None = None,
    ) -> bool:
        """Either party stops sharing: both consents go, from the next request
        on. A section's discussion goes with it; its discussion alone leaves
        the section shared."""
        discussion = scope == SharingConsent.Scope.DISCUSSION
        with transaction.atomic():
            agreement = self._lock()
            consents = SharingConsent.objects.filter(agreement=agreement, kind=kind)
            if discussion:
                consents = consents.filter(scope=scope)
            elif not consents.filter(scope=scope).exists():
                # Nothing of the section to withdraw (a stray discussion consent
                # alone shares nothing): nothing changes.
                return False
            # Stopping the section stops its discussion: the trail says so.
            more = {}
            if not discussion and consents.filter(scope=SharingConsent.Scope.DISCUSSION).exists():
                more["discussion_too"] = True
            deleted, _ = consents.delete()
            if not deleted:
                return False
            event = agreement._finish(
                Event.SHARING_WITHDRAWN,
                by=by,
                origin=origin,
                at=timezone.now(),
                details=_details(kind, discussion, **more),
            )
            agreement.tell_other_party(
                "sharing_withdrawn", by=by, event=event, section=kind, discussion=discussion
            )
            return True


def _details(kind, discussion, **more):
    """The audit details of a sharing move: the section's name as the trail
    keeps it, and whether the move was about its discussion."""
    details = {"section": untranslated(Section.Kind(kind).label)}
    if discussion:
        details["discussion"] = True
    return {**details, **more}
