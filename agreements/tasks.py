"""Work that runs in a task worker (`manage.py db_worker`), after the request."""

import datetime
import hashlib
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend, task

from agreements import pdf, seal
from agreements.invitations import invitation_path
from agreements.models import Agreement, AgreementVersion, AuditEvent, Party, Section

logger = logging.getLogger(__name__)

# A failed seal is tried again after 1, 2, 4 ... minutes, at most hourly.
RETRY_CAP = datetime.timedelta(hours=1)


def retry_delay(attempts):
    return min(datetime.timedelta(minutes=2 ** max(attempts - 1, 0)), RETRY_CAP)


@task()
def seal_version(version_id):
    """Render the signed PDF of a version once, seal it and store it.

    The rendering is kept, so a retry after a failed seal seals the same
    bytes. Downloads serve the stored file; nothing renders it again.
    """
    version = AgreementVersion.objects.select_related("agreement").get(pk=version_id)
    if version.is_sealed:
        return "already sealed"
    if not version.unsealed_pdf:
        rendered = pdf.render_signed_pdf(version)
        with transaction.atomic():
            locked = AgreementVersion.objects.select_for_update().get(pk=version_id)
            if not locked.unsealed_pdf:
                locked.unsealed_pdf.save("unsealed.pdf", ContentFile(rendered), save=True)
            version = locked
    with version.unsealed_pdf.open("rb") as file:
        rendered = file.read()
    try:
        sealed = seal.seal_pdf(
            rendered,
            reason=f"Mentoring agreement version {version.number}, signed by both parties",
            location=settings.SITE_URL,
        )
    except seal.SealError as exc:
        _seal_failed(version_id, exc)
        return "sealing pending"
    _store_sealed(version_id, sealed)
    return "sealed"


def _seal_failed(version_id, exc):
    with transaction.atomic():
        version = AgreementVersion.objects.select_for_update().get(pk=version_id)
        version.seal_attempts += 1
        version.seal_error = str(exc)[:300]
        version.save(update_fields=["seal_attempts", "seal_error"])
    logger.warning(
        "Sealing version %s failed (attempt %s): %s", version_id, version.seal_attempts, exc
    )
    if default_task_backend.supports_defer:
        run_after = timezone.now() + retry_delay(version.seal_attempts)
        seal_version.using(run_after=run_after).enqueue(version_id)
    # Otherwise `manage.py seal_pending` tries again.


def _store_sealed(version_id, sealed):
    with transaction.atomic():
        version = AgreementVersion.objects.select_for_update().get(pk=version_id)
        if version.is_sealed:
            return
        agreement = Agreement.objects.select_for_update().get(pk=version.agreement_id)
        digest = hashlib.sha256(sealed).hexdigest()
        version.pdf.save(f"sealed-{digest[:12]}.pdf", ContentFile(sealed), save=False)
        unsealed = version.unsealed_pdf.name
        version.unsealed_pdf = ""
        version.pdf_sha256 = digest
        version.sealed_at = timezone.now()
        version.seal_timestamped = seal.seal_uses_timestamp_authority()
        version.seal_error = ""
        version.save()
        agreement.record(
            AuditEvent.Kind.PDF_SEALED,
            details={"version": version.number, "pdf_sha256": digest},
            at=version.sealed_at,
        )
        transaction.on_commit(lambda: version.unsealed_pdf.storage.delete(unsealed))
        transaction.on_commit(lambda: send_signed_notice.enqueue(version_id))


@task()
def send_signed_notice(version_id):
    """Tell both parties, once, that their signed and sealed agreement is ready."""
    with transaction.atomic():
        version = (
            AgreementVersion.objects.select_for_update(of=("self",))
            .select_related("agreement__mentor", "agreement__mentee", "agreement__program")
            .get(pk=version_id)
        )
        if version.notified_at:
            return "already sent"
        _mail_both(version.agreement, "agreement_signed", {"version": version})
        version.notified_at = timezone.now()
        version.save(update_fields=["notified_at"])
        return "sent"


