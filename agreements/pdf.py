"""The agreement as a PDF: an HTML template rendered by WeasyPrint.

The renderer may read the app's own static files and nothing else, so text
typed into an agreement can never make the server fetch a URL or embed a
local file.
"""

import functools
import mimetypes
import posixpath
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import mark_safe
from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from agreements import seal
from agreements.content import canonical_json
from agreements.models import Proposal, Section, SectionComment, SectionRevision
from agreements.models.changes import describe_changes
from agreements.templatetags.agreement_tags import printing

# A reserved, never-resolving host (RFC 2606): relative links in the PDF
# template resolve against it, and the fetcher maps them to static files.
STATIC_BASE_URL = "https://static.mentorship.invalid/"


class RefusedURL(ValueError):
    pass


class StaticFilesURLFetcher(URLFetcher):
    """Serve the app's static files; refuse every other URL, of any scheme."""

    def fetch(self, url, headers=None):
        if not url.startswith(STATIC_BASE_URL):
            raise RefusedURL(f"The PDF renderer only reads the app's static files, not {url!r}.")
        path = posixpath.normpath(unquote(urlsplit(url).path)).lstrip("/")
        if path.startswith("..") or "\x00" in path:
            raise RefusedURL(f"Refused path {path!r}.")
        absolute = finders.find(path)
        if absolute is None:
            raise RefusedURL(f"No static file {path!r}.")
        content_type = mimetypes.guess_type(absolute)[0] or "application/octet-stream"
        with open(absolute, "rb") as file:
            body = file.read()
        return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


@functools.cache
def _fonts():
    """One font configuration per process: WeasyPrint builds a new one per
    render unless given one, and each stays in memory (about 0.25 MiB)."""
    return FontConfiguration()


def _write_pdf(html, **options):
    return HTML(
        string=html, base_url=STATIC_BASE_URL, url_fetcher=StaticFilesURLFetcher()
    ).write_pdf(font_config=_fonts(), **options)


def _sections():
    """Every section, by kind and name, for a PDF rendered from content alone:
    the names are lazy, so they read in the PDF's language."""
    return [(kind, kind.label, None) for kind in Section.Kind]


def _print_html(context):
    """The PDF template rendered for print, the one way every PDF's HTML is made:
    in the language of the agreement, whoever asks and whichever process
    renders it; ``for_print`` is set for the templates, and long words may
    break (``breakable``). The section partials serve the web pages too,
    where neither is so."""
    content = context["content"]
    # The content with its second language's clauses, for the second column.
    second = content.in_second_language() if content.translation else None
    with printing(), translation.override(content.languages.binding):
        return render_to_string(
            "agreements/pdf/agreement.html", {**context, "second": second, "for_print": True}
        )


def draft_html(agreement):
    """The working copy of an agreement loaded with ``with_working_copy()``, marked
    DRAFT, as HTML: the same content always gives the same HTML, so a draft is
    kept by the hash of its HTML (see ``agreements.drafts``)."""
    return _print_html(
        {
            "agreement": agreement,
            "content": agreement.working_copy(),
            "sections": [
                (section.kind, Section.Kind(section.kind).label, section)
                for section in agreement.ordered_sections()
            ],
            "signatures": agreement.working_signatures(),
            "content_hash": agreement.content_hash,
        },
    )


def draft_pdf(html):
    """The PDF of ``draft_html()``: seconds for a long draft, so only the worker calls it."""
    return _write_pdf(html)


def evidence_json(signatures):
    """The evidence of every signature on a version, as one canonical JSON document."""
    return canonical_json(
        {
            "signatures": [
                {"evidence": s.evidence_data, "evidence_hash": s.evidence_hash} for s in signatures
            ]
        }
    )


def _sealed_record_context(version, signatures):
    """What the completion page of a sealed PDF shows: signatures, hashes and
    where to verify it."""
    verification_url = settings.SITE_URL + reverse("verify") + f"?hash={version.content_hash}"
    return {
        "signatures": sorted(signatures, key=lambda s: s.signed_at),
        "content_hash": version.content_hash,
        "audit_head": version.agreement.audit_head,
        "verification_url": verification_url,
        # segno writes the SVG from the URL alone; nothing typed by a user.
        "qr_svg": mark_safe(  # noqa: S308
            segno.make(verification_url, error="m").svg_inline(border=0, dark="#212529")
        ),
        "root_url": settings.SITE_URL + reverse("verify_root_certificate"),
        "seal_name": settings.SEAL_NAME,
        "timestamped": seal.seal_uses_timestamp_authority(),
    }


def appends_negotiation(signatures):
    """Both signatures on a version asked for the negotiation appendix: one
    party alone cannot put the pair's words in the signed PDF."""
    return len(signatures) == 2 and all(s.with_negotiation for s in signatures)


@dataclass
class NegotiationEntry:
    """A comment or a proposal in the negotiation appendix, as it stood when
    the version came into force."""

    at: datetime
    author: str | None  # None: someone whose account is gone
    comment: SectionComment | None = None
    proposal: Proposal | None = None
    # A proposal's answer by then (else it was still open): its status, who
    # answered (None if no one did: it lapsed) and when.
    status: str = ""
    answered_by: str | None = None
    answered_at: datetime | None = None
    changes: list = field(default_factory=list)


