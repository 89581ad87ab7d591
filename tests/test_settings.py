"""What the settings make of the environment."""

import runpy
from pathlib import Path

import pytest
from django.db import connection

SETTINGS = Path(__file__).resolve().parent.parent / "mentorship" / "settings.py"
POSTGRES = "postgres://app@db.example.internal:5432/mentorship"


def settings_with(monkeypatch, **environ):
    for name in ("DATABASE_URL", "CONN_MAX_AGE", "CONN_HEALTH_CHECKS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))["DATABASES"]["default"]


def test_postgresql_connections_are_kept_checked_and_without_jit(monkeypatch):
    database = settings_with(monkeypatch, DATABASE_URL=POSTGRES)
    assert database["CONN_MAX_AGE"] == 600
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["OPTIONS"]["options"] == "-c jit=off"


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
