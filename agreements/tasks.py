"""What the task worker (``manage.py qcluster``) runs: each effect a move
promised (see ``agreements.models.effects``), until it is done.

``run_effect`` claims the effect, does it and marks it done. Any failure (a
mail server that refuses, a full disk, a seal key that cannot be read, a
database error) is kept as the effect's last error and tried again later,
up to ``EFFECT_MAX_ATTEMPTS``. A worker that dies mid-effect loses nothing:
django-q2 delivers the task again once ``Q_CLUSTER["retry"]`` has passed.
A seal or a render is never done twice. An email is sent at least once: one
the mail server took just before the worker died, or before the database
could record it as sent, goes again (a mail server cannot join the
database's transaction).
"""

import logging
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, transaction
from django_q.exceptions import TimeoutException

from agreements import drafts, emails, pdf, seal
from agreements.models import Agreement, AgreementVersion, Effect, User

logger = logging.getLogger(__name__)


class EffectBusy(Exception):
    """Another worker holds the effect: this delivery stays queued (django-q2
    acknowledges only what succeeded) and comes back after ``TASK_RETRY``,
    to finish the effect if that worker died."""


def run_effect(effect_id):
    effect = Effect.objects.filter(pk=effect_id).first()
    if effect is None or not effect.claim():
        if effect is not None:
            effect.refresh_from_db()
            if effect.is_held:
                raise EffectBusy(f"{effect.key} is being done by another worker.")
        return "nothing to do"
    try:
        HANDLERS[effect.kind](**effect.args)
    except (Exception, TimeoutException) as exc:
        # django-q2 stops a task over TASK_TIMEOUT with TimeoutException (a
        # SystemExit): keep that reason too, and wait before trying again.
        logger.warning("%s failed (attempt %s): %r", effect.key, effect.attempts, exc)
        effect = effect.failed(exc or "Stopped: over the task timeout.")
        return "failed" if effect.state == Effect.State.FAILED else "will retry"
    _record_success(effect)
    return "done"


def _record_success(effect):
    """Mark the effect done; a database that is away for a moment (a restart)
    is waited for, so an email just sent is not sent again."""
    for pause in (1, 2, 4, 8, 16):
        try:
            effect.succeeded()
            return
        except DatabaseError:
            close_old_connections()
            time.sleep(pause)
    # Still away: raising leaves the delivery queued, to run again later.
    effect.succeeded()


def queue_stalled_effects():
    """Every few minutes (a django-q2 schedule, made by a migration): queue
    again what nothing would run otherwise. A second delivery of an effect
    that is running after all changes nothing: only one worker can claim it."""
    count = 0
    for effect in Effect.objects.stalled():
        with transaction.atomic():
            effect.queue()
        count += 1
    if count:
        logger.warning("Queued %s stalled effect(s) again.", count)
    return count


def send_email(*, email, to, **args):
    emails.EMAILS[email](User.objects.get(pk=to), **args)


def seal_version(*, version_id):
    """Render the signed PDF of a version once, seal it and store it.

    The rendering is kept, so a retry after a failed seal seals the same
    bytes. Downloads serve the stored file; nothing renders it again.
    """
    version = AgreementVersion.objects.select_related("agreement").get(pk=version_id)
    if version.is_sealed:
        return
    if not version.has_rendering():
        # Never rendered, or its file is gone (e.g. restored from a backup
        # taken mid-seal): render it (again).
        version = version.keep_rendering(pdf.render_signed_pdf(version))
    with version.unsealed_pdf.open("rb") as file:
        rendered = file.read()
    sealed = seal.seal_pdf(
        rendered,
        reason=f"Mentoring agreement version {version.number}, signed by both parties",
        location=settings.SITE_URL,
    )
    version.store_sealed(sealed, timestamped=seal.seal_uses_timestamp_authority())


def seal_final_pdf(*, agreement_id):
    """Render and seal the final record of an ended agreement, once."""
    agreement = Agreement.objects.with_working_copy().get(pk=agreement_id)
    if agreement.final_sealed_at:
        return
    sealed = seal.seal_pdf(
        pdf.render_final_pdf(agreement),
        reason="Final record of a mentoring agreement that has ended",
        location=settings.SITE_URL,
    )
    agreement.store_final_pdf(sealed)


def render_draft(*, agreement_id, html_sha256, language=None):
    # ``language``: promised when a draft was in its reader's language; it is
    # now in the agreement's, which the HTML's hash covers.
    drafts.render(agreement_id, html_sha256)


HANDLERS = {
    Effect.Kind.EMAIL: send_email,
    Effect.Kind.SEAL_VERSION: seal_version,
    Effect.Kind.SEAL_FINAL: seal_final_pdf,
    Effect.Kind.RENDER_DRAFT: render_draft,
}
