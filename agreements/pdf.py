"""The agreement as a PDF: an HTML template rendered by WeasyPrint.

The renderer may read the app's own static files and nothing else, so text
typed into an agreement can never make the server fetch a URL or embed a
local file.
"""

import functools
import mimetypes
import posixpath
from urllib.parse import unquote, urlsplit

import segno
from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from weasyprint import HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from agreements import seal
from agreements.content import canonical_json
from agreements.models import Section
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


def render_final_pdf(agreement):
    """The final record of an ended agreement loaded with ``with_working_copy()``:
    the version last in force (with topics added to it since), how the
    relationship ended, the goals achieved and both closing notes."""
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
