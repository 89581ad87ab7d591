"""The pair's side of sharing sections with the program: consent, withdraw,
and the record of each time an admin read what was shared."""

import datetime
from functools import partial
from typing import NamedTuple

from django.contrib import messages
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
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


@require_POST
def share(request, agreement_id, kind):
    agreement = sharing_agreement_for(request, agreement_id)
    label = Section.Kind(kind).label
    other = agreement.other_person(request.user)

    def done(_consented):
        if _both_consent(agreement, kind, Scope.SECTION):
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


@require_POST
def share_discussion(request, agreement_id, kind):
    """Consent to share a shared section's discussion: its comments."""
    agreement = sharing_agreement_for(request, agreement_id)
    label = Section.Kind(kind).label
    other = agreement.other_person(request.user)

    def done(_consented):
        if _both_consent(agreement, kind, Scope.DISCUSSION):
            # Translators: a section's name, such as "Goals", and the program's name.
            return _(
                "The discussion of %(section)s is now shared with %(program)s. Its admins "
                "can read its comments, and each time they do it is recorded here."
            ) % {"section": label, "program": agreement.program.name}
        # Translators: a section's name, such as "Goals", and the other party's name.
        return _(
            "You agreed to share the discussion of %(section)s; it is shared once "
            "%(name)s agrees too."
        ) % {"section": label, "name": other.full_name}

    return attempt(
        request,
        partial(
            agreement.consent_to_share,
            kind,
            by=request.user,
            scope=Scope.DISCUSSION,
            origin=Origin.of(request),
        ),
        done=done,
        unchanged=_(
            "You had already agreed to share the discussion of %(section)s; nothing changed."
        )
        % {"section": label},
        refused=lambda reason: messages.error(
            request,
            # Translators: %(reason)s is a whole sentence saying why.
            _("The discussion of %(section)s was not shared. %(reason)s")
            % {"section": label, "reason": reason},
        ),
        back=_sharing_url(agreement, kind, discussion=True),
    )


@require_POST
def withdraw_discussion(request, agreement_id, kind):
    """Stop sharing a section's discussion (or decline to): the section stays shared."""
    agreement = sharing_agreement_for(request, agreement_id)
    label = Section.Kind(kind).label
    party = agreement.party_of(request.user)
    other = agreement.other_person(request.user)
    before = agreement.consents_by_kind(Scope.DISCUSSION).get(kind, {})

    def done(_withdrawn):
        if len(before) == len(Party):
            return _(
                "The discussion of %(section)s is no longer shared with %(program)s, from "
                "now on; %(section)s itself stays shared."
            ) % {"section": label, "program": agreement.program.name}
        if party in before:
            return _("You withdrew your consent: the discussion of %(section)s stays private.") % {
                "section": label
            }
        # Translators: a section's name, such as "Goals", and the other party's name.
        return _(
            "The discussion of %(section)s stays private: you declined %(name)s's request "
            "to share it."
        ) % {"section": label, "name": other.full_name}

    return attempt(
        request,
        partial(
            agreement.withdraw_sharing,
            kind,
            by=request.user,
            scope=Scope.DISCUSSION,
            origin=Origin.of(request),
        ),
        done=done,
        unchanged=_("The discussion of %(section)s was not shared; nothing changed.")
        % {"section": label},
        back=_sharing_url(agreement, kind, discussion=True),
    )
