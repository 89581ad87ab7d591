"""Signing: both parties sign the same frozen content, which then goes in force.

The first signature freezes the working copy as an ``AgreementVersion``; the
second signs that same version and puts it in force. A change to the working
copy voids the signatures on it. ``SigningMixin`` is a concern of
``Agreement``; see ``docs/signed-pdf.md`` for the canonical content and the
evidence a signature keeps.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from agreements import content
from agreements.exceptions import ContentChanged, NotReadyToSign

from .audit import AuditEvent
from .checkins import PlannedCheckIn
from .drafting import Section
from .effects import Effect
from .parties import Party
from .signatures import Signature
from .versions import AgreementVersion

# Why a signature no longer matches content no section change touched.
STALE_REASONS = {
    "format": gettext_noop(
        "The agreement's record format changed after signing, so the signature is asked "
        "for again on the same terms."
    ),
    "names": gettext_noop("The name of a party or of the program changed after signing."),
    "wording": gettext_noop("The app's wording of the fixed clauses changed after signing."),
}

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User


class SigningMixin(models.Model):
    activated_at = models.DateTimeField(null=True, blank=True)
    # The term of the version in force, as metadata for the program's
    # dashboard (with ``PlannedCheckIn``): the ``Term`` row is the working copy.
    start_in_force = models.DateField(null=True, blank=True)
    exit_in_force = models.DateField(null=True, blank=True)

    class Meta:
        abstract = True

    # Reading ----------------------------------------------------------------

    def _version_with(self, status):
        return next((v for v in self.versions.all() if v.status == status), None)

    @cached_property
    def version_in_force(self):
        return self._version_with(AgreementVersion.Status.IN_FORCE)

    @cached_property
    def pending_version(self):
        return self._version_with(AgreementVersion.Status.PENDING)

    @cached_property
    def content_in_force(self):
        """The content in force (an ``AgreementContent``), or None before both
        signed: what the calendar, the check-ins and the reminders follow."""
        version = self.version_in_force
        return version.as_content() if version else None

    def signatures_on(self, version):
        return [s for s in self.signatures.all() if s.version_id == version.pk]

    def working_signatures(self):
        """Signatures on the working copy: those of the pending version, while it
        still matches the content."""
        pending = self.pending_version
        if not self.is_editable or not pending or pending.content_hash != self.content_hash:
            return []
        return [s for s in self.signatures_on(pending) if s.voided_at is None]

    def stale_signatures(self):
        """Not voided, yet no longer matching the content, though no section
        changed (``stale_reason``). The next signature voids them."""
        pending = self.pending_version
        if not self.is_editable or not pending or pending.content_hash == self.content_hash:
            return []
        return [s for s in self.signatures_on(pending) if s.voided_at is None]

    def voided_signatures(self):
        """Voided since the version in force (or ever, before there is one)."""
        since = self.version_in_force.in_force_at if self.version_in_force else None
        return [
            s
            for s in self.signatures.all()
            if s.voided_at is not None and (since is None or s.voided_at > since)
        ]

    def signature_of(self, party):
        return next((s for s in self.working_signatures() if s.party == party), None)

    @property
    def awaiting_signatures(self):
        """Every section of the working copy is agreed: time to sign it."""
        return self.is_editable and self.all_sections_agreed()

    def canonical_content(self: Agreement) -> dict:
        """What a signature stands on; see ``agreements/content.py`` for the format."""

        def person(user):
            return {"name": user.full_name, "email": user.email}

        in_force = self.version_in_force
        working_copy = self.working_copy()
        return {
            "format": content.CANONICAL_FORMAT,
            "agreement": str(self.uuid),
            "program": self.program.name,
            "parties": {"mentor": person(self.mentor), "mentee": person(self.mentee)},
            "sections": {kind: working_copy.section_data(kind) for kind in Section.Kind.values},
            # The fixed clauses and the consent statement in the agreement's
            # language (the same for both parties, whatever each reads), and
            # in its second language, if it has one.
            **working_copy.canonical_clauses(),
            # An amendment names the version it replaces, so no two versions hash alike.
            "amends": in_force.content_hash if in_force else None,
        }

    @cached_property
    def content_hash(self):
        return content.content_hash(self.canonical_content())

    # Moves ------------------------------------------------------------------

    def sign(
        self: Agreement,
        *,
        by: User,
        typed_name: str,
        seen_hash: str,
        with_negotiation: bool = False,
        authenticated_by: str = "password",
        identity_provider: dict | None = None,
        origin: Origin | None = None,
    ) -> Signature:
        """Sign the content whose hash the signer was shown.

        The first signature freezes the content as a version; the second one
        signs that same version and puts it in force. ``with_negotiation``:
        the signer asks for the pair's discussions and proposals to be
        appended to the signed PDF (they are, if both ask).
        ``authenticated_by``: how the signer confirmed it was them, a key of
        ``AUTHENTICATIONS``; ``identity_provider``: for ``"sign_on"``, the
        provider's name and the ``auth_time`` it gave.
        """
        with transaction.atomic():
            agreement = self._lock()
            party = agreement.party_of(by)
            if not agreement.awaiting_signatures:
                raise NotReadyToSign(
                    _("Both of you have to agree every section before the agreement can be signed.")
                )
            if gaps := agreement.checkin_gaps():
                weeks = agreement.policy["checkin_every_weeks"]
                raise NotReadyToSign(
                    # Translators: %(gaps)s lists stretches of the term, e.g. "40 days from
                    # the start date, 1 March 2025, to the check-in on 10 April 2025". The
                    # English singular says "weeks" too: give each form its right word.
                    ngettext(
                        "The program's policy is a check-in at least every %(weeks)s weeks, "
                        "but there are %(gaps)s without one. Add check-ins under “Check-in dates”.",
                        "The program's policy is a check-in at least every %(weeks)s weeks, "
                        "but there are %(gaps)s without one. Add check-ins under “Check-in dates”.",
                        weeks,
                    )
                    % {"weeks": weeks, "gaps": "; ".join(gaps)}
                )
            if agreement.is_amending and not agreement.amended_sections():
                raise NotReadyToSign(
                    _(
                        "Nothing differs from the version in force yet: change a section to "
                        "amend it, or withdraw the amendment."
                    )
                )
            if agreement.content_hash != seen_hash:
                raise ContentChanged(
                    _("The agreement changed while you were reading it. Read it again, then sign.")
                )
            now = timezone.now()
            if agreement.stale_signatures():
                agreement._void_working_signatures(now, agreement.stale_reason(), origin=origin)
                agreement = agreement._reload()
            elif agreement.signature_of(party):
                raise NotReadyToSign(_("You have already signed this agreement."))
            version = agreement.pending_version or agreement._freeze(now)
            signature = Signature.create_with_evidence(
                agreement=agreement,
                version=version,
                signer=by,
                party=party,
                typed_name=typed_name,
                signed_at=now,
                with_negotiation=with_negotiation,
                authenticated_by=authenticated_by,
                identity_provider=identity_provider,
                origin=origin,
            )
            agreement._finish(
                Event.SIGNED,
                by=by,
                origin=origin,
                at=now,
                details={
                    "party": party,
                    "typed_name": typed_name,
                    "version": version.number,
                    "content_hash": version.content_hash,
                    "evidence_hash": signature.evidence_hash,
                    # The choice only: what they wrote stays out of the trail.
                    "with_negotiation": with_negotiation,
                },
            )
            agreement = agreement._reload()
            agreement._settle(now, origin=origin)
            return signature

    def stale_reason(self):
        """Why signatures on content that no section change touched no longer
        match it (``stale_signatures``). A record, so in the source words
        (``_void_working_signatures``); pages translate it."""
        signed, now = self.pending_version.data, self.canonical_content()
        if signed.get("format") != now["format"]:
            return STALE_REASONS["format"]
        if (signed["program"], signed["parties"]) != (now["program"], now["parties"]):
            return STALE_REASONS["names"]
        return STALE_REASONS["wording"]

    def _freeze(self, now):
        numbers = [version.number for version in self.versions.all()]
        data = self.canonical_content()
        return self.versions.create(
            number=max(numbers, default=0) + 1,
            canonical_json=content.canonical_json(data),
            content_hash=content.content_hash(data),
            frozen_at=now,
        )

    def _void_working_signatures(self, now, reason, *, origin=None):
        """Void the pending version and its signatures; log each voided signature.

        ``reason`` is a record (kept on the signature and in the hashed trail),
        so it is in English whatever the language of whoever caused it."""
        pending = self.pending_version
        if pending is None:
            return
        for signature in self.signatures_on(pending):
            if signature.voided_at is None:
                signature.voided_at, signature.void_reason = now, reason
                signature.save(update_fields=["voided_at", "void_reason"])
                self.audit(
                    Event.SIGNATURE_VOIDED,
                    origin=origin,
                    at=now,
                    details={
                        "party": signature.party,
                        "signer": signature.typed_name,
                        "version": pending.number,
                        "reason": reason,
                    },
                )
        pending.status, pending.voided_at = AgreementVersion.Status.VOID, now
        pending.save(update_fields=["status", "voided_at"])

    def _settle(self, now, *, origin=None):
        """Derive the status from the sections and signatures: the version both
        signed goes in force."""
        pending = self.pending_version
        if pending and all(self.signature_of(party) for party in Party.values):
            self._put_in_force(pending, now, origin=origin)
        elif not self.is_amending:
            agreed = self.all_sections_agreed()
            self.status = self.Status.AWAITING_SIGNATURES if agreed else self.Status.DRAFT
        self.save(update_fields=["status", "activated_at", "amending_since"])

    def _put_in_force(self, version, now, *, origin=None):
        previous = self.version_in_force
        if previous:
            previous.status = AgreementVersion.Status.SUPERSEDED
            previous.superseded_at, previous.superseded_by = now, version
            previous.save(update_fields=["status", "superseded_at", "superseded_by"])
            self.audit(
                Event.SUPERSEDED,
                origin=origin,
                at=now,
                details={"version": previous.number, "superseded_by": version.number},
            )
        self._lapse_open_proposals(now)
        version.status, version.in_force_at = AgreementVersion.Status.IN_FORCE, now
        version.save(update_fields=["status", "in_force_at"])
        self._copy_dates_in_force(version)
        self.status = self.Status.ACTIVE
        self.activated_at = self.activated_at or now
        self.amending_since = None
        # Saved before the entry: the dashboard's columns and the outcomes
        # that the entry refreshes read the row as it now is.
        self.save(update_fields=["status", "activated_at", "amending_since"])
        self.audit(
            Event.IN_FORCE,
            origin=origin,
            at=now,
            details={"version": version.number, "content_hash": version.content_hash},
        )
        # Rendered and sealed once, by a worker, only if this transaction commits.
        Effect.objects.promise(Effect.Kind.SEAL_VERSION, version.seal_key, version_id=version.pk)

    def _copy_dates_in_force(self, version):
        """Keep the dates of the version in force where the program's
        dashboard reads them: the term, and the planned check-ins."""
        sections = version.data["sections"]
        term, checkins = sections["term"], sections["checkins"]
        self.start_in_force, self.exit_in_force = (
            datetime.date.fromisoformat(term[key]) if term[key] else None
            for key in ("start_date", "exit_date")
        )
        type(self).objects.filter(pk=self.pk).update(
            start_in_force=self.start_in_force, exit_in_force=self.exit_in_force
        )
        PlannedCheckIn.objects.filter(agreement_id=self.pk).delete()
        PlannedCheckIn.objects.bulk_create(
            PlannedCheckIn(agreement_id=self.pk, date=checkin["date"]) for checkin in checkins
        )
