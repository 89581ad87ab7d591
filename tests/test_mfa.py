"""A second factor at login (django-allauth's mfa): an authenticator app's
code, or a recovery code, after the password."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.urls import reverse

from tests.helpers import PASSWORD

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def code_for(secret, *, steps=0):
    """The code an authenticator app shows now (or ``steps`` periods on)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + steps))


def log_in(client, email, password=PASSWORD):
    return client.post(reverse("login"), {"login": email, "password": password})


@pytest.fixture
def with_app(mentor):
    Authenticator.objects.create(user=mentor, type=Authenticator.Type.TOTP, data={"secret": SECRET})
    return mentor


def test_an_authenticator_app_is_added_after_the_password_is_typed_again(client, mentor):
    client.force_login(mentor)
    activate = reverse("mfa_activate_totp")

    # Signed in a while ago: the password first.
    response = client.get(activate)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert client.post(response.url, {"password": "wrong"}).status_code == 200
    assert client.post(response.url, {"password": PASSWORD}).status_code == 302

    page = client.get(activate)
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    assert secret in page.text  # for typing into an app that cannot scan

    refused = client.post(activate, {"code": "000000"})
    assert refused.status_code == 200
    assert "Incorrect code." in refused.text
    assert not Authenticator.objects.filter(user=mentor).exists()

    done = client.post(activate, {"code": code_for(secret)})
    assert done.status_code == 302
    assert done.url == reverse("mfa_view_recovery_codes")
    assert set(Authenticator.objects.filter(user=mentor).values_list("type", flat=True)) == {
        Authenticator.Type.TOTP,
        Authenticator.Type.RECOVERY_CODES,
    }


def test_the_password_alone_does_not_log_in_once_an_app_is_added(client, with_app):
    response = log_in(client, with_app.email)

    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("agreements:home")).status_code == 302


def test_the_apps_code_completes_the_login(client, with_app):
    log_in(client, with_app.email)
    page = client.get(reverse("mfa_authenticate"))
    assert page.status_code == 200

    wrong = client.post(reverse("mfa_authenticate"), {"code": "123456"})
    assert wrong.status_code == 200
    assert "Incorrect code." in wrong.text
    assert "_auth_user_id" not in client.session

    done = client.post(reverse("mfa_authenticate"), {"code": code_for(SECRET)})
    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(with_app.pk)


