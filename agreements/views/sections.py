"""The sections of an agreement: edit one or propose the edit, agree to it,
read its history, discuss it, answer a proposal, and add a topic to the
off-limits list of an agreement in force."""

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements.exceptions import SectionConflict, SectionIncomplete, SectionInvalid
from agreements.forms import (
    CommentForm,
    DeclineForm,
    OffLimitsAdditionForm,
    ProposalReasonForm,
    SectionEditor,
)
from agreements.models import Agreement, Origin, Party, Proposal, Section, ThreadRead
from agreements.models.changes import describe_changes
from agreements.models.proposals import stale_refusal

from .access import agreement_for, attempt, detail_url, moved


def _posted_revision(request):
    """The section revision the form was built from; a missing or mangled token
    counts as stale."""
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        return -1


def section_edit(request, agreement_id, kind):
    """Edit a section, or propose the edit to the other party instead. On
    an Active agreement, only propose: the proposal starts an amendment."""
    agreement = agreement_for(request, agreement_id)
    only_propose = agreement.is_amendable
    if not agreement.is_editable and not only_propose:
        # 403.html shows this to the person.
        raise PermissionDenied(_("A signed agreement can only be changed through an amendment."))
    party = agreement.party_of(request.user)
    other = agreement.other_person(request.user)
    section = agreement.sections_by_kind[kind]
    revision = section.revision
    conflict = invalid = None
    proposing = only_propose or "propose" in request.POST
    reason = ProposalReasonForm(request.POST if proposing and request.method == "POST" else None)
    countered = _countered(request, agreement, kind)
    if request.method == "POST":
        editor = SectionEditor(agreement, kind, party, data=request.POST)
        revision = _posted_revision(request)
        if editor.is_valid() and (not proposing or reason.is_valid()):
            move, done, unchanged = _save_or_propose(
                request,
                agreement,
                section,
                editor,
                revision,
                reason if proposing else None,
                countered,
            )
            try:
                return attempt(
                    request,
                    move,
                    done=done,
                    unchanged=unchanged,
                    back=detail_url(agreement, kind),
                    reraise=(SectionConflict, SectionInvalid, SectionIncomplete),
                )
            except SectionConflict as exc:
                conflict = exc
                # The next save, made knowingly, replaces their revision.
                revision = exc.section.revision
            except (SectionInvalid, SectionIncomplete) as exc:
                # Said above the form, which keeps what they typed.
                invalid = exc.message
    elif countered:
        # A counter-proposal starts from the other party's proposal, filled in.
        editor = SectionEditor(agreement, kind, party, data=_as_posted(countered.form_data))
        editor.is_valid()
    else:
        editor = SectionEditor(agreement, kind, party)
    return render(
        request,
        "agreements/section_edit.html",
        {
            "agreement": agreement,
            "section": section,
            "editor": editor,
            "revision": revision,
            "conflict": conflict,
            "invalid": invalid,
            "party": party,
            "other": other,
            "reason": reason,
            "proposing": proposing or bool(countered),
            "only_propose": only_propose,
            "countered": countered,
        },
        status=409 if conflict else 200,
    )


# The edit form's fields that are not the section's.
NOT_THE_SECTION = {"csrfmiddlewaretoken", "revision", "propose", "counters"}


def _form_data(post):
    """The section's fields of a posted edit form, as a proposal keeps them."""
    return {
        name: post.getlist(name)
        for name in post
        if name not in NOT_THE_SECTION and not name.startswith(ProposalReasonForm.prefix)
    }


def _as_posted(form_data):
    posted = QueryDict(mutable=True)
    for name, values in form_data.items():
        posted.setlist(name, values)
    return posted


