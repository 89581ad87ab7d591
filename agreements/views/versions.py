"""Signed versions, amendments and the audit trail of one agreement."""

from functools import partial

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements.models import (
    AgreementVersion,
    Origin,
    Section,
    SectionRevision,
    verify_chain,
)
from agreements.models.changes import describe_changes
from agreements.pdf import appends_negotiation

from .access import agreement_for, attempt, detail_url, moved, version_to_download
from .agreements import sealed_pdf_response


def _signed_version_for(agreement, number):
    """A version both parties signed (in force or superseded); pending or void ones
    are not agreements and have no page."""
    signed = agreement.versions.filter(status__in=AgreementVersion.SIGNED)
    return get_object_or_404(signed, number=number)


def version_list(request, agreement_id):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    versions = list(agreement.versions.select_related("superseded_by").order_by("-number"))
    signatures = {}
    for signature in agreement.signatures.order_by("signed_at"):
        signatures.setdefault(signature.version_id, []).append(signature)
    return render(
        request,
        "agreements/versions.html",
        {
            "agreement": agreement,
            "rows": [(version, signatures.get(version.pk, [])) for version in versions],
            "signed": [version for version in versions if version.is_signed],
        },
    )


def version_detail(request, agreement_id, number):
    agreement = agreement_for(request, agreement_id)
    version = _signed_version_for(agreement, number)
    signatures = [s for s in agreement.signatures_on(version) if s.voided_at is None]
    return render(
        request,
        "agreements/version_detail.html",
        {
            "agreement": agreement,
            "version": version,
            "content": version.as_content(),
            "signatures": signatures,
            "with_negotiation": appends_negotiation(signatures),
            "kinds": Section.Kind.choices,
        },
    )


def version_pdf(request, agreement_id, number):
    """Exactly the bytes that were sealed: nothing is rendered here."""
    version = version_to_download(request, agreement_id, number)
    agreement = version.agreement
    if version.seal_failed:
        messages.warning(
            request,
            _(
                "Sealing the signed PDF failed several times. The people who run this site "
                "can see why and will try again; what you both signed is on record."
            ),
        )
        return redirect("agreements:version_list", agreement.uuid)
    if not version.is_sealed:
        messages.info(
            request,
            _(
                "The signed PDF is being sealed. It is usually ready within a minute; "
                "if sealing fails it is retried automatically."
            ),
        )
        return redirect("agreements:version_list", agreement.uuid)
    return sealed_pdf_response(
        request,
        agreement,
        version.pdf,
        version=version,
        suffix=f"-v{version.number}-signed",
        details={"file": "sealed", "version": version.number, "pdf_sha256": version.pdf_sha256},
        newest=(agreement.audit_length, agreement.audit_head),
    )


def version_compare(request, agreement_id):
    """Two versions side by side, section by section. The working copy of an
    amendment can be compared too, as "draft"."""
    agreement = agreement_for(request, agreement_id)
    signed = {
        str(version.number): version for version in agreement.versions.all() if version.is_signed
    }
    choices = list(signed)
    if agreement.is_amending:
        choices.append("draft")
    if not signed:
        raise Http404("There is no signed version to compare.")
    latest = max(signed.values(), key=lambda v: v.number)
    default_new = "draft" if agreement.is_amending else str(latest.number)
    default_old = str(latest.number) if agreement.is_amending else str(max(latest.number - 1, 1))
    old_key = request.GET.get("from", default_old)
    new_key = request.GET.get("to", default_new)
    if old_key not in choices or new_key not in choices:
        raise Http404("No such version.")

    def side(key):
        if key == "draft":
            return _("Amendment draft"), agreement.working_copy(), agreement.canonical_content()
        version = signed[key]
        label = _("Version %(number)s") % {"number": version.number}
        return label, version.as_content(), version.data

    old_label, old_content, old_data = side(old_key)
    new_label, new_content, new_data = side(new_key)
    history = _History(agreement, signed.get(old_key), signed.get(new_key))
    sections = []
    for kind, label in Section.Kind.choices:
        before, after = old_content.section_data(kind), new_content.section_data(kind)
        changes = describe_changes(before, after)
        if changes:
            # The older side's content is where its revisions start from.
            earlier = after if history.reversed else before
            made_by = history.last_to_change(kind, earlier)
            changes = [{**change, "revision": made_by.get(change["field"])} for change in changes]
        sections.append((kind, label, changes, history.editors(kind)))
    return render(
        request,
        "agreements/version_compare.html",
        {
            "agreement": agreement,
            "choices": choices,
            "old_key": old_key,
            "new_key": new_key,
            "old_label": old_label,
            "new_label": new_label,
            "old_content": old_content,
            "new_content": new_content,
            "sections": sections,
            "parties_changed": old_data["parties"] != new_data["parties"],
        },
    )


