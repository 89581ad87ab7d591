"""Faults the task worker must survive, with real processes and servers: a
worker killed with SIGKILL mid-seal, a mail server down then up, a full disk,
its database connections terminated, and two clusters racing for the same
queue. Each promise is kept exactly once: one sealed PDF, one email each."""

import hashlib
import math
import os
import time
from urllib.parse import quote

import pytest
from django.db import connection
from django.urls import reverse

from agreements import demo, pdf, seal
from agreements.models import AgreementVersion, AuditEvent, Effect
from agreements.services import pairing_create
from tests import faults
from tests.faults import SETTLE, expected_emails, wait_until
from tests.helpers import START, fresh, invite_newcomers, make_user

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="The fault tests run the worker on PostgreSQL, as production does: "
        "set DATABASE_URL to a PostgreSQL server.",
    ),
    # The worker is another process: it sees committed data only.
    pytest.mark.django_db(transaction=True),
]

PAGE = 4096
# Under TASK_RETRY: an effect done this soon after a fault lost no attempt to
# it (a lost one comes back only when django-q2 hands the task out again).
PROMPTLY = 8


# Fixtures --------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _real_queue(settings):
    # Promises go to the database queue for the worker, not run in-process.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}


@pytest.fixture
def mail_server():
    """A local SMTP server, not yet listening: ``smtp`` starts it."""
    server = faults.MailSink()
    yield server
    server.stop()


@pytest.fixture
def smtp(mail_server):
    mail_server.start()
    return mail_server


@pytest.fixture
def start_worker(settings, mail_server, tmp_path):
    """Starts ``manage.py qcluster`` on the test database; all are killed at teardown."""
    workers = []

    def start(**env):
        worker = faults.Worker(
            worker_env(settings, mail_server.port, **env),
            tmp_path / f"worker-{len(workers) + 1}.log",
        )
        workers.append(worker)
        worker.wait_until_running()
        return worker

    yield start
    for worker in workers:
        worker.kill()


@pytest.fixture
def tmpfs(tmp_path):
    disk = faults.Tmpfs(tmp_path / "tmpfs")
    yield disk
    disk.unmount()


def worker_env(settings, mail_port, **extra):
    database = connection.settings_dict
    url = (
        f"postgres://{quote(database['USER'] or 'postgres')}:{quote(database['PASSWORD'] or '')}"
        f"@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
        f"/{quote(database['NAME'])}"
    )
    inherited = {
        key: value
        for key, value in os.environ.items()
        if key not in {"CONN_MAX_AGE", "CONN_HEALTH_CHECKS", "Q_CLUSTER_NAME"}
    }
    return {
        **inherited,
        "DATABASE_URL": url,
        "TASKS_SYNC": "false",
        "DEBUG": "false",
        # The same key as the test process: it signs the queued tasks.
        "SECRET_KEY": settings.SECRET_KEY,
        "SECURE_SSL_REDIRECT": "false",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "SEAL_KEY_FILE": str(settings.SEAL_KEY_FILE),
        "SEAL_CERT_FILE": str(settings.SEAL_CERT_FILE),
        "SEAL_ROOT_CERT_FILE": str(settings.SEAL_ROOT_CERT_FILE),
        "SEAL_ROOT_KEY_FILE": str(settings.SEAL_ROOT_KEY_FILE),
        "SEAL_TSA_URL": "",
        "TASK_WORKERS": "1",
        # A signed PDF renders and seals in about a second; a dead worker's
        # task comes back after TASK_RETRY, once its lease (TASK_TIMEOUT) is over.
        "TASK_TIMEOUT": "8",
        "TASK_RETRY": "10",
        "EFFECT_RETRY_DELAY": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mail_port),
        "EMAIL_TIMEOUT": "5",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


# Helpers ---------------------------------------------------------------------


def sign_both(agreement):
    """Both parties sign: the seal is promised to the worker."""
    demo.sign_as(agreement, agreement.mentor)
    demo.sign_as(agreement, agreement.mentee)
    return AgreementVersion.objects.get(pk=fresh(agreement).version_in_force.pk)


def ready_pair(program, admin, number):
    """A fresh pair's agreement, written and agreed by both: ready to sign."""
    agreement = pairing_create(
        program=program,
        mentor=make_user(f"mentor{number}@example.com", f"Mentor {number}"),
        mentee=make_user(f"mentee{number}@example.com", f"Mentee {number}"),
        created_by=admin,
    )
    demo.write_all(agreement, by=agreement.mentor, start=START)
    demo.agree_all(agreement)
    return fresh(agreement)