def _save_or_propose(request, agreement, section, editor, revision, reason, countered):
    """The move of the edit form's button, and what to say after it: save
    the section, or (``reason``, a valid form) propose it, perhaps as a
    counter to the other party's proposal ``countered``."""
    kind = section.kind
    if reason:
        move = partial(
            agreement.propose_change,
            kind,
            by=request.user,
            expected_revision=revision,
            save=editor.save,
            form_data=_form_data(request.POST),
            reason=reason.cleaned_data["reason"],
            counters=countered.pk if countered else None,
            origin=Origin.of(request),
        )
        name = agreement.other_person(request.user).full_name
        if agreement.is_amendable:
            done = _(
                "Your proposal is on its way to %(name)s. If they accept it, an amendment "
                "starts: the version in force stays in force until you both sign the "
                "amended one."
            ) % {"name": name}
        else:
            done = _(
                "Your proposal is on its way to %(name)s. The section stays as it is until "
                "they accept it."
            ) % {"name": name}
        return move, done, _("Nothing to propose: the section already says this.")
    move = partial(
        agreement.save_section,
        kind,
        by=request.user,
        expected_revision=revision,
        save=editor.save,
        origin=Origin.of(request),
    )
    # Translators: the name of a section, such as "Goals".
    done = _("%(section)s saved. Both of you need to agree to it again.") % {
        "section": section.get_kind_display()
    }
    return move, done, _("Nothing changed.")


def section_history(request, agreement_id, kind):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    section = get_object_or_404(agreement.sections, kind=kind)
    revisions = list(
        section.revisions.select_related(
            "edited_by", "proposal__author", "proposal__decided_by"
        ).order_by("revision")
    )
    changes = [
        (revision, describe_changes(previous.data, revision.data))
        for previous, revision in zip(revisions, revisions[1:], strict=False)
    ]
    return render(
        request,
        "agreements/section_history.html",
        {"agreement": agreement, "section": section, "changes": changes[::-1]},
    )


def section_discussion(request, agreement_id, kind):
    """A section's discussion: its comments, oldest first, and one more.
    Opening it marks what it shows as read for the user."""
    agreement = agreement_for(request, agreement_id, working_copy=False)
    section = get_object_or_404(agreement.sections, kind=kind)
    form = CommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        posted = moved(
            request,
            partial(
                agreement.comment_on,
                kind,
                by=request.user,
                text=form.cleaned_data["text"],
                origin=Origin.of(request),
            ),
            done=_("Your comment is posted."),
            refused=partial(form.add_error, None),
            at="comment-form",
        )
        if posted:
            url = reverse("agreements:section_discussion", args=[agreement.uuid, kind])
            return redirect(f"{url}#comment-form")
    comments = list(section.comments.select_related("author"))
    if request.method == "GET" and comments:
        # Read up to the newest comment shown, not to now: one committed
        # meanwhile is still new next time.
        ThreadRead.mark(section, request.user, comments[-1].written_at)
    return render(
        request,
        "agreements/section_discussion.html",
        {"agreement": agreement, "section": section, "comments": comments, "form": form},
    )


def _countered(request, agreement, kind):
    """The open proposal of the other party that the form counters, if any:
    ``?counter=`` opens the form on it, which then sends it as ``counters``."""
    try:
        number = int(request.POST.get("counters") or request.GET.get("counter", ""))
    except ValueError:
        return None
    return (
        Proposal.objects.filter(
            section__agreement=agreement, section__kind=kind, pk=number, status="open"
        )
        .exclude(party=agreement.party_of(request.user))
        .first()
    )


def _proposal_for(agreement, kind, number):
    """A proposal on the agreement's section ``kind``, else 404."""
    return get_object_or_404(
        Proposal.objects.select_related("section", "author", "decided_by"),
        section__agreement=agreement,
        section__kind=kind,
        pk=number,
    )


