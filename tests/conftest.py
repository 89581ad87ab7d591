"""Fixtures: the test settings, the personas (mentor, mentee, outsider, program
admin, other program's admin) and agreements in each state. Plain helpers
(``fresh``, ``make_user``, ``assert_unchanged``...) live in tests/helpers.py."""

import datetime
import io
import os
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections, transaction
from django.test import override_settings
from django.utils import timezone, translation
from playwright.sync_api import expect, sync_playwright

from tests.helpers import (
    BROWSER_WAIT_MS,
    client_for,
    make_active,
    make_agreement,
    make_persona,
    make_program,
    make_ready,
)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    # SQLite tests use a file of their own: in the shared-cache in-memory
    # database a second writer fails at once instead of waiting, so the
    # concurrency tests could not run there. Each xdist worker has its own
    # tmp_path_factory folder, so its own file; on PostgreSQL the parallel
    # suffix gives each worker its own database (test_<name>_gw0, ...).
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        database["TEST"] = {**database.get("TEST", {}), "NAME": str(path)}


@pytest.fixture(scope="session", autouse=True)
def _empty_static_root(tmp_path_factory):
    # WhiteNoise indexes STATIC_ROOT whenever a test client (or the live
    # server) builds its middleware: a `collectstatic` output in the work tree
    # would cost every test. Tests serve static files from the finders.
    with override_settings(STATIC_ROOT=tmp_path_factory.mktemp("static-root")):
        yield


@pytest.fixture(scope="session")
def seal_dir(tmp_path_factory):
    """One set of seal keys for the test run (RSA key generation takes a while)."""
    directory = tmp_path_factory.mktemp("seal")
    with override_settings(**_seal_paths(directory)):
        call_command("create_seal_keys", stdout=io.StringIO())
    return directory


def _seal_paths(directory):
    return {
        "SEAL_KEY_FILE": directory / "seal-key.pem",
        "SEAL_CERT_FILE": directory / "seal-cert.pem",
        "SEAL_ROOT_CERT_FILE": directory / "root-cert.pem",
        "SEAL_ROOT_KEY_FILE": directory / "root-key.pem",
    }


def settings_for_tests(seal_dir, media_root):
    return {
        # Argon2 is deliberately slow; tests do not need that.
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "SECURE_SSL_REDIRECT": False,
        "ALLOWED_HOSTS": ["testserver", "localhost", "127.0.0.1"],
        # No collectstatic in tests: serve static files from the finders.
        "STORAGES": {
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        # Stored PDFs go to a folder of their own; every test seals with the same keys.
        "MEDIA_ROOT": media_root,
        **_seal_paths(seal_dir),
        "SEAL_TSA_URL": "",
        # No step of session activity ends during a test, so no request
        # writes the session unasked (tests/test_sessions.py sets its own).
        "SESSION_ACTIVITY_STEP": 10**9,
    }


@pytest.fixture(autouse=True)
def _test_settings(settings, seal_dir, tmp_path):
    for name, value in settings_for_tests(seal_dir, tmp_path / "media").items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _site_language():
    """Each test starts in the site's language. A request leaves the language
    it was answered in active in its thread, as Django does; the next request
    chooses again, but code a test calls directly would inherit it."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with an empty cache: counts kept there (password
    resets) outlast a test's database, and every test client has the same
    address."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def module_db(django_db_setup, django_db_blocker, seal_dir, tmp_path_factory):
    """For rows that a module's tests only read, built once per module: a
    module-scoped fixture that asks for this one builds them under
    ``django_db_blocker.unblock()``, inside a transaction rolled back after the
    module's last test; each test's own transaction (``db``) sits on top. It
    builds with the test settings, and its files go to ``media_root`` (a test
    that reads them sets MEDIA_ROOT to it)."""
    media_root = tmp_path_factory.mktemp("module-media")
    with override_settings(**settings_for_tests(seal_dir, media_root)):
        with django_db_blocker.unblock():
            outer = transaction.atomic()
            outer.__enter__()
        try:
            yield SimpleNamespace(media_root=media_root)
        finally:
            with django_db_blocker.unblock():
                transaction.set_rollback(True)
                outer.__exit__(None, None, None)


@pytest.fixture
def mentor(db):
    return make_persona("mentor")


@pytest.fixture
def mentee(db):
    return make_persona("mentee")


@pytest.fixture
def outsider(db):
    return make_persona("outsider")


@pytest.fixture
def program_admin(db):
    return make_persona("program_admin")


@pytest.fixture
def other_admin(db):
    return make_persona("other_admin")


@pytest.fixture
def program(program_admin):
    return make_program("Test Programme", program_admin)


@pytest.fixture
def other_program(other_admin):
    return make_program("Other Programme", other_admin)


@pytest.fixture
def agreement(program, mentor, mentee, program_admin):
    return make_agreement(program, mentor, mentee, program_admin)


@pytest.fixture
def mentor_client(client, mentor):
    return client_for(client, mentor)


@pytest.fixture
def ready(agreement):
    """Every section written and agreed by both: awaiting signatures."""
    return make_ready(agreement)


@pytest.fixture
def active(agreement):
    """In force since 60 days ago: its first check-in (day 60) is due today."""
    return make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=60))


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def chromium(monkeypatch):
    """Headless Chromium, for the browser tests (tests/test_browser.py, tests/test_screens.py)."""
    # Playwright's sync API runs an event loop in this thread; the ORM calls made
    # here (fixtures, assertions) are still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"No Chromium at {CHROMIUM}: install Debian's chromium package to run this.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        expect.set_options(timeout=BROWSER_WAIT_MS)
        yield browser
        browser.close()
        # Django's connections are context-local (asgiref) and Playwright switches
        # the context, so the ORM opened a second connection in here; left open, it
        # stops PostgreSQL from dropping the test database.
        connections.close_all()


# The longest tests, which mostly wait for other processes (a browser, task
# workers, a backup's subprocesses), start first: with xdist's queue of single
# tests (--dist loadgroup) each goes to another worker, and the short ones
# fill in around them, instead of a worker ending alone on a long test.
WAITING_MODULES = (
    "test_backup_restore.py",
    "test_browser.py",
    "test_faults.py",
    "test_screens.py",
    "test_keyboard.py",
    "test_demo_screens.py",
    "test_two_servers.py",
)


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name not in WAITING_MODULES)
