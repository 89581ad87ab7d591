"""Draft PDFs: rendered by the worker, kept by the hash of their HTML.

A long draft takes WeasyPrint seconds, so no request renders one. The page
renders the draft's HTML (milliseconds), and either serves the PDF already
stored for exactly that HTML or promises its rendering and says it is being
prepared. The same content always gives the same stored file, so a draft is
rendered once however often, and by however many people, it is asked for.

A draft is in the agreement's language, like the signed PDF, whoever reads
it: one newest draft per agreement.
"""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from agreements import pdf
from agreements.models import Agreement, Effect


def _folder(agreement):
    return f"drafts/{agreement.uuid}"


def _name(agreement, html_sha256):
    return f"{_folder(agreement)}/{html_sha256}.pdf"


def _html_and_hash(agreement):
    html = pdf.draft_html(agreement)
    return html, hashlib.sha256(html.encode()).hexdigest()


def stored_draft(agreement):
    """``(name, None)``: the stored draft PDF of the agreement as it is now
    (loaded with ``with_working_copy()``); else ``(None, effect)``, its rendering,
    promised."""
    _html, digest = _html_and_hash(agreement)
    name = _name(agreement, digest)
    if default_storage.exists(name):
        return name, None
    effect = Effect.objects.promise(
        Effect.Kind.RENDER_DRAFT,
        # 64 bits of the hash tell one agreement's drafts apart, and read well.
        f"draft:{agreement.pk}:{digest[:16]}",
        agreement_id=agreement.pk,
        html_sha256=digest,
    )
    if effect.state == Effect.State.DONE:
        # Rendered once, but its file has gone since (a newer draft replaced
        # it, and the pair went back to this one): render it again.
        effect.retry(done_too=True)
    return None, effect


def render(agreement_id, html_sha256):
    """Store the draft PDF whose HTML hashes to ``html_sha256``, if the
    agreement still reads so; a changed agreement has promised its newer
    draft, and the page that asked looks for that one."""
    agreement = Agreement.objects.with_working_copy().get(pk=agreement_id)
    html, digest = _html_and_hash(agreement)
    if digest != html_sha256:
        return
    name = _name(agreement, digest)
    if not default_storage.exists(name):
        default_storage.save(name, ContentFile(pdf.draft_pdf(html)))
    # Only the newest draft of an agreement is of use: drop the others (named
    # by their language too, before drafts were in the agreement's), but not a
    # file another worker is writing (a temporary ".…part" name).
    folder = _folder(agreement)
    _dirs, files = default_storage.listdir(folder)
    for other in files:
        if other.endswith(".pdf") and other != f"{digest}.pdf":
            default_storage.delete(f"{folder}/{other}")
