"""The public verification page: is this PDF a sealed agreement on record?

The browser hashes the file (static/js/verify.js); only the SHA-256 reaches
the server, and the answer holds no content and no names.
"""

import re

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control

from agreements.models import Agreement, AgreementVersion

SHA256 = re.compile(r"[0-9a-f]{64}")


def _lookup(digest):
    """The signed version whose sealed PDF, canonical content or final record
    (of an ended agreement) has this SHA-256."""
    versions = AgreementVersion.objects.select_related("agreement", "superseded_by").filter(
        status__in=AgreementVersion.SIGNED
    )
    by_file = versions.filter(pdf_sha256=digest).first()
    if by_file:
        return by_file, "file"
    final = versions.filter(
        agreement__final_pdf_sha256=digest, status=AgreementVersion.Status.IN_FORCE
    ).first()
    if final:
        return final, "final"
    return versions.filter(content_hash=digest).first(), "content"


@login_not_required
def verify(request):
    query = (request.GET.get("sha256") or request.GET.get("hash") or "").strip().lower()
    context = {"query": query}
    if query:
        if not SHA256.fullmatch(query):
            context["error"] = _(
                "That is not a SHA-256 fingerprint: it has 64 characters, digits 0–9 and "
                "letters a–f."
            )
        else:
            version, matched = _lookup(query)
            context.update(version=version, matched=matched)
            if version:
                signatures = version.signatures.filter(voided_at__isnull=True).order_by("signed_at")
                context.update(
                    signed_at=[s.signed_at for s in signatures],
                    ended=version.agreement.status == Agreement.Status.ENDED,
                )
    return render(request, "agreements/verify.html", context)


@login_not_required
@cache_control(public=True, max_age=3600)
def root_certificate(request):
    """The root certificate that seals chain to, for validating PDFs offline."""
    path = settings.SEAL_ROOT_CERT_FILE
    if not path.exists():
        raise Http404("No seal certificate has been made yet.")
    return FileResponse(
        open(path, "rb"),  # FileResponse closes it
        as_attachment=True,
        filename="mentorship-seal-root.pem",
        content_type="application/x-pem-file",
    )