def folder(settings, version):
    return settings.MEDIA_ROOT / "agreements" / str(version.agreement.uuid)


def sealed_files(settings, version):
    return sorted(folder(settings, version).glob(f"version-{version.number}-sealed-*.pdf"))


def sealed_rows(version):
    return AuditEvent.objects.filter(
        agreement_id=version.agreement_id,
        kind=AuditEvent.Kind.PDF_SEALED,
        details__version=version.number,
    ).count()


def seal_effect(version):
    return Effect.objects.get(key=version.seal_key)


def signed_emails(version):
    return Effect.objects.filter(key__startswith=f"email:agreement_signed:version:{version.pk}:")


def email_effects():
    return Effect.objects.filter(kind=Effect.Kind.EMAIL)


def all_done(count):
    """True once ``count`` effects exist and every one is done."""
    effects = Effect.objects.all()
    return effects.count() == count and not effects.outstanding().exists()


def assert_sealed_once(settings, version):
    """One whole sealed PDF on disk for the version, the one the database names,
    one PDF_SEALED row, and nothing else left in its folder."""
    version = AgreementVersion.objects.select_related("agreement").get(pk=version.pk)
    (path,) = sealed_files(settings, version)
    data = path.read_bytes()
    assert version.pdf.name.endswith(path.name)
    assert hashlib.sha256(data).hexdigest() == version.pdf_sha256
    status = seal.validate_sealed_pdf(data)
    assert status.ok, status.summary
    assert sealed_rows(version) == 1
    # The kept rendering goes once the seal is stored.
    assert [entry.name for entry in folder(settings, version).iterdir()] == [path.name]


def assert_each_email_arrived_once(mail_server, expected_count):
    """After a pause for stragglers: exactly the emails the effects promise,
    each once, as the app's email functions write them."""
    time.sleep(SETTLE)
    expected = expected_emails(email_effects())
    assert sum(expected.values()) == expected_count
    assert set(expected.values()) == {1}
    assert mail_server.counts() == expected


def wait_until_claimed(version, worker):
    """Until the worker has taken the seal and is rendering it (about a second)."""

    def claimed():
        effect = seal_effect(version)
        if effect.state == Effect.State.DONE:
            pytest.fail("The seal was done before the fault could hit it mid-seal.")
        return effect.attempts == 1 and effect.running_until is not None

    wait_until(claimed, "the worker to claim the seal", workers=[worker])


