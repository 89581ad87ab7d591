"""The pair's side of sharing sections with the program: consent, withdraw,
and the record of each time an admin read what was shared."""

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from agreements.exceptions import AgreementError
from agreements.models import AuditEvent, Origin, Party, Section
from agreements.models.sharing import PROGRAM_ADMIN_VIEW

from .agreements import _agreement_for


def _sharing_agreement_for(request, agreement_id):
    """The agreement (404 for anyone but its two parties) with what the sharing
    page and its moves read: the parties, the program and the consents."""
    agreement = _agreement_for(request, agreement_id, content=False)
    prefetch_related_objects([agreement], "mentor", "mentee", "program", "sharing_consents")
    return agreement


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
    for kind, label in Section.Kind.choices:
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
    agreement = _sharing_agreement_for(request, agreement_id)
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
    agreement = _sharing_agreement_for(request, agreement_id)
    label = Section.Kind(kind).label
    other = agreement.other_person(request.user)
    try:
        consented = agreement.consent_to_share(kind, by=request.user, origin=Origin.of(request))
    except AgreementError as exc:
        messages.error(request, f"{label} was not shared. {exc.message}")
        return redirect(_sharing_url(agreement, kind))
    # Counted after the move: the other party may have consented meanwhile.
    shared = agreement.sharing_consents.filter(kind=kind).count() == len(Party)
    if not consented:
        messages.info(request, f"You had already agreed to share {label}; nothing changed.")
    elif shared:
        messages.success(
            request,
            f"{label} is now shared with {agreement.program.name}. Its admins can read this "
            "section, and each time they do it is recorded here.",
        )
    else:
        messages.success(
            request,
            f"You agreed to share {label}; it is shared once {other.full_name} agrees too.",
        )
    return redirect(_sharing_url(agreement, kind))


@require_POST
def withdraw(request, agreement_id, kind):
    agreement = _sharing_agreement_for(request, agreement_id)
    label = Section.Kind(kind).label
    party = agreement.party_of(request.user)
    other = agreement.other_person(request.user)
    # What the user saw decides the wording; the move itself clears both consents.
    before = agreement.consents_by_kind().get(kind, {})
    try:
        withdrawn = agreement.withdraw_sharing(kind, by=request.user, origin=Origin.of(request))
    except AgreementError as exc:
        messages.error(request, exc.message)
        return redirect(_sharing_url(agreement, kind))
    if not withdrawn:
        messages.info(request, f"{label} was not shared; nothing changed.")
    elif len(before) == len(Party):
        messages.success(
            request,
            f"{label} is no longer shared with {agreement.program.name}, from now on. Sharing "
            "it again needs both of you to agree again.",
        )
    elif party in before:
        messages.success(request, f"You withdrew your consent: {label} stays private.")
    else:
        messages.success(
            request, f"{label} stays private: you declined {other.full_name}'s request to share it."
        )
    return redirect(_sharing_url(agreement, kind))