def section_proposal(request, agreement_id, kind, number):
    """A proposal, field by field beside the section it was made on, with
    what its reader may do about it."""
    agreement = agreement_for(request, agreement_id, working_copy=False)
    proposal = _proposal_for(agreement, kind, number)
    made_on = proposal.section.revisions.filter(revision=proposal.base_revision).first()
    return render(
        request,
        "agreements/section_proposal.html",
        {
            "agreement": agreement,
            "section": proposal.section,
            "proposal": proposal,
            "changes": describe_changes(made_on.data if made_on else {}, proposal.data),
            # The counter-proposal that answered it, if one did.
            "countered_by": Proposal.objects.filter(counters=proposal).first(),
            "mine": proposal.party == agreement.party_of(request.user),
            "other": agreement.other_person(request.user),
            "decline_form": DeclineForm(),
        },
    )


def _proposal_url(agreement, proposal):
    return reverse(
        "agreements:section_proposal", args=[agreement.uuid, proposal.section.kind, proposal.pk]
    )


@require_POST
def proposal_accept(request, agreement_id, kind, number):
    agreement = agreement_for(request, agreement_id)
    proposal = _proposal_for(agreement, kind, number)
    # Its author's form, replayed: the change is made as their save would have.
    editor = SectionEditor(
        agreement, kind, Party(proposal.party), data=_as_posted(proposal.form_data)
    )
    section = proposal.section.get_kind_display()
    if not editor.is_valid():
        messages.error(request, stale_refusal())
        return redirect(_proposal_url(agreement, proposal))
    return attempt(
        request,
        partial(
            agreement.accept_proposal,
            proposal.pk,
            by=request.user,
            save=editor.save,
            origin=Origin.of(request),
        ),
        # Translators: the name of a section, such as "Goals".
        done=lambda agreed: (
            (
                _("You accepted the proposal: %(section)s now reads so, agreed by both of you.")
                if agreed
                else _(
                    "You accepted the proposal: %(section)s now reads so. It is not finished yet: "
                    "fill it in, then both of you agree to it."
                )
            )
            % {"section": section}
        ),
        back=detail_url(agreement, kind),
    )


@require_POST
def proposal_decline(request, agreement_id, kind, number):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    proposal = _proposal_for(agreement, kind, number)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["response"]))
        return redirect(_proposal_url(agreement, proposal))
    return attempt(
        request,
        partial(
            agreement.decline_proposal,
            proposal.pk,
            by=request.user,
            response=form.cleaned_data["response"],
            origin=Origin.of(request),
        ),
        done=_("You declined the proposal. The section stays as it is."),
        back=detail_url(agreement, kind),
    )


@require_POST
def proposal_withdraw(request, agreement_id, kind, number):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    proposal = _proposal_for(agreement, kind, number)
    return attempt(
        request,
        partial(
            agreement.withdraw_proposal, proposal.pk, by=request.user, origin=Origin.of(request)
        ),
        done=_("You withdrew your proposal."),
        back=detail_url(agreement, kind),
    )


@require_POST
def section_agree(request, agreement_id, kind):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    return attempt(
        request,
        partial(
            agreement.agree_section,
            kind,
            by=request.user,
            seen_revision=_posted_revision(request),
            origin=Origin.of(request),
        ),
        # Translators: the name of a section, such as "Goals".
        done=_("You agreed to “%(section)s”.") % {"section": Section.Kind(kind).label},
        back=detail_url(agreement, kind),
    )


def off_limits_add(request, agreement_id):
    agreement = agreement_for(request, agreement_id, records=True)
    if agreement.status != Agreement.Status.ACTIVE:
        raise Http404("Topics are added this way only to an Active agreement.")
    form = OffLimitsAdditionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        added = moved(
            request,
            partial(
                agreement.add_off_limits_topic,
                topic=form.cleaned_data["topic"],
                rule=form.cleaned_data["rule"],
                by=request.user,
                origin=Origin.of(request),
            ),
            done=lambda _topic: (
                # Translators: the name of the other party of the agreement.
                _("The topic is off limits from now on. An email telling %(name)s is on its way.")
                % {"name": agreement.other_person(request.user).full_name}
            ),
            refused=partial(form.add_error, "topic"),
        )
        if added:
            return redirect(detail_url(agreement, "off_limits"))
    return render(request, "agreements/off_limits_add.html", {"agreement": agreement, "form": form})
