"""The agreement as a PDF: an HTML template rendered by WeasyPrint.

The renderer may read the app's own static files and nothing else, so text
typed into an agreement can never make the server fetch a URL or embed a
local file.
"""

import mimetypes
import posixpath
from urllib.parse import unquote, urlsplit

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from agreements.models import STATEMENTS

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


def render_agreement_pdf(agreement):
    """Return the PDF bytes of an agreement loaded with ``with_content()``."""
    html = render_to_string(
        "agreements/pdf/agreement.html",
        {
            "agreement": agreement,
            "statements": STATEMENTS,
            "signatures": agreement.valid_signatures(),
            "is_draft": agreement.status not in {"active", "ended"},
            "for_print": True,
            "generated_at": timezone.now(),
        },
    )
    document = HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=StaticFilesURLFetcher())
    return document.write_pdf()
