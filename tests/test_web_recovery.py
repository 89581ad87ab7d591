"""What a web request must survive: hostile input from anonymous visitors, a
signed PDF gone from storage, and a database restart under kept connections;
and the web server's checked-in gunicorn settings."""

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse

from agreements import demo
from agreements.invitations import invitation_path
from agreements.models import AgreementVersion, AuditEvent, CalendarFeed, User
from tests.helpers import PASSWORD, client_for, fresh

BASE_DIR = Path(settings.BASE_DIR)
GUNICORN = Path(sys.executable).with_name("gunicorn")
GUNICORN_CONF = BASE_DIR / "mentorship" / "gunicorn.conf.py"
TOO_LONG = "Ensure this value has at most 254 characters"
# 255 fits django-axes' column but no email address; 256 does not fit the
# column; past 50,000 SQLite refuses the LIKE pattern of the email lookup.
OVERLONG = [255, 256, 60_000]

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="pg_terminate_backend is PostgreSQL's"
)


def login_name(length):
    domain = "@example.com"
    return "a" * (length - len(domain)) + domain


def axes_rows():
    return AccessAttempt.objects.count() + AccessFailureLog.objects.count()


# Anonymous input ---------------------------------------------------------------


@pytest.mark.parametrize("token", ["%00", "%00abc", "abc%00", "%C3%A9t%C3%A9", "a.b", "a%20b"])
def test_a_feed_token_outside_its_alphabet_is_404(client, db, token):
    response = client.get(f"/calendar/feed/{token}.ics")

    assert response.status_code == 404


def test_a_feed_token_in_its_alphabet_still_reaches_the_feed(client, mentee):
    feed = CalendarFeed.objects.create(user=mentee)

    assert client.get(f"/calendar/feed/{feed.token}.ics").status_code == 200
    assert client.get(f"/calendar/feed/{feed.token[:-1]}.ics").status_code == 404


@pytest.mark.parametrize("length", OVERLONG)
def test_an_overlong_login_name_is_a_form_error_and_not_recorded(client, mentor, length):
    response = client.post(reverse("login"), {"login": login_name(length), "password": "x"})

    assert response.status_code == 200
    assert TOO_LONG in response.text
    assert "_auth_user_id" not in client.session
    assert axes_rows() == 0


def test_a_login_name_of_254_characters_is_still_tried_and_counted(client, mentor):
    response = client.post(reverse("login"), {"login": login_name(254), "password": "x"})

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.text
    assert TOO_LONG not in response.text
    assert AccessAttempt.objects.count() == 1


