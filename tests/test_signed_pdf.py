"""The signed PDF: rendered once after both signatures, sealed, stored and served
byte for byte; its attachments and completion page; retries; public verification."""

import datetime
import hashlib
import io
import json
import re

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pypdf import PdfReader

from agreements import demo, pdf, tasks
from agreements.content import canonical_json
from agreements.models import Agreement, AgreementVersion, AuditEvent, Effect, User
from agreements.seal import SealError, validate_sealed_pdf
from agreements.seal import seal_pdf as real_seal_pdf
from tests.helpers import (
    PERSONAS,
    client_for,
    fresh,
    make_agreement,
    make_program,
    make_ready,
    make_user,
)

# Long enough ago that every clock, the database's too, agrees the lease is over.
LEASE_RAN_OUT = datetime.timedelta(seconds=5)

GOAL_TEXT = "Lead a project from kick-off to delivery."
CONFIDENTIALITY_TEXT = "Performance feedback, team dynamics, career plans."
NOT_A_FINGERPRINT = "That is not a SHA-256 fingerprint"


# Helpers ---------------------------------------------------------------------


def sign_both(agreement, capture):
    """Both parties sign; the commit callbacks (render, seal, notify) run."""
    demo.sign_as(agreement, agreement.mentor)
    with capture(execute=True):
        demo.sign_as(agreement, agreement.mentee)
    return AgreementVersion.objects.get(pk=fresh(agreement).version_in_force.pk)


def stored(field):
    with field.open("rb") as file:
        return file.read()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def squash(text):
    """Without any whitespace: extraction breaks long hashes and URLs anywhere."""
    return re.sub(r"\s+", "", text)


def last_page(pdf):
    return squash(PdfReader(io.BytesIO(pdf)).pages[-1].extract_text())


def attachment(pdf, name):
    (data,) = PdfReader(io.BytesIO(pdf)).attachments[name]
    return data


def version_url(name, version):
    return reverse(f"agreements:{name}", args=[version.agreement.uuid, version.number])


def verify(client, **query):
    return client.get(reverse("verify"), query)


def downloads(agreement):
    return AuditEvent.objects.filter(
        agreement=agreement, kind=AuditEvent.Kind.PDF_DOWNLOADED
    ).count()


def body(response):
    return b"".join(response.streaming_content)


@pytest.fixture
def renders(monkeypatch):
    """The versions rendered by the task, in order (the real renderer still runs)."""
    calls = []
    original = tasks.pdf.render_signed_pdf

    def counting(version):
        calls.append(version.pk)
        return original(version)

    monkeypatch.setattr(tasks.pdf, "render_signed_pdf", counting)
    return calls


def break_sealing(monkeypatch):
    def refuse(*args, **kwargs):
        raise SealError("Cannot read the seal key: permission denied.")

    monkeypatch.setattr(tasks.seal, "seal_pdf", refuse)


@pytest.fixture(scope="module")
def _sealed_once(module_db, django_db_blocker):
    """Signed by both and sealed once for the module (about a second), for the
    tests that only read it: the personas' names, at addresses of their own so
    that the persona fixtures of the other tests can live beside them."""
    with django_db_blocker.unblock():
        people = {
            role: make_user(f"signed-{email}", name) for role, (email, name) in PERSONAS.items()
        }
        program = make_program("Test Programme", people["program_admin"])
        agreement = make_agreement(
            program, people["mentor"], people["mentee"], people["program_admin"]
        )
        version = sign_both(make_ready(agreement), TestCase.captureOnCommitCallbacks)
    return {"version": version.pk, "people": {role: user.pk for role, user in people.items()}}


@pytest.fixture
def sealed(_sealed_once, module_db, settings, db):
    """The sealed version, shared by the module's tests: read it, never change it."""
    settings.MEDIA_ROOT = module_db.media_root
    return AgreementVersion.objects.get(pk=_sealed_once["version"])


@pytest.fixture
def shared_person(_sealed_once, db):
    """One of the personas of the shared sealed agreement, by fixture name."""
    return lambda role: User.objects.get(pk=_sealed_once["people"][role])


@pytest.fixture
def sealed_to_amend(ready, django_capture_on_commit_callbacks):
    """A sealed version of the test's own, for a test that changes it."""
    return sign_both(ready, django_capture_on_commit_callbacks)


# The sealed file -------------------------------------------------------------


