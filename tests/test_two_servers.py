"""Beyond one machine (docs/topology.md): two web servers (gunicorn) and a task
worker (qcluster), real processes, sharing the test database, one bucket on a
local S3-compatible server (moto's) and one Redis, all configured by the
environment as production would be. What one machine does, the others see: a
PDF the worker stores downloads byte for byte from either web server, a
lockout counted on one server holds on the other, and any machine sees the
worker through Redis."""

import hashlib
import http.cookiejar
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import quote, urlencode

import boto3
import pytest
import redis
from botocore.config import Config
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.db import connection
from django.urls import reverse
from django_q.humanhash import humanize

from agreements import demo, seal
from agreements.models import AgreementVersion, Effect
from agreements.objectstorage import PrivateS3Storage
from tests import faults
from tests.faults import wait_until
from tests.helpers import PASSWORD, fresh

pytestmark = [
    # The servers and the worker are other processes: they see committed data only.
    pytest.mark.django_db(transaction=True),
]

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).with_name("gunicorn")
GUNICORN_CONF = BASE_DIR / "mentorship" / "gunicorn.conf.py"
REDIS_SERVER = "/usr/bin/redis-server"
BUCKET = "mentorship-test"
REGION = "us-east-1"
FAILURE_LIMIT = 3
# Generous: under CI both suites run at once, two test processes each, on 2 cores.
DEADLINE = 120


# The machines -------------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ready_within(check, what, process, log_path, deadline=DEADLINE):
    """Poll ``check()`` until it stops raising; fail with the process's log if
    the process exits or ``deadline`` seconds pass first."""
    stop = time.monotonic() + deadline
    while True:
        try:
            return check()
        except Exception:
            if process.poll() is not None or time.monotonic() > stop:
                log = Path(log_path).read_text(errors="replace")[-4000:]
                pytest.fail(f"{what} did not start (exit code {process.poll()}):\n{log}")
            time.sleep(0.1)


class Service:
    """A server process of the test's own, on loopback, its output in a log file."""

    def __init__(self, command, log_path, env=None, url=None):
        self.log_path = log_path
        self.url = url
        self._log = open(log_path, "wb")  # closed in stop()
        self.process = subprocess.Popen(  # noqa: S603
            command, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()


@pytest.fixture(scope="module")
def object_store(tmp_path_factory):
    """moto's S3-compatible server with an empty bucket; yields its URL and a client."""
    port = free_port()
    logs = tmp_path_factory.mktemp("object-store")
    server = Service(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        logs / "moto.log",
    )
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106
    )
    try:
        ready_within(client.list_buckets, "moto's S3 server", server.process, server.log_path)
        client.create_bucket(Bucket=BUCKET)
        yield SimpleNamespace(endpoint=endpoint, client=client)
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared_redis(tmp_path_factory):
    """A Redis of the test's own on a free port, keeping nothing on disk."""
    if not os.access(REDIS_SERVER, os.X_OK):
        pytest.fail(f"No {REDIS_SERVER}: install Debian's redis-server package to run this.")
    port = free_port()
    folder = tmp_path_factory.mktemp("redis")
    options = {"bind": "127.0.0.1", "port": port, "save": "", "appendonly": "no", "dir": folder}
    command = [REDIS_SERVER]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    server = Service(command, folder / "redis.log")
    url = f"redis://127.0.0.1:{port}/0"
    try:
        ready_within(
            redis.Redis.from_url(url).ping, "redis-server", server.process, server.log_path
        )
        yield url
    finally:
        server.stop()


def database_url():
    """The test database, for the other processes."""
    database = connection.settings_dict
    if connection.vendor == "sqlite":
        # The test database is a file (tests/conftest.py): every process opens it.
        return f"sqlite:///{database['NAME']}"
    return (
        f"postgres://{quote(database['USER'] or 'postgres')}:{quote(database['PASSWORD'] or '')}"
        f"@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
        f"/{quote(database['NAME'])}"
    )


