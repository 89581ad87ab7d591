"""The pair's pages: their agreements, one agreement's page, signing it and its PDF."""

import logging
from functools import partial

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.core.files.storage import default_storage
from django.db.models import Count, Prefetch, prefetch_related_objects
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from agreements import drafts, sign_on
from agreements.calendar import next_meeting
from agreements.charts import promises_chart
from agreements.forms import SignForm
from agreements.models import (
    Agreement,
    AuditEvent,
    Origin,
    Program,
    Proposal,
    Section,
)
from agreements.models.discussion import unread_comments
from agreements.models.drafting import SECTION_ORDER

from .access import agreement_for, agreement_for_pdf, attempt, detail_url
from .surveys import surveys_for

logger = logging.getLogger(__name__)

# How often the "being prepared" page looks again for the draft PDF.
DRAFT_REFRESH_SECONDS = 2


def pdf_filename(agreement, suffix=""):
    names = f"{agreement.mentor.full_name} {agreement.mentee.full_name}"
    return f"mentoring-agreement-{slugify(names) or agreement.uuid}{suffix}.pdf"


def home(request):
    """A person's agreements. Someone who only runs programs lands on the
    dashboard (or, running several, the list of them); someone who also has
    agreements of their own sees their programs first. An agreement of a
    program that asks for single sign-on, in a session that did not log in
    with it, is not shown: its program is, with the way to log in."""
    agreements = (
        Agreement.objects.for_party(request.user)
        .select_related("program", "mentor", "mentee", "term")
        .prefetch_related(
            "sections",
            # What waits for an answer: the open proposals.
            Prefetch("sections__proposals", queryset=Proposal.objects.filter(status="open")),
            "signatures",
            "versions",
        )
        .with_records()
    )
    agreements, locked = sign_on.split_by_program(request, agreements)
    now, today = timezone.now(), request.user.today()
    unread = _unread_discussions(request.user)
    rows = [
        (
            agreement,
            agreement.todo_for(request.user),
            _glance(agreement, now, today),
            unread.get(agreement.pk, []),
        )
        for agreement in agreements
    ]
    programs = list(Program.objects.administered_by(request.user))
    if programs and not rows and not locked:
        if len(programs) == 1:
            return redirect("agreements:program", program_id=programs[0].uuid)
        return redirect("agreements:program_list")
    return render(
        request, "agreements/home.html", {"rows": rows, "programs": programs, "locked": locked}
    )


def _unread_discussions(user):
    """Each agreement's sections with comments the user has not read, as
    (kind, name, how many) in the page's order, by agreement id: one query
    for all of them. The menu's count (``context_processors``) includes them."""
    names = dict(Section.Kind.choices)
    rows = (
        unread_comments(user)
        .order_by()
        .values("section__agreement_id", "section__kind")
        .annotate(count=Count("pk"))
    )
    unread: dict[int, list[tuple[str, object, int]]] = {}
    for row in sorted(rows, key=lambda row: SECTION_ORDER[row["section__kind"]]):
        kind = row["section__kind"]
        unread.setdefault(row["section__agreement_id"], []).append(
            (kind, names[kind], row["count"])
        )
    return unread


def detail(request, agreement_id):
    agreement = agreement_for(request, agreement_id, records=True)
    # Which sections the pair shares with the program, for the section cards.
    prefetch_related_objects([agreement], "sharing_consents")
    party = agreement.party_of(request.user)
    discussions = agreement.discussions_for(request.user)
    return render(
        request,
        "agreements/detail.html",
        {
            "agreement": agreement,
            "party": party,
            "other": agreement.other_person(request.user),
            "content": agreement.working_copy(),
            "my_signature": agreement.signature_of(party),
            "amended": agreement.amended_sections(),
            "incomplete": {
                kind for kind in Section.Kind.values if not agreement.section_is_complete(kind)
            },
            "agreed_count": sum(s.is_agreed for s in agreement.ordered_sections()),
            "discussions": discussions,
            # Signing lapses them: the signature block says so.
            "open_proposals": sum(len(d.proposals) for d in discussions.values()),
            **_in_force_context(agreement, request.user),
        },
    )


def _glance(agreement, now, today):
    """Next meeting, next check-in and days left of an agreement in force."""
    if agreement.content_in_force is None or agreement.is_ended:
        return {}
    end = agreement.end_date
    return {
        "next_meeting": next_meeting(agreement, now),
        "next_checkin": agreement.next_checkin_date(today),
        "days_left": (end - today).days if end else None,
        "end": end,
    }


def _in_force_context(agreement, user):
    """What the agreement page shows of an agreement in force or ended."""
    if agreement.content_in_force is None:
        return {}
    today, now = user.today(), timezone.now()
    return {
        **_glance(agreement, now, today),
        "added_topics": agreement.added_off_limits(),
        "achieved": agreement.achieved_goal_ids(),
        "to_record": agreement.checkins_to_record(today),
        "meetings_to_confirm": agreement.meetings_to_confirm(user, now),
        "chart": promises_chart(agreement, today=today, now=now),
        "pause": agreement.pause_to_come(today),
        "surveys": surveys_for(agreement, user, today),
        "my_closing_note": agreement.closing_note_of(agreement.party_of(user)),
        "closing_notes": agreement.closing_notes.all(),
    }


