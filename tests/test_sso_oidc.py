"""Single sign-on with a real OpenID Connect provider (tests/sso.py), through
allauth's whole authorization-code flow: the app sends the person to the
provider's authorize endpoint (PKCE, S256), the person signs in there, and the
app's callback exchanges the code and reads discovery, ID token and userinfo
from the provider over HTTP.

Who the person is here is the app's rule (``SocialAccountAdapter``): the
account whose address is the one the provider verified, in its one form. A
fresh login at the provider (``prompt=login&max_age=0``) stands in for the
password when signing, and its ``auth_time`` goes into the evidence."""

import datetime
import json
import time
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import SESSION_KEY as USER_KEY
from django.test import Client
from django.urls import reverse

from agreements.models import Signature
from tests.helpers import assert_unchanged, client_for, make_ready
from tests.sso import oidc_provider, page_forms, sign_in_at_provider  # noqa: F401 (fixture)

NAME = "University of Example"
CALLBACK = "http://testserver/accounts/oidc/university/login/callback/"
LOGIN = "/accounts/oidc/university/login/"
# The mentor at the provider, who vouches for their address with capitals
# (``CLAIMED``): the same account here by its one form (``email_key``).
MARIA = ("mentor@example.com", "maria-at-the-university", "Maria Mentor")
CLAIMED = "Mentor@Example.COM"
# The outsider's address, which the provider does not vouch for. (The
# browser test signs the mentee in: no person is added to a provider twice.)
OLGA = ("outsider@example.com", "olga-at-the-university", "Olga Outsider")

FAILED = "Logging in with your organisation did not work, or was cancelled."
REFUSED_UNVERIFIED = "Your organisation did not send a confirmed email address"
AGAIN = f"You logged in again with {NAME} at"
ASKED = "Test Programme asks its members to log in with their organisation's single sign-on"


# Run inside the provider. allauth's IdP finds a person by the lower-case
# address they type, so the one they sign in with stays so (``User.email``);
# the claim is their primary ``EmailAddress``, written as the directory has it.
CLAIM_AS = """
import json, sys
from allauth.account.models import EmailAddress
p = json.load(sys.stdin)
assert EmailAddress.objects.filter(email=p["email"]).update(email=p["claimed"]) == 1
"""


def claim_as(provider, email, claimed):
    """The provider's claims give ``email`` as ``claimed``."""
    provider.django("shell", "-c", CLAIM_AS, stdin=json.dumps({"email": email, "claimed": claimed}))


@pytest.fixture(scope="module")
def client_at_provider(oidc_provider):  # noqa: F811
    """The app as the provider's client, and its people; once for the module:
    the provider keeps them, the app's database does not."""
    oidc_provider.add_person(*MARIA)
    claim_as(oidc_provider, MARIA[0], CLAIMED)
    oidc_provider.add_person(*OLGA, verified=False)
    return oidc_provider.add_client(CALLBACK)


@pytest.fixture(scope="module")
def discovery(oidc_provider):  # noqa: F811
    return requests.get(oidc_provider.discovery_url, timeout=5).json()


@pytest.fixture
def university(db, oidc_provider, client_at_provider):  # noqa: F811
    """The provider as a superuser connects it."""
    client_id, secret = client_at_provider
    return oidc_provider.connect(client_id, secret, name=NAME)


def logged_in(client):
    """The pk of the user the client's session is logged in as, or None."""
    user_id = client.session.get(USER_KEY)
    return int(user_id) if user_id is not None else None


def provider_button(page, name=NAME):
    """The action of the page's form that logs in with the provider ``name``."""
    for form in page_forms(page.text):
        if form["action"].startswith(LOGIN):
            assert f"Log in with {name}" in page.text
            return form["action"]
    raise AssertionError(f"no button to log in with {name} on the page")


def start(client, action, discovery):
    """Press the provider's button: the app sends the browser to the
    provider's authorize endpoint. Returns that URL."""
    response = client.post(action)
    assert response.status_code == 302, response.content
    authorize = response["Location"]
    assert authorize.startswith(discovery["authorization_endpoint"] + "?")
    return authorize


