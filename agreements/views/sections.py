"""The sections of an agreement: edit one, agree to it, read its history,
discuss it, and add a topic to the off-limits list of an agreement in force."""

from functools import partial

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements.exceptions import SectionConflict, SectionInvalid
from agreements.forms import CommentForm, OffLimitsAdditionForm, SectionEditor
from agreements.models import Agreement, Origin, Section, ThreadRead
from agreements.models.changes import describe_changes

from .access import agreement_for, attempt, detail_url, moved


def _posted_revision(request):
    """The section revision the form was built from; a missing or mangled token
    counts as stale."""
    try:
        return int(request.POST.get("revision", ""))
    except ValueError:
        return -1


def section_edit(request, agreement_id, kind):
    agreement = agreement_for(request, agreement_id)
    if not agreement.is_editable:
        # 403.html shows this to the person.
        raise PermissionDenied(_("A signed agreement can only be changed through an amendment."))
    party = agreement.party_of(request.user)
    section = agreement.sections_by_kind[kind]
    revision = section.revision
    conflict = invalid = None
    if request.method == "POST":
        editor = SectionEditor(agreement, kind, party, data=request.POST)
        revision = _posted_revision(request)
        if editor.is_valid():
            try:
                return attempt(
                    request,
                    partial(
                        agreement.save_section,
                        kind,
                        by=request.user,
                        expected_revision=revision,
                        save=editor.save,
                        origin=Origin.of(request),
                    ),
                    # Translators: the name of a section, such as "Goals".
                    done=_("%(section)s saved. Both of you need to agree to it again.")
                    % {"section": section.get_kind_display()},
                    unchanged=_("Nothing changed."),
                    back=detail_url(agreement, kind),
                    reraise=(SectionConflict, SectionInvalid),
                )
            except SectionConflict as exc:
                conflict = exc
                # The next save, made knowingly, replaces their revision.
                revision = exc.section.revision
            except SectionInvalid as exc:
                invalid = exc.message
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
        },
        status=409 if conflict else 200,
    )


def section_history(request, agreement_id, kind):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    section = get_object_or_404(agreement.sections, kind=kind)
    revisions = list(section.revisions.select_related("edited_by").order_by("revision"))
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