class _History:
    """The sections' revisions between two sides of a comparison, by section.

    A signed version holds the working copy as it was when its first
    signature froze it: a revision before the second signature would have
    voided it, and an off-limits topic is added to an agreement in force
    only after that. So the revisions after the older side was frozen, up
    to the newer one's freezing (or now, for the amendment draft), are
    exactly the changes from one to the other: one query, however many.
    """

    def __init__(self, agreement, old, new):
        self.reversed = False
        self.by_kind: dict[str, list[SectionRevision]] = {}
        if old is None and new is None:
            return
        # The draft is the newest side, whichever box it was chosen in.
        if old is None or (new is not None and new.frozen_at < old.frozen_at):
            old, new = new, old
            self.reversed = True
        revisions = SectionRevision.objects.filter(
            section__agreement=agreement, edited_at__gt=old.frozen_at
        )
        if new is not None:
            revisions = revisions.filter(edited_at__lte=new.frozen_at)
        revisions = revisions.select_related(
            "section", "edited_by", "proposal__author", "proposal__decided_by"
        ).order_by("section", "revision")
        for revision in revisions:
            self.by_kind.setdefault(revision.section.kind, []).append(revision)

    def editors(self, kind):
        names = []
        for revision in self.by_kind.get(kind, []):
            name = revision.edited_by.full_name if revision.edited_by else _("a former user")
            if name not in names:
                names.append(name)
        return names

    def last_to_change(self, kind, earlier):
        """The revision that last changed each field of the section, by the
        field's name as ``describe_changes`` gives it, from ``earlier`` (the
        older side's content of the section) on."""
        made_by, previous = {}, earlier
        for revision in self.by_kind.get(kind, []):
            for change in describe_changes(previous, revision.data):
                made_by[change["field"]] = revision
            previous = revision.data
        return made_by


@require_POST
def amend(request, agreement_id):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    started = moved(
        request,
        partial(agreement.start_amendment, by=request.user, origin=Origin.of(request)),
        done=lambda _amendment: (
            _(
                "You started an amendment. Change what needs changing; version %(number)s "
                "stays in force until both of you sign."
            )
            % {"number": agreement.version_in_force.number}
        ),
    )
    if started and request.POST.get("then") == Section.Kind.TERM:
        # "Extend the term": straight to the exit date.
        return redirect("agreements:section_edit", agreement.uuid, Section.Kind.TERM)
    return redirect(detail_url(agreement))


@require_POST
def withdraw_amendment(request, agreement_id):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    return attempt(
        request,
        partial(agreement.withdraw_amendment, by=request.user, origin=Origin.of(request)),
        done=_("The amendment is withdrawn; the version in force is unchanged."),
        back=detail_url(agreement),
    )


def trail(request, agreement_id):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    events = list(agreement.audit_events.select_related("actor").order_by("sequence"))
    # Views of shared sections name them as stored, in the source language
    # (programs.pairing_detail); this gives each its name in the reader's.
    with translation.override(None):
        section_names = {str(label): label for _kind, label in Section.Kind.choices}
    return render(
        request,
        "agreements/trail.html",
        {
            "agreement": agreement,
            "events": events[::-1],
            "problem": verify_chain(agreement, events),
            "section_labels": dict(Section.Kind.choices),
            "section_names": section_names,
        },
    )
