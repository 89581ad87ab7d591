"""How long a session lasts: SESSION_IDLE_HOURS without a request, and
SESSION_MAX_DAYS after signing in whatever the activity."""

import datetime
import time

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

HOME = reverse("agreements:home")


@pytest.fixture(autouse=True)
def _five_minute_steps(settings):
    """The production step (the other tests' never ends)."""
    settings.SESSION_ACTIVITY_STEP = 300


def session_row(client):
    return Session.objects.get(session_key=client.session.session_key)


def expire_in(client, delta):
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() + delta
    )


def test_a_session_lasts_a_working_day_without_activity():
    from mentorship import settings as production

    assert production.SESSION_COOKIE_AGE == 8 * 3600
    assert production.SESSION_MAX_AGE == 14 * 86400
    assert production.SESSION_ACTIVITY_STEP == 300


def test_a_request_in_a_new_step_of_time_moves_the_expiry_on(client, mentor):
    client.force_login(mentor)
    assert client.get(HOME).status_code == 200
    session = client.session
    session["active_step"] = 0  # the last request was long ago
    session.save()
    expire_in(client, datetime.timedelta(minutes=1))

    assert client.get(HOME).status_code == 200

    left = session_row(client).expire_date - timezone.now()
    assert left > datetime.timedelta(hours=7, minutes=55)


def test_requests_within_a_step_do_not_write_the_session(client, mentor, settings):
    settings.SESSION_ACTIVITY_STEP = 10**9  # no step ends during the test
    client.force_login(mentor)
    assert client.get(HOME).status_code == 200
    expire_in(client, datetime.timedelta(hours=1))
    before = session_row(client).expire_date

    assert client.get(HOME).status_code == 200

    assert session_row(client).expire_date == before


def test_an_idle_session_has_ended(client, mentor):
    client.force_login(mentor)
    assert client.get(HOME).status_code == 200
    expire_in(client, -datetime.timedelta(seconds=1))

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_session_ends_after_its_longest_life_however_active(client, mentor):
    client.force_login(mentor)
    session = client.session
    session["signed_in_at"] = int(time.time()) - settings.SESSION_MAX_AGE - 60
    session.save()

    response = client.get(HOME)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get(HOME).status_code == 302
    assert not Session.objects.filter(session_key=session.session_key).exists()
