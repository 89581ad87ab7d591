"""The pair's side of sharing sections with the program: consent, withdraw,
and the record of each time an admin read what was shared."""

from functools import partial

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements.models import AuditEvent, Origin, Party, Section
from agreements.models.sharing import PROGRAM_ADMIN_VIEW, SHAREABLE_KINDS

from .access import attempt, sharing_agreement_for


def _sharing_url(agreement, kind=None):
    url = reverse("agreements:sharing", args=[agreement.uuid])
    return f"{url}#sharing-{kind}" if kind else url


def _rows(agreement, party):
    """(kind, label, state, since) per section, in section order.

    ``state`` is "shared", "mine" (waiting for the other party), "theirs"
    (waiting for this user) or "private"; ``since`` is when it became shared.
    """
    consents = agreement.consents_by_kind()
    rows = []
    for kind in SHAREABLE_KINDS:
        label = kind.label
        given = consents.get(kind, {})
        if len(given) == len(Party):
            state, since = "shared", max(consent.given_at for consent in given.values())
        elif party in given:
            state, since = "mine", None
        elif given:
            state, since = "theirs", None
        else:
            state, since = "private", None
        rows.append((kind, label, state, since))
    return rows


def sharing(request, agreement_id):
    agreement = sharing_agreement_for(request, agreement_id)
    party = agreement.party_of(request.user)
    # One query however many views there were; the stored actor name, so no join.
    views = agreement.audit_events.filter(
        kind=AuditEvent.Kind.VIEWED, details__by=PROGRAM_ADMIN_VIEW
    ).order_by("-sequence")
    return render(
        request,
        "agreements/sharing.html",
        {
            "agreement": agreement,
            "other": agreement.other_person(request.user),
            "rows": _rows(agreement, party),
            "admin_views": list(views),
        },
    )


@require_POST
def share(request, agreement_id, kind):
    agreement = sharing_agreement_for(request, agreement_id)
    label = Section.Kind(kind).label
    other = agreement.other_person(request.user)

    def done(_consented):
        # Counted after the move: the other party may have consented meanwhile.
        if agreement.sharing_consents.filter(kind=kind).count() == len(Party):
            # Translators: a section's name, such as "Goals", and the program's name.
            return _(
                "%(section)s is now shared with %(program)s. Its admins can read this "
                "section, and each time they do it is recorded here."
            ) % {"section": label, "program": agreement.program.name}
        # Translators: a section's name, such as "Goals", and the other party's name.
        return _("You agreed to share %(section)s; it is shared once %(name)s agrees too.") % {
            "section": label,
            "name": other.full_name,
        }

    return attempt(
        request,
        partial(agreement.consent_to_share, kind, by=request.user, origin=Origin.of(request)),
        done=done,
        unchanged=_("You had already agreed to share %(section)s; nothing changed.")
        % {"section": label},
        refused=lambda reason: messages.error(
            request,
            # Translators: %(reason)s is a whole sentence saying why.
            _("%(section)s was not shared. %(reason)s") % {"section": label, "reason": reason},
        ),
        back=_sharing_url(agreement, kind),
    )


@require_POST
def withdraw(request, agreement_id, kind):
    agreement = sharing_agreement_for(request, agreement_id)
    label = Section.Kind(kind).label
    party = agreement.party_of(request.user)
    other = agreement.other_person(request.user)
    # What the user saw decides the wording; the move itself clears both consents.
    before = agreement.consents_by_kind().get(kind, {})

    def done(_withdrawn):
        if len(before) == len(Party):
            return _(
                "%(section)s is no longer shared with %(program)s, from now on. "
                "Sharing it again needs both of you to agree again."
            ) % {"section": label, "program": agreement.program.name}
        if party in before:
            return _("You withdrew your consent: %(section)s stays private.") % {"section": label}
        # Translators: a section's name, such as "Goals", and the other party's name.
        return _("%(section)s stays private: you declined %(name)s's request to share it.") % {
            "section": label,
            "name": other.full_name,
        }

    return attempt(
        request,
        partial(agreement.withdraw_sharing, kind, by=request.user, origin=Origin.of(request)),
        done=done,
        unchanged=_("%(section)s was not shared; nothing changed.") % {"section": label},
        back=_sharing_url(agreement, kind),
    )
