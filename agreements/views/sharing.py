"""The pair's side of sharing sections with the program: consent, withdraw,
and the record of each time an admin read what was shared."""

import datetime
from functools import partial
from typing import NamedTuple

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from agreements.models import AuditEvent, Origin, Party, Section
from agreements.models.sharing import PROGRAM_ADMIN_VIEW, SHAREABLE_KINDS, SharingConsent

from .access import attempt, sharing_agreement_for

Scope = SharingConsent.Scope


def _sharing_url(agreement, kind=None, *, discussion=False):
    url = reverse("agreements:sharing", args=[agreement.uuid])
    if not kind:
        return url
    return f"{url}#sharing-{kind}-discussion" if discussion else f"{url}#sharing-{kind}"


class Row(NamedTuple):
    """One section on the sharing page: its sharing, and its discussion's."""

    kind: str
    label: str
    state: str
    since: datetime.datetime | None
    discussion_state: str
    discussion_since: datetime.datetime | None


def _state(given, party):
    """("shared", since) once both consented, else "mine" (waiting for the
    other party), "theirs" (waiting for this user) or "private", and None."""
    if len(given) == len(Party):
        return "shared", max(consent.given_at for consent in given.values())
    if party in given:
        return "mine", None
    return ("theirs" if given else "private"), None


def _rows(agreement, party):
    """A ``Row`` per shareable section, in section order. A discussion can be
    shared only along with its section: its state counts only then."""
    sections = agreement.consents_by_kind()
    discussions = agreement.consents_by_kind(Scope.DISCUSSION)
    rows = []
    for kind in SHAREABLE_KINDS:
        state, since = _state(sections.get(kind, {}), party)
        discussion_state, discussion_since = "private", None
        if state == "shared":
            discussion_state, discussion_since = _state(discussions.get(kind, {}), party)
        rows.append(Row(kind, kind.label, state, since, discussion_state, discussion_since))
    return rows


def _both_consent(agreement, kind, scope):
    # Counted after the move: the other party may have consented meanwhile.
    given = agreement.sharing_consents.filter(kind=kind, scope=scope).count()
    return given == len(Party)


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


# What each move says, per scope: whole sentences, as the translators need them.
SAID = {
    Scope.SECTION: {
        # Translators: a section's name, such as "Goals", and the program's name.
        "shared": gettext_lazy(
            "%(section)s is now shared with %(program)s. Its admins can read this "
            "section, and each time they do it is recorded here."
        ),
        # Translators: a section's name, such as "Goals", and the other party's name.
        "consented": gettext_lazy(
            "You agreed to share %(section)s; it is shared once %(name)s agrees too."
        ),
        "already": gettext_lazy("You had already agreed to share %(section)s; nothing changed."),
        # Translators: %(reason)s is a whole sentence saying why.
        "refused": gettext_lazy("%(section)s was not shared. %(reason)s"),
        "stopped": gettext_lazy(
            "%(section)s is no longer shared with %(program)s, from now on. "
            "Sharing it again needs both of you to agree again."
        ),
        "withdrawn": gettext_lazy("You withdrew your consent: %(section)s stays private."),
        # Translators: a section's name, such as "Goals", and the other party's name.
        "declined": gettext_lazy(
            "%(section)s stays private: you declined %(name)s's request to share it."
        ),
        "not_shared": gettext_lazy("%(section)s was not shared; nothing changed."),
    },
    Scope.DISCUSSION: {
        # Translators: a section's name, such as "Goals", and the program's name.
        "shared": gettext_lazy(
            "The discussion of %(section)s is now shared with %(program)s. Its admins "
            "can read its comments, and each time they do it is recorded here."
        ),
        # Translators: a section's name, such as "Goals", and the other party's name.
        "consented": gettext_lazy(
            "You agreed to share the discussion of %(section)s; it is shared once "
            "%(name)s agrees too."
        ),
        "already": gettext_lazy(
            "You had already agreed to share the discussion of %(section)s; nothing changed."
        ),
        # Translators: %(reason)s is a whole sentence saying why.
        "refused": gettext_lazy("The discussion of %(section)s was not shared. %(reason)s"),
        "stopped": gettext_lazy(
            "The discussion of %(section)s is no longer shared with %(program)s, from "
            "now on; %(section)s itself stays shared."
        ),
        "withdrawn": gettext_lazy(
            "You withdrew your consent: the discussion of %(section)s stays private."
        ),
        # Translators: a section's name, such as "Goals", and the other party's name.
        "declined": gettext_lazy(
            "The discussion of %(section)s stays private: you declined %(name)s's request "
            "to share it."
        ),
        "not_shared": gettext_lazy(
            "The discussion of %(section)s was not shared; nothing changed."
        ),
    },
}


@require_POST
def share(request, agreement_id, kind, scope=Scope.SECTION):
    """Consent to share a section, or (``scope``) a shared section's discussion."""
    agreement = sharing_agreement_for(request, agreement_id)
    said = SAID[scope]
    words = {
        "section": Section.Kind(kind).label,
        "program": agreement.program.name,
        "name": agreement.other_person(request.user).full_name,
    }

    def done(_consented):
        return (
            said["shared"] if _both_consent(agreement, kind, scope) else said["consented"]
        ) % words

    return attempt(
        request,
        partial(
            agreement.consent_to_share,
            kind,
            by=request.user,
            scope=scope,
            origin=Origin.of(request),
        ),
        done=done,
        unchanged=said["already"] % words,
        refused=lambda reason: messages.error(
            request, said["refused"] % {**words, "reason": reason}
        ),
        back=_sharing_url(agreement, kind, discussion=scope == Scope.DISCUSSION),
    )


@require_POST
def withdraw(request, agreement_id, kind, scope=Scope.SECTION):
    """Stop sharing a section (its discussion too), or decline to; or
    (``scope``) stop sharing its discussion alone."""
    agreement = sharing_agreement_for(request, agreement_id)
    said = SAID[scope]
    party = agreement.party_of(request.user)
    words = {
        "section": Section.Kind(kind).label,
        "program": agreement.program.name,
        "name": agreement.other_person(request.user).full_name,
    }
    # What the user saw decides the wording; the move itself clears both consents.
    before = agreement.consents_by_kind(scope).get(kind, {})

    def done(_withdrawn):
        if len(before) == len(Party):
            return said["stopped"] % words
        return (said["withdrawn"] if party in before else said["declined"]) % words

    return attempt(
        request,
        partial(
            agreement.withdraw_sharing,
            kind,
            by=request.user,
            scope=scope,
            origin=Origin.of(request),
        ),
        done=done,
        unchanged=said["not_shared"] % words,
        back=_sharing_url(agreement, kind, discussion=scope == Scope.DISCUSSION),
    )