def sign(request, agreement_id):
    agreement = agreement_for(request, agreement_id)
    party = agreement.party_of(request.user)
    if not agreement.awaiting_signatures or agreement.signature_of(party):
        messages.info(request, _("There is nothing for you to sign on this agreement right now."))
        return redirect(detail_url(agreement))
    working_copy = agreement.working_copy()
    # If the other party signed first: whether they asked for the
    # negotiation appendix, which needs both.
    other_signature = agreement.signature_of(party.other)
    form = SignForm(
        request.POST or None,
        request=request,
        content=working_copy,
        initial={"content_hash": agreement.content_hash},
        appendix_possible=other_signature is None or other_signature.with_negotiation,
    )
    if request.method == "POST" and form.is_valid():
        return attempt(
            request,
            partial(
                agreement.sign,
                by=request.user,
                typed_name=form.cleaned_data["full_name"],
                seen_hash=form.cleaned_data["content_hash"],
                with_negotiation=form.cleaned_data.get("with_negotiation", False),
                authenticated_by=form.authenticated_by,
                identity_provider=form.identity_provider,
                origin=Origin.of(request),
            ),
            done=(
                _("You signed the amendment.")
                if agreement.is_amending
                else _("You signed the agreement.")
            ),
            back=detail_url(agreement),
        )
    return render(
        request,
        "agreements/sign.html",
        {
            "agreement": agreement,
            "content": working_copy,
            "form": form,
            "party": party,
            "other": agreement.other_person(request.user),
            "other_signature": other_signature,
            # Someone with a passkey may confirm with it instead of the password,
            # and someone who logs in with single sign-on by logging in again.
            "has_passkey": not form.passkey_at
            and is_mfa_enabled(request.user, [Authenticator.Type.WEBAUTHN]),
            "sign_on_providers": (
                []
                if form.passkey_at or form.sign_on
                else sign_on.reauthentication_providers(request)
            ),
            "reauthenticate": sign_on.REAUTHENTICATE,
        },
    )


def pdf(request, agreement_id):
    """The working copy as a draft PDF; a signed agreement's PDF is its sealed
    version, an ended one's its sealed final record (one ended before it was
    ever signed has none: its draft is all there is). Only a draft needs the
    working copy: a first, lighter query tells which."""
    agreement = agreement_for_pdf(request, agreement_id)
    if agreement.in_force_number is not None:
        if agreement.is_ended:
            return _final_pdf(request, agreement)
        if not agreement.is_editable:
            return redirect("agreements:version_pdf", agreement.uuid, agreement.in_force_number)
    newest = (agreement.audit_length, agreement.audit_head)
    agreement = agreement_for(request, agreement_id)
    # The worker renders drafts: a request never waits on WeasyPrint.
    name, rendering = drafts.stored_draft(agreement)
    try:
        file = default_storage.open(name, "rb") if name else None
    except OSError:
        # A newer draft replaced it a moment ago; that one is on its way.
        file = None
    if file is None:
        context = {
            "agreement": agreement,
            "other": agreement.other_person(request.user),
            "refresh_seconds": DRAFT_REFRESH_SECONDS,
            # A failed attempt: say so rather than promise it in seconds.
            "delayed": rendering is not None and bool(rendering.last_error),
            "failed": rendering is not None and rendering.state == rendering.State.FAILED,
        }
        return render(request, "agreements/pdf_preparing.html", context, status=202)
    agreement.audit_access(
        AuditEvent.Kind.PDF_DOWNLOADED,
        actor=request.user,
        origin=Origin.of(request),
        details={"file": "draft"},
        newest=newest,
    )
    suffix = "-amendment-draft" if agreement.is_amending else "-draft"
    return FileResponse(
        file,
        as_attachment=True,
        filename=pdf_filename(agreement, suffix),
        content_type="application/pdf",
    )


def _final_pdf(request, agreement):
    if agreement.final_seal_failed:
        messages.warning(
            request,
            _(
                "Sealing the final PDF failed several times. The people who run this site can "
                "see why and will try again."
            ),
        )
        return redirect(detail_url(agreement))
    if not agreement.final_sealed_at:
        messages.info(
            request, _("The final PDF is being sealed; it is usually ready within a minute.")
        )
        return redirect(detail_url(agreement))
    return sealed_pdf_response(
        request,
        agreement,
        agreement.final_pdf,
        suffix="-final",
        details={"file": "final", "pdf_sha256": agreement.final_pdf_sha256},
        newest=(agreement.audit_length, agreement.audit_head),
    )


def sealed_pdf_response(request, agreement, stored, *, suffix, details, version=None, newest=None):
    """The stored sealed file, byte for byte, and its download in the audit trail
    (after ``newest``, the trail's newest entry as the caller read it, if given:
    ``Agreement.audit_access``).

    The file is opened first: if it is gone (or unreadable) the user gets a page
    saying so, the operators an error, and the trail no download that never
    happened.
    """
    try:
        file = stored.open("rb")
    except OSError as exc:
        # Ids and the stored name only: enough to restore it, nothing the pair wrote.
        logger.error(
            "Sealed PDF cannot be opened: agreement %s, %s, stored as %s (%s)",
            agreement.uuid,
            f"version {version.number}" if version else "final record",
            stored.name,
            type(exc).__name__,
        )
        return render(
            request,
            "agreements/pdf_missing.html",
            {"agreement": agreement, "version": version, "final": version is None},
            status=503,
        )
    agreement.audit_access(
        AuditEvent.Kind.PDF_DOWNLOADED,
        actor=request.user,
        origin=Origin.of(request),
        details=details,
        newest=newest,
    )
    return FileResponse(
        file,
        as_attachment=True,
        filename=pdf_filename(agreement, suffix),
        content_type="application/pdf",
    )
