"""Passkeys in real headless Chromium, with the browser's virtual
authenticator (Chrome DevTools' WebAuthn domain) standing in for a phone or
a security key: added on the two-factor page, then logging in on its own."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse
from playwright.sync_api import expect

from agreements.models import Signature
from tests.helpers import PASSWORD
from tests.test_browser import Person


@pytest.fixture
def passkeys_on_localhost(settings):
    # The live server is plain http on localhost, which browsers allow.
    settings.MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = True


def virtual_authenticator(person):
    """A platform authenticator that keeps passkeys and verifies its user."""
    cdp = person.context.new_cdp_session(person.page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
        "automaticPresenceSimulation": True,
    }
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})
    return cdp, added["authenticatorId"]


@pytest.mark.django_db(transaction=True)
def test_a_passkey_is_added_logs_in_without_a_password_and_signs(
    chromium, live_server, mentor, ready, passkeys_on_localhost
):
    person = Person(chromium, live_server, mentor, party="Mentor")
    cdp, authenticator = virtual_authenticator(person)
    page = person.page
    person.log_in()

    page.goto(live_server.url + reverse("mfa_add_webauthn"))
    # Adding a way in asks for the password again, however recent the login.
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Confirm").click()
    page.get_by_label("Name").fill("Laptop")
    page.get_by_label("Passwordless").check()
    page.get_by_role("button", name="Add", exact=True).click()
    # The first key comes with recovery codes, shown once.
    expect(page.get_by_role("heading", name="Recovery Codes")).to_be_visible()
    key = Authenticator.objects.get(user=mentor, type=Authenticator.Type.WEBAUTHN)
    assert key.wrap().name == "Laptop"
    assert key.wrap().is_passwordless
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(stored["credentials"]) == 1

    page.get_by_role("button", name="Log out").click()
    page.goto(live_server.url + reverse("login"))
    page.get_by_role("button", name="Log in with a passkey").click()

    expect(page.get_by_role("heading", name="My agreements")).to_be_visible()
    key.refresh_from_db()
    assert key.last_used_at is not None

    # Signing: the passkey confirms it is them, instead of the password.
    person.open_agreement(ready)
    page.get_by_role("link", name="Sign the agreement").click()
    page.get_by_role("link", name="Confirm with your passkey instead of your password").click()
    page.get_by_role("button", name="Use a security key").click()
    expect(page.get_by_text("You confirmed it is you with your passkey")).to_be_visible()
    expect(page.get_by_label("Your password")).to_have_count(0)
    page.get_by_label("Type your full name").fill(mentor.full_name)
    page.get_by_label("I have read this mentoring agreement in full").check()
    page.get_by_role("button", name="Sign", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text("You signed the agreement.")
    [signature] = Signature.objects.filter(agreement=ready)
    assert signature.evidence_data["authenticated_by"] == "passkey"
    assert person.failures == []


@pytest.mark.django_db(transaction=True)
def test_a_passkey_the_browser_does_not_give_is_said_so(
    chromium, live_server, mentor, passkeys_on_localhost
):
    """No passkey for this site in the browser: the page says so where the
    button is, and nobody is logged in."""
    person = Person(chromium, live_server, mentor, party=None)
    virtual_authenticator(person)
    page = person.page
    page.goto(live_server.url + reverse("login"))
    page.get_by_role("button", name="Log in with a passkey").click()

    expect(page.get_by_role("alert")).to_contain_text("No passkey was used.")
    assert page.url.startswith(live_server.url + reverse("login"))