def negotiation_appendix(version, signatures):
    """What the pair wrote about each section (comments and proposals) up to
    the moment both had signed, if both asked for it; else None.

    Sections with nothing are left out. A record of how they got there, printed
    after the signed content and not hashed with it: what came later stays out,
    and each proposal reads as it then stood, so rendering it again gives the
    same appendix. Names are those of the signed content."""
    if not appends_negotiation(signatures):
        return None
    until = max(s.signed_at for s in signatures)
    agreement, content = version.agreement, version.as_content()
    names = {agreement.mentor_id: content.mentor.name, agreement.mentee_id: content.mentee.name}
    comments = SectionComment.objects.filter(
        section__agreement=agreement, written_at__lte=until
    ).select_related("section")
    proposals = list(
        Proposal.objects.filter(section__agreement=agreement, made_at__lte=until).select_related(
            "section"
        )
    )
    made_on = {
        (revision.section_id, revision.revision): revision.data
        for revision in SectionRevision.objects.filter(
            section__agreement=agreement,
            revision__in={p.base_revision for p in proposals},
        )
    }
    by_kind: dict[str, list[NegotiationEntry]] = {}
    for comment in comments:
        by_kind.setdefault(comment.section.kind, []).append(
            NegotiationEntry(
                at=comment.written_at, author=names.get(comment.author_id), comment=comment
            )
        )
    for proposal in proposals:
        entry = NegotiationEntry(
            at=proposal.made_at, author=names.get(proposal.author_id), proposal=proposal
        )
        entry.status = Proposal.Status.OPEN
        if proposal.decided_at is not None and proposal.decided_at <= until:
            entry.status, entry.answered_at = proposal.status, proposal.decided_at
            entry.answered_by = names.get(proposal.decided_by_id)
        # What it would have changed, whatever became of it: a declined or
        # countered proposal says as much of the negotiation as an accepted one.
        before = made_on.get((proposal.section_id, proposal.base_revision), {})
        # In the agreement's language, as the rest of the PDF.
        with translation.override(content.languages.binding):
            entry.changes = describe_changes(before, proposal.data)
        by_kind.setdefault(proposal.section.kind, []).append(entry)
    # Numbered as the sections of the agreement above.
    return [
        (number, kind.label, sorted(by_kind[kind], key=lambda entry: entry.at))
        for number, kind in enumerate(Section.Kind, start=1)
        if kind in by_kind
    ]


def _pauses_taken(agreement):
    """(first day, last day) of each pause of an ended agreement, as far as
    the agreement ran: dates only, never a note."""
    last_day = agreement.end_date - timedelta(days=1)
    return [
        (pause.starts_on, min(pause.until or last_day, last_day))
        for pause in agreement.pauses_kept()
        if pause.starts_on <= last_day
    ]


def render_final_pdf(agreement):
    """The final record of an ended agreement loaded with ``with_working_copy()``:
    the version last in force (with topics added to it since), how the
    relationship ended, the goals achieved, the meetings held, the pauses and
    both closing notes."""
    version = agreement.version_in_force
    signatures = [s for s in agreement.signatures_on(version) if s.voided_at is None]
    html = _print_html(
        {
            "agreement": agreement,
            "version": version,
            "final": True,
            "content": agreement.working_copy(),
            "sections": _sections(),
            "added_topics": agreement.added_off_limits(),
            "achieved": agreement.achieved_goal_ids(),
            "closing_notes": list(agreement.closing_notes.all()),
            "checkins_planned": len(agreement.content_in_force.checkins),
            "checkins_held": sorted(
                record.held_on
                for _checkin, record, _state in agreement.checkin_timeline(agreement.end_date)
                if record
            ),
            # Its sentence reads in the PDF's language: the template says it.
            "meetings_kept": agreement.meetings_kept(agreement.end_date, timezone.now()),
            "pauses": _pauses_taken(agreement),
            **_sealed_record_context(version, signatures),
        },
    )
    attachments = [
        Attachment(
            string=version.canonical_json,
            name="agreement.json",
            description="The canonical content of the version both parties signed last",
            relationship="Source",
        ),
    ]
    return _write_pdf(html, pdf_variant="pdf/a-3b", attachments=attachments)


def render_signed_pdf(version):
    """The final PDF of a version both parties signed: PDF/A-3b, rendered from
    the version's canonical JSON, which it embeds with the signatures' evidence.

    It ends with a completion certificate: who signed when and how, the
    hashes, the audit-chain head and where to verify it.
    """
    agreement = version.agreement
    signatures = sorted(
        version.signatures.filter(voided_at__isnull=True), key=lambda s: s.signed_at
    )
    html = _print_html(
        {
            "agreement": agreement,
            "version": version,
            "content": version.as_content(),
            "sections": _sections(),
            "negotiation": negotiation_appendix(version, signatures),
            **_sealed_record_context(version, signatures),
        },
    )
    attachments = [
        Attachment(
            string=version.canonical_json,
            name="agreement.json",
            description="The canonical content both parties signed (UTF-8 JSON)",
            relationship="Source",
        ),
        Attachment(
            string=evidence_json(signatures),
            name="evidence.json",
            description="How and when each party signed (UTF-8 JSON)",
            relationship="Supplement",
        ),
    ]
    return _write_pdf(html, pdf_variant="pdf/a-3b", attachments=attachments)