def terminate_other_backends():
    """From the test's own connection: end every other connection to the test
    database, as a PostgreSQL restart or a failover would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
            "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["NAME"]],
        )
        (terminated,) = cursor.fetchone()
    return terminated


# A worker killed mid-seal ------------------------------------------------------


def test_a_worker_killed_mid_seal_leaves_one_sealed_pdf_and_one_email_each(
    ready, settings, smtp, start_worker
):
    first = start_worker()
    version = sign_both(ready)

    wait_until_claimed(version, first)
    first.kill()
    effect = seal_effect(version)
    assert (effect.state, effect.attempts) == (Effect.State.PENDING, 1)

    # django-q2 hands the task out again once TASK_RETRY has passed; the
    # dead worker's lease has run out by then.
    second = start_worker()
    wait_until(lambda: all_done(3), "the seal and both emails", workers=[first, second])

    assert_sealed_once(settings, version)
    effect = seal_effect(version)
    assert (effect.attempts, effect.last_error) == (2, "")
    assert signed_emails(version).count() == 2
    assert_each_email_arrived_once(smtp, 2)
    assert {recipient for recipient, _ in smtp.counts()} == {
        ready.mentor.email,
        ready.mentee.email,
    }


# The mail server down, then up ---------------------------------------------------


def test_emails_queued_while_smtp_is_down_arrive_once_when_it_is_back(
    client, agreement, mentor, program, program_admin, mail_server, start_worker
):
    worker = start_worker()
    invite_newcomers(program, program_admin, 1)
    response = client.post(reverse("password_reset"), {"email": mentor.email})
    assert response.status_code == 302
    assert agreement.consent_to_share("goals", by=mentor)

    def all_failed_once():
        effects = list(email_effects())
        return len(effects) == 4 and all(
            effect.state == Effect.State.PENDING and effect.attempts >= 1 and effect.last_error
            for effect in effects
        )

    wait_until(all_failed_once, "every email to fail with the mail server down", workers=[worker])
    assert mail_server.counts() == {}
    assert all("refused" in effect.last_error.lower() for effect in email_effects())

    # The retries come from django-q2's scheduler, about every 30 s.
    mail_server.start()
    wait_until(lambda: all_done(4), "every email to be sent", workers=[worker])

    assert_each_email_arrived_once(mail_server, 4)
    recipients = {recipient for recipient, _ in mail_server.counts()}
    assert recipients == {
        "new-mentor1@example.com",
        "new-mentee1@example.com",
        mentor.email,
        agreement.mentee.email,
    }


# A full disk ---------------------------------------------------------------------


def pages(data):
    return math.ceil(len(data) / PAGE)


def test_a_full_disk_fails_the_seal_cleanly_and_it_is_sealed_once_space_is_back(
    ready, settings, tmpfs, smtp, start_worker
):
    version = sign_both(ready)
    # Room for the rendering (kept while sealing) but not for the sealed copy too.
    rendering = pdf.render_signed_pdf(version)
    sealed = seal.seal_pdf(rendering, reason="size check", location=settings.SITE_URL)
    tmpfs.mount((pages(rendering) + pages(sealed) // 2) * PAGE)
    settings.MEDIA_ROOT = tmpfs.path
    worker = start_worker()

    def failed_for_space():
        effect = seal_effect(version)
        assert effect.state != Effect.State.DONE, "sealed on a disk that should be full"
        return effect.last_error and effect

    effect = wait_until(failed_for_space, "the seal to fail for space", workers=[worker])
    assert "[Errno 28]" in effect.last_error, effect.last_error
    assert effect.state == Effect.State.PENDING
    version = AgreementVersion.objects.select_related("agreement").get(pk=version.pk)
    assert not version.is_sealed
    # Only the kept rendering: no sealed file, whole or partial, no temporary file.
    assert version.unsealed_pdf
    entries = [entry.name for entry in folder(settings, version).iterdir()]
    assert entries == [os.path.basename(version.unsealed_pdf.name)]
    assert sealed_rows(version) == 0
    assert not signed_emails(version).exists()

    tmpfs.resize("64m")
    wait_until(lambda: all_done(3), "the seal and both emails", workers=[worker])

    assert_sealed_once(settings, version)
    assert seal_effect(version).attempts >= 2
    assert_each_email_arrived_once(smtp, 2)


# The database connections terminated ---------------------------------------------


@pytest.mark.parametrize(
    "connections",
    [{"CONN_MAX_AGE": "0"}, {"CONN_MAX_AGE": "60"}],
    ids=["closed-after-each-task", "kept-for-60s"],
)
def test_a_worker_carries_on_after_its_database_connections_are_terminated(
    connections, mentor, mentee, outsider, smtp, start_worker
):
    worker = start_worker(**connections)

    def reset(user):
        return Effect.objects.promise_email("password_reset", to=user, about="request:1")

    reset(mentor)
    wait_until(lambda: all_done(1), "the first email", workers=[worker])
    for round_, user in enumerate([mentee, outsider], start=1):
        assert terminate_other_backends() >= 1
        reset(user)
        wait_until(
            lambda n=round_: all_done(1 + n),
            f"email {1 + round_} after the connections were terminated",
            workers=[worker],
            deadline=PROMPTLY,
        )
        # The same cluster carried on: its main process never exited.
        assert worker.alive

    assert_each_email_arrived_once(smtp, 3)


def test_connections_terminated_mid_seal_cost_one_attempt_and_seal_once(
    ready, settings, smtp, start_worker
):
    worker = start_worker()
    version = sign_both(ready)
    wait_until_claimed(version, worker)

    assert terminate_other_backends() >= 1
    wait_until(lambda: all_done(3), "the seal and both emails", workers=[worker])

    assert worker.alive
    assert_sealed_once(settings, version)
    assert seal_effect(version).attempts == 2
    assert_each_email_arrived_once(smtp, 2)


# Two clusters at once ------------------------------------------------------------


def test_two_clusters_seal_and_send_everything_exactly_once(
    program, program_admin, settings, smtp, start_worker
):
    agreements = [ready_pair(program, program_admin, number) for number in range(3)]
    workers = [start_worker(TASK_WORKERS="2"), start_worker(TASK_WORKERS="2")]

    versions = [sign_both(agreement) for agreement in agreements]
    for number in range(4):
        invite_newcomers(program, program_admin, number)

    # 3 seals, then 2 emails per sealed version, and 2 invitations per pairing.
    wait_until(lambda: all_done(3 + 6 + 8), "every effect", workers=workers)

    for version in versions:
        assert_sealed_once(settings, version)
    assert_each_email_arrived_once(smtp, 6 + 8)
    assert all(worker.alive for worker in workers)
    # Both took part: the race was real.
    assert all(worker.tasks_started() for worker in workers), faults.describe(workers)