@task()
def seal_final_pdf(agreement_id):
    """Render and seal the final record of an ended agreement, once."""
    agreement = Agreement.objects.with_content().get(pk=agreement_id)
    if agreement.final_sealed_at:
        return "already sealed"
    try:
        sealed = seal.seal_pdf(
            pdf.render_final_pdf(agreement),
            reason="Final record of a mentoring agreement that has ended",
            location=settings.SITE_URL,
        )
    except seal.SealError as exc:
        logger.warning("Sealing the final PDF of agreement %s failed: %s", agreement_id, exc)
        if default_task_backend.supports_defer:
            run_after = timezone.now() + RETRY_CAP
            seal_final_pdf.using(run_after=run_after).enqueue(agreement_id)
        return "sealing pending"
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement_id)
        if agreement.final_sealed_at:
            return "already sealed"
        digest = hashlib.sha256(sealed).hexdigest()
        agreement.final_pdf.save(f"sealed-{digest[:12]}.pdf", ContentFile(sealed), save=False)
        agreement.final_pdf_sha256 = digest
        agreement.final_sealed_at = timezone.now()
        agreement.save(update_fields=["final_pdf", "final_pdf_sha256", "final_sealed_at"])
        agreement.record(
            AuditEvent.Kind.PDF_SEALED,
            details={"file": "final", "pdf_sha256": digest},
            at=agreement.final_sealed_at,
        )
    return "sealed"


def _mail_both(agreement, template, context_for, *, only=None):
    """One email to each party (or to ``only``), rendered for that person.

    ``context_for`` is a dict, or a function of (user, other) giving one,
    which may name its own ``template`` and ``url``; by default the link is
    the agreement's page.
    """
    url = settings.SITE_URL + reverse("agreements:detail", args=[agreement.uuid])
    messages = []
    for user, other in ((agreement.mentor, agreement.mentee), (agreement.mentee, agreement.mentor)):
        if only is not None and user.pk != only.pk:
            continue
        extra = context_for(user, other) if callable(context_for) else context_for
        each = {
            "template": template,
            "url": url,
            **extra,
            "user": user,
            "other": other,
            "agreement": agreement,
        }
        name = each["template"]
        subject = render_to_string(f"emails/{name}_subject.txt", each).strip()
        body = render_to_string(f"emails/{name}.txt", each)
        messages.append((subject, body, settings.DEFAULT_FROM_EMAIL, [user.email]))
    send_mass_mail(messages)


def _sign_in_or_invitation(agreement, user):
    """Someone who never chose a password gets an invitation link (which
    lets them choose one, once); everyone else the agreement's page."""
    if user.has_usable_password():
        return {"url": settings.SITE_URL + reverse("agreements:detail", args=[agreement.uuid])}
    return {
        "invited": True,
        "days": settings.INVITATION_TIMEOUT_DAYS,
        "url": settings.SITE_URL + invitation_path(user),
    }


@task()
def send_ended_notice(agreement_id):
    """Tell both parties the agreement has ended, and how."""
    agreement = Agreement.objects.select_related(
        "mentor", "mentee", "program", "notice_given_by"
    ).get(pk=agreement_id)
    _mail_both(agreement, "agreement_ended", {})
    return "sent"


@task()
def notify_other_party(agreement_id, what, actor_id, section_kind=None):
    """Tell the other party what one party did: "off_limits_added", "notice_given",
    "sharing_consented" or "sharing_withdrawn" (of ``section_kind``)."""
    agreement = Agreement.objects.select_related(
        "mentor", "mentee", "program", "notice_given_by"
    ).get(pk=agreement_id)
    actor = agreement.mentor if actor_id == agreement.mentor_id else agreement.mentee
    other = agreement.mentee if actor_id == agreement.mentor_id else agreement.mentor
    context = {"actor": actor}
    if section_kind:
        context["section"] = Section.Kind(section_kind).label
        context["shared"] = agreement.sharing_consents.filter(kind=section_kind).count() == len(
            Party
        )
        context["sharing_url"] = settings.SITE_URL + reverse(
            "agreements:sharing", args=[agreement.uuid]
        )
    _mail_both(agreement, what, context, only=other)
    return "sent"


@task()
def send_pairing_emails(agreement_id):
    """Tell both people they were paired. Someone who has not chosen a
    password yet gets an invitation instead."""
    agreement = Agreement.objects.select_related("mentor", "mentee", "program").get(pk=agreement_id)

    def context_for(user, other):
        link = _sign_in_or_invitation(agreement, user)
        return {
            **link,
            "template": "invitation" if link.get("invited") else "pairing_created",
            "role": agreement.party_of(user).label.lower(),
            "other_role": agreement.party_of(other).label.lower(),
        }

    _mail_both(agreement, "pairing_created", context_for)
    return "sent"


@task()
def send_program_reminder(agreement_id):
    """A program admin's nudge: each party gets what waits for them, never
    content. Someone who has not accepted their invitation gets a new link."""
    agreement = Agreement.objects.with_content().with_life().get(pk=agreement_id)

    def context_for(user, _other):
        return {**_sign_in_or_invitation(agreement, user), "todo": agreement.todo_for(user)}

    _mail_both(agreement, "program_reminder", context_for)
    return "sent"