def machine_env(object_store, redis_url, media_root, seal_dir):
    """The environment every machine gets: the same database, bucket, Redis and keys."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("SEAL_", "AWS_", "S3_", "CONN_", "GUNICORN_", "Q_CLUSTER"))
    }
    return {
        **inherited,
        "DATABASE_URL": database_url(),
        # The same key everywhere: sessions and queued tasks are signed with it.
        "SECRET_KEY": settings.SECRET_KEY,
        # Static files from the finders (no collectstatic into the work tree),
        # and cookies a client keeps over plain http.
        "DEBUG": "true",
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": "127.0.0.1",
        "TASKS_SYNC": "false",
        "STORAGE_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": object_store.endpoint,
        "S3_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "REDIS_URL": redis_url,
        # Stays empty: every stored file goes to the bucket.
        "MEDIA_ROOT": str(media_root),
        "SEAL_DIR": str(seal_dir),
        "SEAL_TSA_URL": "",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "AXES_FAILURE_LIMIT": str(FAILURE_LIMIT),
        "WEB_CONCURRENCY": "1",
        "TASK_WORKERS": "1",
        "EFFECT_RETRY_DELAY": "1",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="module")
def machines(django_db_setup, seal_dir, object_store, shared_redis, tmp_path_factory):
    """Web servers A and B and a task worker, on the test database."""
    logs = tmp_path_factory.mktemp("machines")
    env = machine_env(object_store, shared_redis, logs / "media", seal_dir)
    worker = faults.Worker(env, logs / "worker.log")
    servers = []
    try:
        for name in ("a", "b"):
            port = free_port()
            servers.append(
                Service(
                    [GUNICORN, "-c", GUNICORN_CONF, "mentorship.wsgi"],
                    logs / f"web-{name}.log",
                    env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}"},
                    url=f"http://127.0.0.1:{port}",
                )
            )
        for server in servers:
            ready_within(
                Visitor(server.url).get_login_page, "gunicorn", server.process, server.log_path
            )
        worker.wait_until_running()
        yield SimpleNamespace(
            a=servers[0].url, b=servers[1].url, worker=worker, env=env, media=logs / "media"
        )
    finally:
        for server in servers:
            server.stop()
        worker.kill()


@pytest.fixture(autouse=True)
def _real_queue(settings):
    # What this process promises goes to the database queue, for the worker.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}


# A person at a browser ----------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: object
    body: bytes

    @property
    def text(self):
        return self.body.decode(errors="replace")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Visitor:
    """One browser on one server: its cookies, the CSRF token in its forms, and
    redirects answered, not followed."""

    def __init__(self, base):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirects
        )

    def cookie(self, name):
        return next((cookie.value for cookie in self.cookies if cookie.name == name), None)

    def get(self, path):
        return self._send(path)

    def post(self, path, fields):
        fields = {**fields, "csrfmiddlewaretoken": self.cookie("csrftoken")}
        return self._send(path, urlencode(fields).encode())

    def get_login_page(self):
        return self.get(reverse("login"))

    def _send(self, path, data=None):
        # Only ever http://127.0.0.1:<port>, the servers this test started.
        request = urllib.request.Request(self.base + path, data)  # noqa: S310
        try:
            with self.opener.open(request, timeout=30) as response:
                return Answer(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Answer(error.code, error.headers, error.read())

    def log_in(self, email, password):
        self.get_login_page()
        return self.post(reverse("login"), {"login": email, "password": password})


def with_production_passwords(*users):
    """The test settings hash with MD5, which the servers (Argon2) do not read."""
    hasher = Argon2PasswordHasher()
    for user in users:
        user.password = hasher.encode(PASSWORD, hasher.salt())
        user.save(update_fields=["password"])


def signed_in(base, user):
    visitor = Visitor(base)
    assert visitor.log_in(user.email, PASSWORD).status == 302
    return visitor


def sign(visitor, agreement, user):
    url = reverse("agreements:sign", args=[agreement.uuid])
    assert visitor.get(url).status == 200
    fields = {
        "full_name": user.full_name,
        "consent": "on",
        "password": PASSWORD,
        "content_hash": fresh(agreement).content_hash,
    }
    assert visitor.post(url, fields).status == 302


def stored_object(object_store, key):
    return object_store.client.get_object(Bucket=BUCKET, Key=key)["Body"].read()


def keys_under(object_store, prefix):
    listing = object_store.client.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(entry["Key"] for entry in listing.get("Contents", []))


def assert_pdf(answer, data):
    assert answer.status == 200
    assert answer.headers["Content-Type"] == "application/pdf"
    assert answer.body == data


def assert_nothing_on_local_disk(machines):
    assert not machines.media.exists() or not any(machines.media.rglob("*"))


# Stored PDFs in the bucket --------------------------------------------------------


def test_a_pdf_sealed_by_the_worker_downloads_byte_for_byte_from_either_server(
    machines, object_store, ready
):
    with_production_passwords(ready.mentor, ready.mentee)
    on_a = signed_in(machines.a, ready.mentor)
    on_b = signed_in(machines.b, ready.mentee)

    sign(on_a, ready, ready.mentor)
    sign(on_b, ready, ready.mentee)
    pk = fresh(ready).version_in_force.pk

    def sealed_alone():
        # One object for the version, the sealed PDF: its rendering goes
        # once the seal commits.
        version = AgreementVersion.objects.get(pk=pk)
        keys = keys_under(object_store, f"agreements/{ready.uuid}/")
        return version.is_sealed and keys == [version.pdf.name] and version

    version = wait_until(
        sealed_alone, "the sealed PDF alone in the bucket", workers=[machines.worker]
    )
    data = stored_object(object_store, version.pdf.name)
    assert hashlib.sha256(data).hexdigest() == version.pdf_sha256
    assert seal.validate_sealed_pdf(data).ok
    url = reverse("agreements:version_pdf", args=[ready.uuid, version.number])
    assert_pdf(on_b.get(url), data)
    assert_pdf(on_a.get(url), data)
    assert_nothing_on_local_disk(machines)


def test_a_draft_pdf_asked_for_on_one_server_is_rendered_and_served_by_the_other(
    machines, object_store, ready
):
    with_production_passwords(ready.mentor)
    on_a = signed_in(machines.a, ready.mentor)
    on_b = signed_in(machines.b, ready.mentor)
    url = reverse("agreements:pdf", args=[ready.uuid])

    assert on_a.get(url).status == 202
    wait_until(
        lambda: Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT, state=Effect.State.DONE),
        "the worker to render the draft",
        workers=[machines.worker],
    )

    (key,) = keys_under(object_store, f"drafts/{ready.uuid}/")
    data = stored_object(object_store, key)
    assert data.startswith(b"%PDF")
    assert_pdf(on_b.get(url), data)
    assert_nothing_on_local_disk(machines)


def verify_storage(env):
    return subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "verify_storage"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_pdf_gone_from_the_bucket_is_reported_and_shown_as_missing(machines, object_store, ready):
    with_production_passwords(ready.mentee)
    demo.sign_as(ready, ready.mentor)
    demo.sign_as(ready, ready.mentee)
    version = fresh(ready).version_in_force
    wait_until(
        lambda: AgreementVersion.objects.get(pk=version.pk).is_sealed,
        "the worker to seal the signed version",
        workers=[machines.worker],
    )
    version = AgreementVersion.objects.get(pk=version.pk)
    checked = verify_storage(machines.env)
    assert (checked.returncode, checked.stdout.strip()) == (0, "Checked 1 file: all match.")

    object_store.client.delete_object(Bucket=BUCKET, Key=version.pdf.name)

    checked = verify_storage(machines.env)
    assert checked.returncode == 1
    assert f"{version.pdf.name} MISSING." in checked.stderr
    answer = signed_in(machines.b, ready.mentee).get(
        reverse("agreements:version_pdf", args=[ready.uuid, version.number])
    )
    assert answer.status == 503
    assert "The signed PDF cannot be found right now" in answer.text


# State shared between servers ----------------------------------------------------


def test_a_lockout_counted_on_one_server_holds_on_the_other(machines, mentor):
    with_production_passwords(mentor)
    # The right password works on B to begin with.
    assert Visitor(machines.b).log_in(mentor.email, PASSWORD).status == 302

    on_a = Visitor(machines.a)
    statuses = [on_a.log_in(mentor.email, "wrong").status for _ in range(FAILURE_LIMIT)]
    assert statuses == [200] * (FAILURE_LIMIT - 1) + [429]

    on_b = Visitor(machines.b)
    answer = on_b.log_in(mentor.email, PASSWORD)
    assert answer.status == 429
    assert "Too many attempts" in answer.text
    assert on_b.cookie("sessionid") is None


def qinfo_ids(env):
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "qinfo", "--ids"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.split()


def test_any_machine_sees_the_task_worker_through_redis(machines):
    log = machines.worker.log_path

    def listed():
        # The cluster's heartbeat (renewed twice a second, kept 3 s), through Redis.
        ids = [line for line in qinfo_ids(machines.env) if len(line) == 36]
        return [cluster for cluster in ids if humanize(uuid.UUID(cluster).hex) in log.read_text()]

    # Without REDIS_URL each process has a cache of its own: qinfo would say
    # "No clusters appear to be running." wherever the worker is.
    assert wait_until(listed, "qinfo to list the worker", workers=[machines.worker], deadline=90)


def test_a_bucket_that_does_not_answer_fails_a_read_as_the_file_system_would():
    # The views and verify_storage catch OSError: a page, not a 500.
    storage = PrivateS3Storage(
        bucket_name=BUCKET,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name=REGION,
        access_key="testing",
        secret_key="testing",  # noqa: S106
        client_config=Config(retries={"max_attempts": 1}),
    )
    with pytest.raises(OSError, match="Cannot read"):
        storage.open("agreements/x/version-1-sealed-0.pdf")