def test_the_login_form_still_logs_in(client, mentor):
    response = client.post(reverse("login"), {"login": mentor.email, "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(mentor.pk)


def test_the_admin_signs_in_on_the_apps_login_page(client, db):
    """The admin's own login form would skip the second factor: it sends
    people to the app's, and a password posted to it logs nobody in."""
    response = client.get(reverse("admin:login"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")

    User.objects.create_superuser("root@example.com", PASSWORD, full_name="Root")
    client.post(reverse("admin:login"), {"username": "root@example.com", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("length", OVERLONG)
def test_an_overlong_email_for_a_password_reset_is_a_form_error(client, mentor, length):
    response = client.post(reverse("password_reset"), {"email": login_name(length)})

    assert response.status_code == 200
    assert "Ensure this value has at most 254 characters" in response.text
    assert mail.outbox == []


def test_an_overlong_password_on_the_invitation_form_does_not_fail(client, db):
    invited = User.objects.create_user("nour@example.com", None, full_name="Nour Newcomer")
    form_url = client.get(invitation_path(invited), follow=True).redirect_chain[-1][0]
    password = "x" * 60_000

    response = client.post(form_url, {"new_password1": password, "new_password2": password})

    # Nothing limits a password's length; it is hashed, never stored or looked up.
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password(password)


# A sealed PDF missing from storage ------------------------------------------


def downloads(agreement):
    return AuditEvent.objects.filter(
        agreement=agreement, kind=AuditEvent.Kind.PDF_DOWNLOADED
    ).count()


@pytest.fixture
def sealed(ready, django_capture_on_commit_callbacks):
    """Signed by both, the version in force sealed and stored."""
    demo.sign_as(ready, ready.mentor)
    with django_capture_on_commit_callbacks(execute=True):
        demo.sign_as(ready, ready.mentee)
    version = AgreementVersion.objects.get(pk=fresh(ready).version_in_force.pk)
    assert version.is_sealed
    return version


@pytest.fixture
def ended(active, mentor, django_capture_on_commit_callbacks):
    """Ended at once by the mentor's notice, its final PDF sealed and stored."""
    with django_capture_on_commit_callbacks(execute=True):
        fresh(active).give_notice(by=mentor)
        agreement = fresh(active)
        agreement.end_if_due(agreement.ends_on)
    agreement = fresh(active)
    assert agreement.final_sealed_at is not None
    return agreement


def delete_stored(field):
    field.storage.delete(field.name)
    assert not field.storage.exists(field.name)


def assert_missing_page(response, caplog, agreement, what):
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/html")
    assert [t.name for t in response.templates][0] == "agreements/pdf_missing.html"
    assert "The signed PDF cannot be found right now" in response.text
    assert "Nothing about the agreement itself is lost" in response.text
    assert "have been told" in response.text
    (record,) = [r for r in caplog.records if r.name == "agreements.views.agreements"]
    assert record.levelname == "ERROR"
    message = record.getMessage()
    assert str(agreement.uuid) in message and what in message
    # The log names ids and the stored file, nothing the pair wrote or who they are.
    for secret in (agreement.mentor.full_name, agreement.mentee.full_name, "Lead a project"):
        assert secret not in message


def test_a_missing_signed_pdf_shows_a_page_and_records_no_download(client, sealed, mentor, caplog):
    agreement = sealed.agreement
    delete_stored(sealed.pdf)
    client_for(client, mentor)

    response = client.get(reverse("agreements:version_pdf", args=[agreement.uuid, sealed.number]))

    assert_missing_page(response, caplog, agreement, f"version {sealed.number}")
    assert "signed PDF of version 1" in response.text
    assert downloads(agreement) == 0


def test_a_signed_pdf_download_records_exactly_one_download(client, sealed, mentor):
    client_for(client, mentor)

    response = client.get(
        reverse("agreements:version_pdf", args=[sealed.agreement.uuid, sealed.number])
    )

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert downloads(sealed.agreement) == 1


def test_a_missing_final_pdf_shows_a_page_and_records_no_download(client, ended, mentee, caplog):
    delete_stored(ended.final_pdf)
    client_for(client, mentee)

    response = client.get(reverse("agreements:pdf", args=[ended.uuid]))

    assert_missing_page(response, caplog, ended, "final record")
    assert "sealed final record" in response.text
    assert downloads(ended) == 0


def test_a_final_pdf_download_records_exactly_one_download(client, ended, mentee):
    client_for(client, mentee)

    response = client.get(reverse("agreements:pdf", args=[ended.uuid]))

    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert downloads(ended) == 1


# gunicorn ------------------------------------------------------------------------

GUNICORN_ENV = ("PORT", "GUNICORN_BIND", "WEB_CONCURRENCY", "CONN_HEALTH_CHECKS", "DATABASE_URL")


def server_env(**values):
    env = {key: value for key, value in os.environ.items() if key not in GUNICORN_ENV}
    return {**env, **values}


def gunicorn_config(**values):
    """The settings gunicorn resolves from the checked-in file, as it prints them."""
    result = subprocess.run(  # noqa: S603
        [GUNICORN, "--print-config", "-c", GUNICORN_CONF, "mentorship.wsgi"],
        cwd=BASE_DIR,
        env=server_env(**values),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = {}
    for line in result.stdout.splitlines():
        name, _, value = line.partition("=")
        config[name.strip()] = value.strip()
    return config


def test_gunicorn_reads_the_checked_in_settings_the_readme_describes():
    config = gunicorn_config()

    assert config["workers"] == str(2 * len(os.sched_getaffinity(0)) + 1)
    assert config["bind"] == "['127.0.0.1:8000']"
    assert config["timeout"] == "30"
    assert config["graceful_timeout"] == "20"
    assert config["max_requests"] == "1000"
    assert config["max_requests_jitter"] == "100"
    assert config["worker_tmp_dir"] == "/dev/shm"  # noqa: S108
    assert config["accesslog"] == "-"
    operations = (BASE_DIR / "docs" / "operations.md").read_text()
    assert "gunicorn -c mentorship/gunicorn.conf.py mentorship.wsgi" in operations


@pytest.mark.parametrize(
    ("env", "workers", "bind"),
    [
        ({"PORT": "9000"}, None, "['0.0.0.0:9000']"),
        ({"PORT": "9000", "GUNICORN_BIND": "unix:/run/web.sock"}, None, "['unix:/run/web.sock']"),
        ({"WEB_CONCURRENCY": "3"}, "3", "['127.0.0.1:8000']"),
    ],
)
def test_gunicorn_takes_its_address_and_workers_from_the_environment(env, workers, bind):
    config = gunicorn_config(**env)

    assert config["bind"] == bind
    if workers:
        assert config["workers"] == workers


# A database restart under kept connections ---------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def web_server(transactional_db, tmp_path):
    """Starts gunicorn, one worker, on the test database, with kept connections;
    yields (base URL, the application_name its connections carry)."""
    servers = []

    def start(**env):
        database = connection.settings_dict
        application_name = f"web-recovery-{uuid.uuid4().hex[:12]}"
        url = (
            f"postgres://{quote(database['USER'])}:{quote(database['PASSWORD'] or '')}"
            f"@{database['HOST']}:{database['PORT']}/{quote(database['NAME'])}"
            f"?application_name={application_name}"
        )
        port = free_port()
        log = open(tmp_path / "gunicorn.log", "w")
        process = subprocess.Popen(  # noqa: S603
            [GUNICORN, "-c", GUNICORN_CONF, "mentorship.wsgi"],
            cwd=BASE_DIR,
            env=server_env(
                DATABASE_URL=url,
                CONN_MAX_AGE="60",
                WEB_CONCURRENCY="1",
                GUNICORN_BIND=f"127.0.0.1:{port}",
                ALLOWED_HOSTS="127.0.0.1",
                SECURE_SSL_REDIRECT="false",
                DEBUG="false",
                **env,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        servers.append((process, log))
        return f"http://127.0.0.1:{port}", application_name

    yield start
    for process, log in servers:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def first_answer(url, deadline=30):
    """The status of the first request the server answers (it may still be starting)."""
    stop = time.monotonic() + deadline
    while True:
        try:
            return get(url)
        # Not listening yet, or (on a loaded machine) slow to give its first
        # answer: a read that times out is no URLError.
        except (urllib.error.URLError, TimeoutError):
            if time.monotonic() > stop:
                raise
            time.sleep(0.1)


def terminate_connections(application_name):
    """From the test's own connection: end the server's, as a restart of PostgreSQL would."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [application_name],
        )
        return [terminated for (terminated,) in cursor.fetchall()]


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("health_checks", "after_restart"),
    [
        # CONN_HEALTH_CHECKS unset: CONN_MAX_AGE above 0 turns it on.
        ({}, 200),
        # The failure it prevents: the first request on the dead connection.
        ({"CONN_HEALTH_CHECKS": "false"}, 500),
    ],
)
def test_a_kept_connection_killed_between_requests_is_replaced(
    web_server, mentee, health_checks, after_restart
):
    feed = CalendarFeed.objects.create(user=mentee)
    base, application_name = web_server(**health_checks)
    url = f"{base}/calendar/feed/{feed.token}.ics"

    assert first_answer(url) == 200
    assert terminate_connections(application_name) == [True]

    assert get(url) == after_restart
    # Either way the worker has a working connection again.
    assert get(url) == 200
