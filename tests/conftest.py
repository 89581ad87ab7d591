import datetime
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from agreements import demo
from agreements.models import Agreement, Program, User
from agreements.services import pairing_create, pairing_invite

PASSWORD = "correct horse battery staple"
START = datetime.date(2027, 1, 4)


def fresh(agreement):
    """The agreement as a request would load it now."""
    return Agreement.objects.with_content().get(pk=agreement.pk)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    # SQLite tests use a file of their own: in the shared-cache in-memory
    # database a second writer fails at once instead of waiting, so the
    # concurrency tests could not run there.
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        database["TEST"] = {**database.get("TEST", {}), "NAME": str(path)}


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


@pytest.fixture(autouse=True)
def _test_settings(settings, seal_dir, tmp_path):
    # Argon2 is deliberately slow; tests do not need that.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SECURE_SSL_REDIRECT = False
    settings.ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
    # No collectstatic in tests: serve static files from the finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Stored PDFs go to a fresh folder per test; every test seals with the same keys.
    settings.MEDIA_ROOT = tmp_path / "media"
    for name, path in _seal_paths(seal_dir).items():
        setattr(settings, name, path)
    settings.SEAL_TSA_URL = ""


def invite_newcomers(program, admin, number=1):
    """A pairing of two people new to the app: each is emailed an invitation."""
    return pairing_invite(
        program=program,
        mentor=(f"New Mentor {number}", f"new-mentor{number}@example.com"),
        mentee=(f"New Mentee {number}", f"new-mentee{number}@example.com"),
        created_by=admin,
    )


def make_user(email, full_name):
    return User.objects.create_user(email, PASSWORD, full_name=full_name)


@pytest.fixture
def mentor(db):
    return make_user("mentor@example.com", "Maria Mentor")


@pytest.fixture
def mentee(db):
    return make_user("mentee@example.com", "Milo Mentee")


@pytest.fixture
def outsider(db):
    return make_user("outsider@example.com", "Olga Outsider")


@pytest.fixture
def program_admin(db):
    return make_user("admin@example.com", "Ada Admin")


@pytest.fixture
def other_admin(db):
    return make_user("other-admin@example.com", "Otto Otheradmin")


@pytest.fixture
def program(program_admin):
    program = Program.objects.create(name="Test Programme")
    program.admins.add(program_admin)
    return program


@pytest.fixture
def other_program(other_admin):
    program = Program.objects.create(name="Other Programme")
    program.admins.add(other_admin)
    return program


@pytest.fixture
def agreement(program, mentor, mentee, program_admin):
    created = pairing_create(
        program=program, mentor=mentor, mentee=mentee, created_by=program_admin
    )
    # Without prefetched content, so `agreement.goals.exists()` asks the database.
    return Agreement.objects.get(pk=created.pk)


def client_for(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def mentor_client(client, mentor):
    return client_for(client, mentor)


@pytest.fixture
def ready(agreement, mentor):
    """Every section written and agreed by both: awaiting signatures."""
    demo.write_all(agreement, by=mentor, start=START)
    demo.agree_all(agreement)
    return fresh(agreement)


def make_active(agreement, *, start):
    """Written, agreed and signed by both, with the term starting on ``start``."""
    demo.write_all(agreement, by=agreement.mentor, start=start)
    demo.agree_all(agreement)
    demo.sign_as(agreement, agreement.mentor)
    demo.sign_as(agreement, agreement.mentee)
    return fresh(agreement)


@pytest.fixture
def active(agreement):
    """In force since 60 days ago: its first check-in (day 60) is due today."""
    return make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=60))