def test_both_signatures_produce_a_sealed_pdfa_file(sealed):
    pdf = stored(sealed.pdf)

    assert sealed.is_sealed
    assert validate_sealed_pdf(pdf).ok
    assert sealed.pdf_sha256 == sha256(pdf)
    assert pdf.startswith(b"%PDF-1.7")
    reader = PdfReader(io.BytesIO(pdf))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfaid:part(="|>)3', xmp)
    assert not sealed.unsealed_pdf
    assert AuditEvent.objects.filter(
        agreement=sealed.agreement, kind=AuditEvent.Kind.PDF_SEALED
    ).exists()


def test_embedded_content_rehashes_to_the_hash_printed_on_the_completion_page(sealed):
    pdf = stored(sealed.pdf)
    content = attachment(pdf, "agreement.json")

    assert content == sealed.canonical_json.encode("utf-8")
    assert sha256(content) == sealed.content_hash
    assert sealed.content_hash in last_page(pdf)


def test_embedded_evidence_rehashes_and_its_hashes_are_printed(sealed, settings):
    pdf = stored(sealed.pdf)
    page = last_page(pdf)
    evidence = json.loads(attachment(pdf, "evidence.json"))["signatures"]

    signatures = sealed.signatures.filter(voided_at__isnull=True)
    assert {item["evidence_hash"] for item in evidence} == {s.evidence_hash for s in signatures}
    assert len(evidence) == 2
    for item in evidence:
        assert sha256(canonical_json(item["evidence"]).encode()) == item["evidence_hash"]
        assert item["evidence"]["content_hash"] == sealed.content_hash
        assert item["evidence_hash"] in page
    assert squash(f"{settings.SITE_URL}/verify/?hash={sealed.content_hash}") in page


def test_completion_page_prints_the_audit_head_of_the_moment_it_was_rendered(sealed):
    page = last_page(stored(sealed.pdf))

    # Headings are upper-cased by the stylesheet.
    match = re.search(r"audittrailhead([0-9a-f]{64})", page.lower())
    assert match, page
    events = list(AuditEvent.objects.filter(agreement=sealed.agreement).order_by("sequence"))
    assert match.group(1) in {event.entry_hash for event in events}
    # Rendered after the version came into force, before the seal was recorded.
    assert [e.kind for e in events][-2:] == [AuditEvent.Kind.IN_FORCE, AuditEvent.Kind.PDF_SEALED]
    assert match.group(1) == events[-2].entry_hash


# Downloads ------------------------------------------------------------------


def test_downloads_serve_the_stored_bytes_without_rendering_again(
    client, ready, mentor, mentee, renders, django_capture_on_commit_callbacks
):
    version = sign_both(ready, django_capture_on_commit_callbacks)
    pdf = stored(version.pdf)
    assert renders == [version.pk]

    client_for(client, mentor)
    first = client.get(version_url("version_pdf", version))
    second = client.get(version_url("version_pdf", version))
    client_for(client, mentee)
    redirected = client.get(reverse("agreements:pdf", args=[ready.uuid]), follow=True)

    for response in (first, second, redirected):
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert body(response) == pdf
    assert redirected.redirect_chain == [(version_url("version_pdf", version), 302)]
    assert renders == [version.pk]
    assert downloads(ready) == 3
    latest = AuditEvent.objects.filter(agreement=ready).order_by("sequence").last()
    assert latest.actor == mentee
    assert latest.details["pdf_sha256"] == version.pdf_sha256


# A failing seal -------------------------------------------------------------


def test_failed_seal_leaves_nothing_marked_sealed_and_seal_pending_recovers(
    client, monkeypatch, ready, mentor, renders, django_capture_on_commit_callbacks
):
    break_sealing(monkeypatch)

    version = sign_both(ready, django_capture_on_commit_callbacks)

    assert not version.is_sealed
    assert not version.pdf
    assert version.sealed_at is None
    assert version.pdf_sha256 == ""
    effect = Effect.objects.get(key=version.seal_key)
    assert (effect.state, effect.attempts) == (Effect.State.PENDING, 1)
    assert "seal key" in effect.last_error
    unsealed_name = version.unsealed_pdf.name
    unsealed = stored(version.unsealed_pdf)
    assert unsealed.startswith(b"%PDF")

    client_for(client, mentor)
    page = client.get(reverse("agreements:detail", args=[ready.uuid]))
    assert "Sealing pending" in page.text
    assert "Download the signed PDF" not in page.text
    response = client.get(version_url("version_pdf", version), follow=True)
    versions_url = reverse("agreements:version_list", args=[ready.uuid])
    assert response.redirect_chain == [(versions_url, 302)]
    assert "The signed PDF is being sealed" in response.text
    assert not response.content.startswith(b"%PDF")
    assert downloads(ready) == 0
    client.logout()
    assert "Not on record" in verify(client, sha256=sha256(unsealed)).text
    assert mail.outbox == []

    monkeypatch.setattr(tasks.seal, "seal_pdf", real_seal_pdf)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seal_pending", stdout=io.StringIO())

    version.refresh_from_db()
    assert version.is_sealed
    pdf = stored(version.pdf)
    assert validate_sealed_pdf(pdf).ok
    assert version.pdf_sha256 == sha256(pdf)
    effect.refresh_from_db()
    assert (effect.state, effect.last_error) == (Effect.State.DONE, "")
    # The kept rendering was sealed: no second rendering, same bytes underneath.
    assert renders == [version.pk]
    assert pdf.startswith(unsealed)
    assert not version.unsealed_pdf
    assert not default_storage.exists(unsealed_name)
    assert len(mail.outbox) == 2


def test_failed_seal_is_retried_later_with_a_growing_delay_then_marked_failed(
    settings, monkeypatch, ready, django_capture_on_commit_callbacks
):
    settings.EFFECT_MAX_ATTEMPTS = 3
    break_sealing(monkeypatch)
    version = sign_both(ready, django_capture_on_commit_callbacks)
    effect = Effect.objects.get(key=version.seal_key)

    delays = []
    for attempt in (2, 3):
        (retry,) = Schedule.objects.filter(func="agreements.tasks.run_effect")
        assert (retry.args, retry.schedule_type) == (f"({effect.pk},)", Schedule.ONCE)
        delays.append(retry.next_run - timezone.now())
        retry.delete()  # as django-q2's scheduler does once it has queued it
        assert tasks.run_effect(effect.pk) == ("will retry" if attempt < 3 else "failed")
        effect.refresh_from_db()
        assert effect.attempts == attempt

    # About one minute, then two: the delay doubles after each failure.
    assert datetime.timedelta(seconds=55) < delays[0] < datetime.timedelta(seconds=61)
    assert datetime.timedelta(seconds=115) < delays[1] < datetime.timedelta(seconds=121)
    assert effect.state == Effect.State.FAILED
    assert "seal key" in effect.last_error
    assert not Schedule.objects.filter(func="agreements.tasks.run_effect").exists()
    assert tasks.run_effect(effect.pk) == "nothing to do"
    version.refresh_from_db()
    assert not version.is_sealed

    # An operator fixes the key and tries again.
    monkeypatch.setattr(tasks.seal, "seal_pdf", real_seal_pdf)
    with django_capture_on_commit_callbacks(execute=True):
        assert effect.retry()
    version.refresh_from_db()
    assert version.is_sealed
    assert Effect.objects.get(pk=effect.pk).state == Effect.State.DONE


# Tampering ------------------------------------------------------------------


def test_one_flipped_byte_in_the_stored_file_fails_validation(sealed):
    pdf = bytearray(stored(sealed.pdf))
    assert validate_sealed_pdf(bytes(pdf)).ok
    # Inside the rendering itself, which ends at the first %%EOF; the seal follows.
    pdf[pdf.index(b"%%EOF") // 2] ^= 0x01

    assert not validate_sealed_pdf(bytes(pdf)).ok


def test_update_appended_to_the_stored_file_fails_validation(sealed):
    pdf = stored(sealed.pdf)
    assert validate_sealed_pdf(pdf).ok
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    info = writer.trailer.raw_get("/Info")
    info.get_object()["/Title"] = generic.TextStringObject("Forged")
    writer.mark_update(info)
    output = io.BytesIO()
    writer.write(output)
    updated = output.getvalue()
    assert updated.startswith(pdf) and len(updated) > len(pdf)

    status = validate_sealed_pdf(updated)

    assert not status.ok
    assert not status.unchanged
    assert not validate_sealed_pdf(pdf + b"% appended\n").ok


# Public verification ---------------------------------------------------------


def test_verify_finds_the_sealed_file_and_reveals_no_content(
    client, sealed, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = verify(client, sha256=sealed.pdf_sha256)

    assert response.status_code == 200
    assert "Genuine, and in force" in response.text
    assert "This exact file is the sealed PDF of version 1" in response.text
    agreement = sealed.agreement
    secrets = [
        agreement.mentor.full_name,
        agreement.mentee.full_name,
        agreement.mentor.email,
        agreement.program.name,
    ]
    for secret in [*secrets, GOAL_TEXT, CONFIDENTIALITY_TEXT, "Salary negotiations"]:
        assert secret not in response.text


def test_verify_finds_the_content_hash(client, sealed):
    response = verify(client, hash=sealed.content_hash)

    assert response.status_code == 200
    assert "Genuine, and in force" in response.text
    assert "This fingerprint is the signed content of version 1" in response.text


def test_verify_accepts_an_upper_case_fingerprint(client, sealed):
    response = verify(client, sha256=f"  {sealed.pdf_sha256.upper()} ")

    assert "Genuine, and in force" in response.text


def test_after_an_amendment_the_old_file_is_amended_and_the_new_one_in_force(
    client, sealed_to_amend, mentor, django_capture_on_commit_callbacks
):
    sealed = sealed_to_amend
    agreement = fresh(sealed.agreement)
    agreement.start_amendment(by=mentor)
    agreement = fresh(agreement)

    def move_meetings(agreement):
        agreement.schedule.location = "The library, second floor"
        agreement.schedule.save()

    schedule = agreement.sections_by_kind["schedule"]
    assert agreement.save_section(
        "schedule",
        by=mentor,
        expected_revision=schedule.revision,
        save=lambda: move_meetings(agreement),
    )
    demo.agree_all(fresh(agreement), kinds=["schedule"])
    amended = sign_both(fresh(agreement), django_capture_on_commit_callbacks)

    assert amended.number == 2 and amended.is_sealed
    old = verify(client, sha256=sealed.pdf_sha256)
    assert old.status_code == 200
    assert "Genuine, but amended" in old.text
    assert "by version 2, which both parties signed" in old.text
    assert "Genuine, and in force" not in old.text
    new = verify(client, sha256=amended.pdf_sha256)
    assert "Genuine, and in force" in new.text
    assert "sealed PDF of version 2" in new.text
    # The superseded file stays downloadable, unchanged.
    client_for(client, mentor)
    response = client.get(version_url("version_pdf", sealed))
    assert body(response) == stored(sealed.pdf)


def test_verify_does_not_know_content_signed_by_one_party_only(client, ready):
    demo.sign_as(ready, ready.mentor)
    pending = fresh(ready).pending_version

    response = verify(client, hash=pending.content_hash)

    assert response.status_code == 200
    assert "Not on record" in response.text


def test_verify_does_not_know_an_unknown_fingerprint(client, sealed):
    response = verify(client, sha256="ab" * 32)

    assert response.status_code == 200
    assert "Not on record" in response.text
    assert "Genuine" not in response.text


@pytest.mark.parametrize(
    "query",
    ["sha256=xyz", "sha256=" + "a" * 100_000, "sha256=%00", "hash=" + "a" * 63 + "%00"],
    ids=["short", "100kb", "nul", "hash-with-nul"],
)
def test_verify_explains_malformed_input(client, sealed, query):
    response = client.get(f"{reverse('verify')}?{query}")

    assert response.status_code == 200
    assert NOT_A_FINGERPRINT in response.text
    assert "Not on record" not in response.text
    assert "Genuine" not in response.text


def test_root_certificate_is_public(client, settings):
    response = client.get(reverse("verify_root_certificate"))

    assert response.status_code == 200
    assert body(response) == settings.SEAL_ROOT_CERT_FILE.read_bytes()
    assert "attachment" in response["Content-Disposition"]


# Emails ---------------------------------------------------------------------


def test_each_party_is_told_once_without_any_content(
    settings, ready, mentor, mentee, django_capture_on_commit_callbacks
):
    version = sign_both(ready, django_capture_on_commit_callbacks)

    # mail.outbox, not the mailoutbox fixture: the db fixture's set-up replaces
    # the list, so a mailoutbox taken before it would stay empty.
    assert sorted(message.to for message in mail.outbox) == [[mentee.email], [mentor.email]]
    url = settings.SITE_URL + reverse("agreements:detail", args=[ready.uuid])
    for message in mail.outbox:
        assert url in message.body
        for secret in (GOAL_TEXT, CONFIDENTIALITY_TEXT, "Salary negotiations"):
            assert secret not in message.body
            assert secret not in message.subject
    notices = Effect.objects.filter(key__startswith=f"email:agreement_signed:version:{version.pk}:")
    assert [effect.state for effect in notices] == [Effect.State.DONE] * 2

    # Run again (a retry, a second worker, a re-queue): nothing is sent twice.
    for effect in notices:
        assert tasks.run_effect(effect.pk) == "nothing to do"
    with django_capture_on_commit_callbacks(execute=True):
        version.store_sealed(b"%PDF-not-again", timestamped=False)
        call_command("seal_pending", stdout=io.StringIO())
    assert len(mail.outbox) == 2


# Access ---------------------------------------------------------------------

VERSION_VIEWS = ["version_pdf", "version_detail"]


@pytest.mark.parametrize("user", ["outsider", "program_admin"])
def test_non_party_gets_404_for_versions_and_the_signed_pdf(client, sealed, user, shared_person):
    client_for(client, shared_person(user))
    urls = [version_url(name, sealed) for name in VERSION_VIEWS]
    urls.append(reverse("agreements:version_list", args=[sealed.agreement.uuid]))

    for url in urls:
        response = client.get(url)
        assert response.status_code == 404, url
        assert not response.content.startswith(b"%PDF")
    assert downloads(sealed.agreement) == 0


def test_anonymous_is_redirected_to_login_for_versions_and_the_signed_pdf(client, sealed):
    urls = [version_url(name, sealed) for name in VERSION_VIEWS]
    urls.append(reverse("agreements:version_list", args=[sealed.agreement.uuid]))

    for url in urls:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"
    assert downloads(sealed.agreement) == 0


def test_a_delivery_while_another_worker_holds_the_seal_stays_queued(ready, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    demo.sign_as(ready, ready.mentor)
    demo.sign_as(ready, ready.mentee)
    version = fresh(ready).version_in_force
    effect = Effect.objects.get(key=version.seal_key)
    assert effect.claim()  # another worker took it and is sealing it now

    # Raising keeps the delivery in django-q2's queue: should that worker die,
    # it comes back once the lease has run out and finishes the seal.
    with pytest.raises(tasks.EffectBusy):
        tasks.run_effect(effect.pk)

    Effect.objects.filter(pk=effect.pk).update(running_until=timezone.now() - LEASE_RAN_OUT)
    assert tasks.run_effect(effect.pk) == "done"
    version.refresh_from_db()
    assert version.is_sealed
    assert tasks.run_effect(effect.pk) == "nothing to do"


def test_trying_again_leaves_an_effect_a_worker_holds_alone(ready, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    demo.sign_as(ready, ready.mentor)
    demo.sign_as(ready, ready.mentee)
    effect = Effect.objects.get(key=fresh(ready).version_in_force.seal_key)
    assert effect.claim()

    # Neither the admin's action nor seal_pending lets a second worker in.
    assert not effect.retry()
    call_command("seal_pending", stdout=io.StringIO())
    effect.refresh_from_db()
    assert effect.is_held and effect.attempts == 1


def test_the_pair_is_told_when_sealing_has_failed_for_good(
    client, settings, monkeypatch, ready, mentor, django_capture_on_commit_callbacks
):
    settings.EFFECT_MAX_ATTEMPTS = 1
    break_sealing(monkeypatch)

    version = sign_both(ready, django_capture_on_commit_callbacks)

    assert Effect.objects.get(key=version.seal_key).state == Effect.State.FAILED
    client_for(client, mentor)
    page = client.get(reverse("agreements:detail", args=[ready.uuid]))
    assert "Sealing failed" in page.text
    assert "Sealing pending" not in page.text
    response = client.get(version_url("version_pdf", version), follow=True)
    assert "Sealing the signed PDF failed several times" in response.text
    assert "Sealing failed" in response.text  # the versions page's badge
    assert downloads(ready) == 0


def test_the_certificate_names_the_provider_a_signer_logged_in_again_with(ready):
    """A signature confirmed by a fresh login at the organisation's provider:
    the certificate says so, translated, with the provider and its auth_time."""
    auth_time = datetime.datetime(2026, 3, 4, 9, 15, 30, tzinfo=datetime.UTC)
    agreement = Agreement.objects.with_working_copy().get(pk=ready.pk)
    agreement.sign(
        by=agreement.mentor,
        typed_name=agreement.mentor.full_name,
        seen_hash=agreement.content_hash,
        authenticated_by="sign_on",
        identity_provider={"name": "University of Example", "auth_time": auth_time},
    )
    demo.sign_as(agreement, agreement.mentee)
    version = fresh(agreement).version_in_force

    text = last_page(pdf.render_signed_pdf(version))

    assert (
        squash(
            "Authenticated at the organisation's single sign-on within the 5 minutes before "
            "signing."
        )
        in text
    )
    assert squash("University of Example, authenticated at 2026-03-04 09:15:30 UTC") in text
    assert squash("Password entered again to sign.") in text
