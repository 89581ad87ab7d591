"""A signature and the evidence of how it was made (``docs/signed-pdf.md``):
what the signer saw and confirmed, when, from where, and how they showed it
was them. ``SigningMixin.sign`` makes one."""

from __future__ import annotations

import datetime
import hashlib
import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agreements import content

from .clauses import CONSENT_STATEMENT
from .parties import Party
from .versions import AgreementVersion

# How the signer showed it was them when signing, recorded in the evidence in
# the source words (the app's own record, not the pair's text; the completion
# certificate translates them), with ``authenticated_by`` naming the way.
AUTHENTICATIONS = {
    "password": gettext_noop("Password entered again to sign."),
    "passkey": gettext_noop("Confirmed with a passkey to sign."),
    "sign_on": gettext_noop(
        "Authenticated at the organisation's single sign-on within the 5 minutes before signing."
    ),
}
# The words of evidence made before passkeys (format 1), which certificates
# of those signatures still translate.
gettext_noop("Signed in with email and password; password entered again to sign.")
# The evidence's own format: 2 adds ``authenticated_by``; 3 adds
# ``identity_provider`` (docs/signed-pdf.md).
EVIDENCE_FORMAT = "mentorship-signature/3"


class Signature(models.Model):
    """One party's signature on one version, with the evidence of how it was made."""

    agreement = models.ForeignKey("Agreement", on_delete=models.PROTECT, related_name="signatures")
    version = models.ForeignKey(
        AgreementVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    party = models.CharField(max_length=6, choices=Party.choices)
    typed_name = models.CharField(max_length=150)
    consent_statement = models.TextField()
    signed_at = models.DateTimeField()
    # The canonical JSON of the evidence (see ``create_with_evidence``) and its SHA-256.
    evidence = models.TextField(blank=True)
    evidence_hash = models.CharField(max_length=64, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)
    # The signer chose to append the pair's discussions and proposals to the
    # signed PDF: it is appended when both signatures on the version chose so.
    with_negotiation = models.BooleanField(default=False)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            # Per version: an amendment is signed while the version in force
            # keeps its two signatures.
            models.UniqueConstraint(
                fields=["version", "party"],
                condition=Q(voided_at__isnull=True),
                name="agreements_signature_one_valid_per_party",
            ),
        ]

    def __str__(self):
        if self.party == Party.MENTOR:
            return _("Signature of the mentor")
        return _("Signature of the mentee")

    @classmethod
    def create_with_evidence(
        cls,
        *,
        agreement,
        version,
        signer,
        party,
        typed_name,
        signed_at,
        origin,
        with_negotiation=False,
        authenticated_by="password",
        identity_provider=None,
    ):
        ip, user_agent = (origin.ip, origin.user_agent) if origin else (None, "")
        # The statement the signer confirmed, as the version records it in the
        # agreement's language; and the translation they were shown beside it,
        # if they read the app in another language (the sign page).
        content_ = version.as_content()
        statement = content_.consent_statement
        shown_in = translation.get_language()
        evidence = {
            "agreement": str(agreement.uuid),
            "version": version.number,
            "content_hash": version.content_hash,
            "party": party,
            "signer": {"account": signer.pk, "email": signer.email, "name": signer.full_name},
            "typed_name": typed_name,
            "consent_statement": statement,
            "consent_hash": _sha256(statement),
            "consent_language": content_.languages.binding,
            "consent_translation": (
                None
                if shown_in == content_.languages.binding
                else {
                    "language": shown_in,
                    "statement": str(CONSENT_STATEMENT),
                    "hash": _sha256(str(CONSENT_STATEMENT)),
                }
            ),
            "signed_at": signed_at.astimezone(datetime.UTC).isoformat(),
            "ip": ip,
            "user_agent": user_agent,
            "authentication": AUTHENTICATIONS[authenticated_by],
            "authenticated_by": authenticated_by,
            "evidence_format": EVIDENCE_FORMAT,
            # Single sign-on: the provider and when it says the signer
            # authenticated there (its auth_time, UTC); else null.
            "identity_provider": identity_provider
            and {
                "name": identity_provider["name"],
                "auth_time": identity_provider["auth_time"].astimezone(datetime.UTC).isoformat(),
            },
            # Whether the signer asked for the negotiation appendix: a choice
            # made in signing, so the sealed PDF can show both made it. The
            # appendix itself is not signed content (docs/signed-pdf.md).
            "with_negotiation": with_negotiation,
        }
        return cls.objects.create(
            agreement=agreement,
            version=version,
            signer=signer,
            party=party,
            typed_name=typed_name,
            consent_statement=statement,
            signed_at=signed_at,
            evidence=content.canonical_json(evidence),
            evidence_hash=content.content_hash(evidence),
            with_negotiation=with_negotiation,
        )

    @cached_property
    def evidence_data(self):
        return json.loads(self.evidence) if self.evidence else {}

    @property
    def provider_auth_time(self):
        """When the identity provider says the signer authenticated there
        (evidence format 3, a signature confirmed by single sign-on), or None."""
        provider = self.evidence_data.get("identity_provider")
        return datetime.datetime.fromisoformat(provider["auth_time"]) if provider else None


def _sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()