@pytest.fixture
def mid_period(monkeypatch):
    """The clock held in the middle of a 30-second period, for allauth and
    for ``code_for``: no period turns during the test."""
    moment = float(int(time.time()) // 30 * 30 + 15)
    monkeypatch.setattr(time, "time", lambda: moment)
    return moment


@pytest.mark.parametrize("steps", [-1, 1])
def test_a_code_from_the_period_either_side_is_accepted(client, with_app, mid_period, steps):
    """A code typed as it rolls over, or from a phone whose clock is a little
    off, still logs in."""
    log_in(client, with_app.email)

    done = client.post(reverse("mfa_authenticate"), {"code": code_for(SECRET, steps=steps)})

    assert done.status_code == 302
    assert client.session["_auth_user_id"] == str(with_app.pk)


@pytest.mark.parametrize("steps", [-2, 2])
def test_a_code_two_periods_off_is_refused(client, with_app, mid_period, steps):
    log_in(client, with_app.email)

    refused = client.post(reverse("mfa_authenticate"), {"code": code_for(SECRET, steps=steps)})

    assert refused.status_code == 200
    assert "Incorrect code." in refused.text
    assert "_auth_user_id" not in client.session


def test_a_code_is_used_once(client, with_app, mid_period):
    """Someone who saw a code typed cannot log in with it again, within the
    minute and a half the app would still accept it."""
    log_in(client, with_app.email)
    code = code_for(SECRET)
    assert client.post(reverse("mfa_authenticate"), {"code": code}).status_code == 302
    client.logout()

    log_in(client, with_app.email)
    again = client.post(reverse("mfa_authenticate"), {"code": code})

    assert again.status_code == 200
    assert "Incorrect code." in again.text
    assert "_auth_user_id" not in client.session


def test_a_recovery_code_logs_in_once(client, with_app):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(with_app).get_unused_codes()
    log_in(client, with_app.email)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 302
    client.logout()

    log_in(client, with_app.email)
    assert client.post(reverse("mfa_authenticate"), {"code": codes[0]}).status_code == 200
    assert client.post(reverse("mfa_authenticate"), {"code": codes[1]}).status_code == 302


def test_a_wrong_password_never_reaches_the_second_step(client, with_app):
    response = log_in(client, with_app.email, "wrong")

    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.text
    assert client.get(reverse("mfa_authenticate")).status_code == 302


def test_the_account_page_leads_to_the_second_factor_settings(client, mentor):
    client.force_login(mentor)
    page = client.get(reverse("agreements:account"))

    assert reverse("mfa_index") in page.text
    assert client.get(reverse("mfa_index")).status_code == 200


def test_the_second_factor_pages_ask_for_a_login(client, db):
    for name in ["mfa_index", "mfa_activate_totp", "mfa_view_recovery_codes", "mfa_list_webauthn"]:
        response = client.get(reverse(name))
        assert response.status_code == 302, name
        assert response.url.startswith(reverse("login")), name


def test_the_admin_shows_who_has_a_factor_never_its_secret(admin_client, with_app):
    key = Authenticator.objects.get(user=with_app)
    listed = admin_client.get(reverse("admin:mfa_authenticator_changelist"))
    shown = admin_client.get(reverse("admin:mfa_authenticator_change", args=[key.pk]))

    assert with_app.full_name in listed.text
    assert shown.status_code == 200
    assert SECRET not in listed.text + shown.text
    # A superuser can delete it for someone who lost it, never change it.
    assert (
        admin_client.post(reverse("admin:mfa_authenticator_change", args=[key.pk])).status_code
        == 403
    )
    admin_client.post(reverse("admin:mfa_authenticator_delete", args=[key.pk]), {"post": "yes"})
    assert not Authenticator.objects.filter(pk=key.pk).exists()


def test_logging_in_adds_no_message_to_the_page_it_lands_on(client, mentor):
    """The home page takes the focus to its start; a "signed in" message
    would take it instead (static/js/app.js)."""
    response = client.post(
        reverse("login"), {"login": mentor.email, "password": PASSWORD}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("agreements:home")
    assert list(response.context["messages"]) == []


def test_guessing_the_code_stops_after_five_wrong_ones(client, with_app):
    """Someone who knows the password cannot try codes without end: after
    five wrong ones in five minutes, even the right code is refused."""
    log_in(client, with_app.email)
    for guess in ["111111", "222222", "333333", "444444", "555555"]:
        assert "Incorrect code." in client.post(reverse("mfa_authenticate"), {"code": guess}).text

    refused = client.post(reverse("mfa_authenticate"), {"code": code_for(SECRET)})

    assert refused.status_code == 200
    assert "Too many failed login attempts. Try again later." in refused.text
    assert "_auth_user_id" not in client.session


def test_wrong_passwords_are_counted_by_the_lockout_alone(client, with_app):
    """allauth's own count of failed logins would lock the account out from
    every address after five; the lockout counts per address instead."""
    for n in range(1, 8):
        response = client.post(
            reverse("login"),
            {"login": with_app.email, "password": "wrong"},
            REMOTE_ADDR=f"198.51.100.{n}",
        )
        assert "The email address and/or password you specified are not correct." in response.text
    response = client.post(
        reverse("login"), {"login": with_app.email, "password": PASSWORD}, REMOTE_ADDR="192.0.2.1"
    )
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")


def test_an_invitation_link_never_stands_in_for_the_second_factor(client, with_app):
    """Invitations go to accounts without a password; should one with a
    second factor get one, choosing the password does not log in."""
    from agreements.invitations import invitation_path
    from agreements.models import User

    User.objects.filter(pk=with_app.pk).update(password="!")
    with_app.refresh_from_db()
    form = client.get(invitation_path(with_app), follow=True)
    new = "a brand new passphrase 7"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})

    assert done.status_code == 302
    assert done.url == reverse("login")
    assert "_auth_user_id" not in client.session
    response = client.post(reverse("login"), {"login": with_app.email, "password": new})
    assert response.url == reverse("mfa_authenticate")


def test_adding_and_removing_a_factor_is_told_by_email(
    client, mentor, django_capture_on_commit_callbacks
):
    """Someone who did not make the change learns of it at once; the email
    carries no secret."""
    from django.core import mail

    client.force_login(mentor)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_activate_totp"), {"code": code_for(secret)})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_deactivate_totp"))

    assert [message.subject for message in mail.outbox] == [
        "A change to how you log in to Mentorship"
    ] * 2
    added, removed = (message.body for message in mail.outbox)
    assert "An authenticator app was added to your account." in added
    assert "The authenticator app was removed from your account." in removed
    assert reverse("password_reset") in added
    assert secret not in added + removed
    assert mail.outbox[0].to == [mentor.email]
