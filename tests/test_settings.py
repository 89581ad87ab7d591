"""What the settings make of the environment."""

import runpy
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db import connection
from django.utils.module_loading import import_string
from storages.backends.s3 import S3Storage

from agreements.models import Program

SETTINGS = Path(__file__).resolve().parent.parent / "mentorship" / "settings.py"
POSTGRES = "postgres://app@db.example.internal:5432/mentorship"


def settings_module(monkeypatch, **environ):
    """Every setting, as settings.py makes them of this environment."""
    for name in (
        "DATABASE_URL",
        "CONN_MAX_AGE",
        "CONN_HEALTH_CHECKS",
        "PG_PREPARED_STATEMENTS",
        "STORAGE_BUCKET",
        "S3_ENDPOINT_URL",
        "S3_REGION",
        "REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def settings_with(monkeypatch, **environ):
    return settings_module(monkeypatch, **environ)["DATABASES"]["default"]


def test_postgresql_connections_are_kept_checked_and_without_jit(monkeypatch):
    database = settings_with(monkeypatch, DATABASE_URL=POSTGRES)
    assert database["CONN_MAX_AGE"] == 600
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"]["options"] == "-c jit=off"


def test_postgresql_statements_are_prepared_unless_a_pooler_cannot_keep_them(monkeypatch):
    options = settings_with(monkeypatch, DATABASE_URL=POSTGRES)["OPTIONS"]
    assert options["server_side_binding"] is True
    assert options["prepare_threshold"] == 5
    options = settings_with(monkeypatch, DATABASE_URL=POSTGRES, PG_PREPARED_STATEMENTS="false")[
        "OPTIONS"
    ]
    assert "server_side_binding" not in options
    assert "prepare_threshold" not in options


def test_the_environment_sets_how_long_a_connection_is_kept(monkeypatch):
    database = settings_with(monkeypatch, DATABASE_URL=POSTGRES, CONN_MAX_AGE="0")
    assert database["CONN_MAX_AGE"] == 0
    assert database["CONN_HEALTH_CHECKS"] is False


def test_jit_off_keeps_options_the_url_gives(monkeypatch):
    url = POSTGRES + "?options=-c%20statement_timeout%3D5000"
    database = settings_with(monkeypatch, DATABASE_URL=url)
    assert database["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"


def test_sqlite_opens_a_connection_per_request(monkeypatch, tmp_path):
    database = settings_with(monkeypatch, DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3")
    assert database["CONN_MAX_AGE"] == 0
    assert database["CONN_HEALTH_CHECKS"] is False
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


@pytest.mark.django_db
def test_the_app_s_postgresql_sessions_run_without_jit():
    if connection.vendor != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


@pytest.mark.django_db
def test_a_statement_run_again_and_again_is_planned_once():
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for _ in range(6):
        list(Program.objects.filter(name="Prepared"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%FROM "agreements_program" WHERE "agreements_program"."name" = $1%'],
        )
        assert cursor.fetchone() == (1,)


# More than one machine (docs/topology.md) -------------------------------------


def test_stored_pdfs_stay_on_the_file_system_without_a_bucket(monkeypatch):
    storage = settings_module(monkeypatch)["STORAGES"]["default"]
    assert issubclass(import_string(storage["BACKEND"]), FileSystemStorage)


def test_a_bucket_in_the_environment_stores_pdfs_there_privately(monkeypatch):
    storages = settings_module(
        monkeypatch,
        STORAGE_BUCKET="mentorship-pdfs",
        S3_ENDPOINT_URL="https://objects.example.internal",
        S3_REGION="eu-west-1",
    )["STORAGES"]
    backend = import_string(storages["default"]["BACKEND"])
    assert issubclass(backend, S3Storage)
    options = storages["default"]["OPTIONS"]
    assert options["bucket_name"] == "mentorship-pdfs"
    assert options["endpoint_url"] == "https://objects.example.internal"
    assert options["region_name"] == "eu-west-1"
    assert options["default_acl"] is None
    assert options["querystring_auth"] is True
    assert options["file_overwrite"] is False
    # Static files stay with the web server (WhiteNoise).
    assert "S3" not in storages["staticfiles"]["BACKEND"]


def test_the_cache_is_each_process_s_own_memory_without_redis(monkeypatch):
    cache = settings_module(monkeypatch)["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_redis_url_shares_the_cache_between_machines(monkeypatch):
    cache = settings_module(monkeypatch, REDIS_URL="redis://cache.example.internal:6379/2")[
        "CACHES"
    ]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache.example.internal:6379/2"


def test_lockouts_and_sessions_are_kept_where_every_server_sees_them(monkeypatch):
    settings = settings_module(monkeypatch)
    # django-axes' database handler, with a ceiling per account (agreements/lockouts.py).
    assert settings["AXES_HANDLER"] == "agreements.lockouts.AccountCeilingHandler"
    assert settings["SESSION_ENGINE"] == "django.contrib.sessions.backends.db"
    assert settings["Q_CLUSTER"]["orm"] == "default"
