"""The test OpenID Connect provider (tests/sso.py) on its own, driven by hand
with ``requests``: what the app's sign-on tests rely on it to do."""

import base64
import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests

from tests.sso import oidc_provider, sign_in_at_provider  # noqa: F401 (fixture)

# Nothing listens there: the flow stops at the redirect, the test reads the code.
REDIRECT_URI = "http://127.0.0.1:9/accounts/oidc/test-idp/login/callback/"
EMAIL = "ada@example.com"
PASSWORD = "analytical-engine-1843"


@pytest.fixture(scope="module")
def person(oidc_provider):  # noqa: F811
    oidc_provider.add_person(EMAIL, PASSWORD, "Ada Lovelace")


@pytest.fixture(scope="module")
def client(oidc_provider):  # noqa: F811
    return oidc_provider.add_client(REDIRECT_URI)


@pytest.fixture(scope="module")
def discovery(oidc_provider):  # noqa: F811
    return requests.get(oidc_provider.discovery_url, timeout=5).json()


def pkce_pair():
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_url(discovery, client_id, challenge, **extra):
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email",
        "state": "state-123",
        "nonce": "nonce-456",
        **extra,
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return f"{discovery['authorization_endpoint']}?{urlencode(params)}"


def code_from(location):
    assert location.startswith(REDIRECT_URI)
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["state-123"]
    return query["code"][0]


def exchange(discovery, client, code, verifier):
    client_id, secret = client
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "client_id": client_id,
        "client_secret": secret,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return requests.post(discovery["token_endpoint"], data=data, timeout=5)


def id_token_claims(discovery, client, response):
    """The ID token's claims, its signature checked against the provider's keys."""
    assert response.status_code == 200, response.text
    id_token = response.json()["id_token"]
    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(id_token).key
    return jwt.decode(
        id_token, key, algorithms=["RS256"], audience=client[0], issuer=discovery["issuer"]
    )


def signed_in_at(discovery, client, session, password=PASSWORD, **extra):
    """One sign-on through ``session``: the ``auth_time`` of its ID token."""
    verifier, challenge = pkce_pair()
    url = authorize_url(discovery, client[0], challenge, **extra)
    code = code_from(sign_in_at_provider(url, EMAIL, password, session=session))
    return id_token_claims(discovery, client, exchange(discovery, client, code, verifier))[
        "auth_time"
    ]


def test_discovery_document_names_the_issuer_and_s256(oidc_provider, discovery):  # noqa: F811
    assert discovery["issuer"] == oidc_provider.issuer
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    keys = requests.get(discovery["jwks_uri"], timeout=5).json()["keys"]
    assert [key["kty"] for key in keys] == ["RSA"]


def test_code_flow_with_pkce_gives_signed_identity_claims(discovery, person, client):
    verifier, challenge = pkce_pair()
    before = int(time.time())
    location = sign_in_at_provider(authorize_url(discovery, client[0], challenge), EMAIL, PASSWORD)

    claims = id_token_claims(
        discovery, client, exchange(discovery, client, code_from(location), verifier)
    )

    assert claims["email"] == EMAIL
    assert claims["email_verified"] is True
    assert claims["name"] == "Ada Lovelace"
    assert claims["nonce"] == "nonce-456"
    assert before <= claims["auth_time"] <= int(time.time())


def test_wrong_or_missing_code_verifier_is_refused(discovery, person, client):
    _, challenge = pkce_pair()
    location = sign_in_at_provider(authorize_url(discovery, client[0], challenge), EMAIL, PASSWORD)
    code = code_from(location)

    wrong = exchange(discovery, client, code, pkce_pair()[0])
    missing = exchange(discovery, client, code, None)

    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert "id_token" not in wrong.json() | missing.json()


def test_authorize_without_pkce_is_refused(discovery, person, client):
    url = authorize_url(discovery, client[0], None)

    response = requests.get(url, allow_redirects=False, timeout=5)

    assert response.status_code == 400
    assert "PKCE" in response.text


def test_prompt_login_and_max_age_force_a_fresh_sign_in(discovery, person, client):
    session = requests.Session()
    first = signed_in_at(discovery, client, session)
    # auth_time is in whole seconds: let the next one be a different second.
    time.sleep(1.1)

    # Signed in at the provider: no password asked, the same sign-in.
    assert signed_in_at(discovery, client, session, password=None) == first
    with pytest.raises(AssertionError, match="asked the person to sign in"):
        signed_in_at(discovery, client, session, password=None, prompt="login")
    relogin = signed_in_at(discovery, client, session, prompt="login")
    assert relogin > first
    assert signed_in_at(discovery, client, session, password=None, max_age="3600") == relogin
    time.sleep(1.1)
    assert signed_in_at(discovery, client, session, max_age="0") > relogin