def params(url):
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def back_at_app(client, callback):
    """The browser following the provider's redirect to the app's callback."""
    assert callback.startswith(CALLBACK + "?"), callback
    return client.get(callback)


def with_params(url, **changes):
    parts = urlsplit(url)
    query = {**params(url), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


def sign_in(client, discovery, person=MARIA):
    """The whole login from the login page: its button, the provider, the
    callback. Returns the callback URL and the app's answer to it."""
    action = provider_button(client.get(reverse("login")))
    callback = sign_in_at_provider(start(client, action, discovery), person[0], person[1])
    return callback, back_at_app(client, callback)


def test_code_flow_logs_the_mentor_in_by_their_address(client, discovery, university, mentor):
    page = client.get(reverse("login"))
    authorize = start(client, provider_button(page), discovery)
    asked = params(authorize)
    assert asked["code_challenge"] and asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == CALLBACK
    assert asked["client_id"] == university.client_id
    assert set(asked["scope"].split()) == {"openid", "profile", "email"}
    assert logged_in(client) is None

    before = int(time.time())
    callback = sign_in_at_provider(authorize, MARIA[0], MARIA[1])
    assert params(callback)["state"] == asked["state"]
    response = back_at_app(client, callback)

    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:home")
    assert logged_in(client) == mentor.pk
    account = SocialAccount.objects.get()
    assert (account.user, account.provider) == (mentor, "university")
    assert account.extra_data["userinfo"]["email"] == CLAIMED
    signed_on = client.session["sign_on"]
    assert (signed_on["app"], signed_on["provider"]) == (university.pk, NAME)
    assert isinstance(signed_on["auth_time"], int)
    assert before - 1 <= signed_on["auth_time"] <= time.time()
    assert "Maria Mentor" in client.get(reverse("agreements:home")).text
    # The same answer again: its state was used, the session stays as it was.
    again = back_at_app(client, callback)
    assert again.status_code == 401 and FAILED in again.text
    assert client.session["sign_on"] == signed_on


def logged_out(client):
    client.post(reverse("logout"))
    assert logged_in(client) is None
    return client


@pytest.mark.parametrize(
    "replay",
    [
        pytest.param(lambda client, url: logged_out(client).get(url), id="after-logout"),
        pytest.param(lambda client, url: Client().get(url), id="in-another-client"),
    ],
)
def test_a_callback_replayed_logs_nobody_in(client, discovery, university, mentor, replay):
    callback, first = sign_in(client, discovery)
    assert first.status_code == 302 and logged_in(client) == mentor.pk

    response = replay(client, callback)

    assert response.status_code == 401
    assert FAILED in response.text
    assert USER_KEY not in response.wsgi_request.session
    assert SocialAccount.objects.count() == 1


def test_a_used_code_under_a_fresh_state_is_refused_by_the_provider(
    client, discovery, university, mentor
):
    """The state checks out (this session's next login), so the app asks the
    provider for tokens: a code is good once, and for its own PKCE verifier."""
    callback, _ = sign_in(client, discovery)
    logged_out(client)
    action = provider_button(client.get(reverse("login")))
    fresh_state = params(start(client, action, discovery))["state"]

    response = back_at_app(client, with_params(callback, state=fresh_state))

    assert response.status_code == 401
    assert FAILED in response.text
    assert logged_in(client) is None


def test_a_tampered_state_is_refused(client, discovery, university, mentor):
    action = provider_button(client.get(reverse("login")))
    callback = sign_in_at_provider(start(client, action, discovery), MARIA[0], MARIA[1])
    state = params(callback)["state"]
    tampered = state[:-1] + ("A" if state[-1] != "A" else "B")

    with assert_unchanged(mentor):
        response = back_at_app(client, with_params(callback, state=tampered))

    assert response.status_code == 401
    assert FAILED in response.text
    assert logged_in(client) is None
    assert not SocialAccount.objects.exists()
    # The state the app stashed is still there: the real answer logs in.
    back_at_app(client, callback)
    assert logged_in(client) == mentor.pk


def test_an_address_the_provider_did_not_verify_is_refused(client, discovery, university, outsider):
    with assert_unchanged(outsider):
        _, response = sign_in(client, discovery, OLGA)

    assert response.status_code == 403
    assert REFUSED_UNVERIFIED in response.text
    assert not SocialAccount.objects.exists()
    assert logged_in(client) is None
    assert "sign_on" not in client.session


# Signing -----------------------------------------------------------------------


def sign_data(agreement, **extra):
    return {
        "full_name": "Maria Mentor",
        "consent": "on",
        "content_hash": agreement.content_hash,
        **extra,
    }


def age_sign_on(client, seconds):
    """The session's login at the provider as if it had been ``seconds`` ago."""
    session = client.session
    session["sign_on"] = {**session["sign_on"], "auth_time": int(time.time()) - seconds}
    session.save()


@pytest.fixture
def signed_on_long_ago(client, discovery, university, mentor, agreement):
    """The mentor logged in with the provider (their account now connected)
    more than 5 minutes ago, and an agreement ready to sign."""
    sign_in(client, discovery)
    assert logged_in(client) == mentor.pk
    age_sign_on(client, 10 * 60)
    return make_ready(agreement)


def test_a_fresh_login_at_the_provider_confirms_the_signature(
    client, discovery, signed_on_long_ago
):
    ready = signed_on_long_ago
    sign_url = reverse("agreements:sign", args=[ready.uuid])
    page = client.get(sign_url)
    assert 'name="password"' in page.text
    action = provider_button(page)
    assert params(action)["next"] == sign_url

    authorize = start(client, action, discovery)
    assert (params(authorize)["prompt"], params(authorize)["max_age"]) == ("login", "0")
    # auth_time is in whole seconds: the fresh login is in a later one than
    # the first (the provider's, not the session's aged copy).
    time.sleep(1.1)
    fresh_from = int(time.time())
    response = back_at_app(client, sign_in_at_provider(authorize, MARIA[0], MARIA[1]))
    assert response.status_code == 302 and response["Location"] == sign_url
    auth_time = client.session["sign_on"]["auth_time"]
    assert fresh_from <= auth_time <= time.time()

    page = client.get(sign_url)
    assert 'name="password"' not in page.text
    assert AGAIN in page.text
    response = client.post(sign_url, sign_data(ready))

    assert response.status_code == 302
    evidence = Signature.objects.get(agreement=ready).evidence_data
    assert evidence["authenticated_by"] == "sign_on"
    assert evidence["evidence_format"] == "mentorship-signature/3"
    assert evidence["identity_provider"] == {
        "name": NAME,
        "auth_time": datetime.datetime.fromtimestamp(auth_time, datetime.UTC).isoformat(),
    }


def test_a_login_at_the_provider_long_ago_needs_the_password(client, signed_on_long_ago):
    ready = signed_on_long_ago
    sign_url = reverse("agreements:sign", args=[ready.uuid])

    with assert_unchanged(ready):
        response = client.post(sign_url, sign_data(ready))

    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["password"][0].code == "required"
    assert AGAIN not in response.text
    assert not Signature.objects.exists()


# A program that asks for its single sign-on -----------------------------------


def test_a_program_asking_for_sign_on_lets_the_mentor_in_after_it(
    client, discovery, university, program, mentor, agreement
):
    program.sign_on_providers.add(university)
    program.sign_on_required = True
    program.save()
    detail = reverse("agreements:detail", args=[agreement.uuid])
    client_for(client, mentor)

    page = client.get(detail)
    assert page.status_code == 403
    assert ASKED in page.text
    authorize = start(client, provider_button(page), discovery)
    response = back_at_app(client, sign_in_at_provider(authorize, MARIA[0], MARIA[1]))

    assert response.status_code == 302 and response["Location"] == detail
    assert client.get(detail).status_code == 200
    assert logged_in(client) == mentor.pk
