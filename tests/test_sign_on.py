"""agreements/sign_on.py on its own: when a login at the provider stands in
for the password, and which origins a page's buttons may send a form to."""

import re
import time
from types import SimpleNamespace

import pytest
from django.test import RequestFactory

from agreements import sign_on


def session_with(auth_time):
    request = RequestFactory().get("/")
    request.session = {
        sign_on.SESSION_KEY: {"app": 1, "provider": "University", "auth_time": auth_time}
    }
    return request


def test_a_login_at_the_provider_minutes_ago_stands_in_for_the_password():
    provider, at = sign_on.confirmed(session_with(int(time.time()) - 240))
    assert provider == "University"
    assert abs(at.timestamp() - (time.time() - 240)) < 5


@pytest.mark.parametrize(
    "auth_time",
    [
        pytest.param(lambda now: now - 6 * 60, id="too-long-ago"),
        pytest.param(lambda now: now + 30 * 24 * 3600, id="from-the-future"),
        pytest.param(lambda now: 10**12, id="beyond-the-calendar"),
        pytest.param(lambda now: None, id="none-given"),
    ],
)
def test_a_login_not_within_the_window_does_not(auth_time):
    assert sign_on.confirmed(session_with(auth_time(int(time.time())))) is None


def test_a_session_without_single_sign_on_has_nothing_to_confirm():
    request = RequestFactory().get("/")
    request.session = {}
    assert sign_on.confirmed(request) is None


def remembered(provider, extra_data):
    """What ``remember`` keeps of a login at a provider of type ``provider``
    whose account's extra_data is ``extra_data``."""
    request = RequestFactory().get("/")
    request.session = {}
    app = SimpleNamespace(pk=7, name="University", provider=provider)
    login = SimpleNamespace(
        provider=SimpleNamespace(app=app), account=SimpleNamespace(extra_data=extra_data)
    )
    sign_on.remember(request, login)
    return request.session[sign_on.SESSION_KEY]


@pytest.mark.parametrize(
    ("provider", "extra_data", "auth_time"),
    [
        ("openid_connect", {"id_token": {"auth_time": 1_700_000_000}}, 1_700_000_000),
        ("saml", {"authn_instant": 1_700_000_000}, 1_700_000_000),
        # What the provider did not say, or said as something else.
        ("openid_connect", {}, None),
        ("openid_connect", {"id_token": ["auth_time"]}, None),
        ("openid_connect", {"id_token": {"auth_time": "1700000000"}}, None),
        ("openid_connect", {"id_token": {"auth_time": True}}, None),
        ("saml", {"authn_instant": None}, None),
        # A SAML IdP's attributes are lists of strings, whatever their name.
        ("saml", {"id_token": ["x"], "authn_instant": ["1700000000"]}, None),
    ],
)
def test_a_login_is_remembered_with_the_time_the_provider_gave(provider, extra_data, auth_time):
    assert remembered(provider, extra_data) == {
        "app": 7,
        "provider": "University",
        "auth_time": auth_time,
    }


def provider(app_settings):
    return SimpleNamespace(app=SimpleNamespace(settings=app_settings))


def test_form_origins_are_the_providers_origins():
    providers = [
        provider({"server_url": "https://idp.example.edu/realms/staff"}),
        provider(
            {
                "server_url": "https://idp.example.edu",
                "openid_configuration_overrides": {
                    "authorization_endpoint": "https://login.example.edu:8443/authorize"
                },
            }
        ),
        provider({"idp": {"sso_url": "https://sso.example.org/saml/sso"}}),
        provider({"idp": {"metadata_url": "http://127.0.0.1:9000/metadata"}}),
    ]
    assert sign_on.form_origins(providers) == [
        "http://127.0.0.1:9000",
        "https://idp.example.edu",
        "https://login.example.edu:8443",
        "https://sso.example.org",
    ]


@pytest.mark.parametrize(
    "app_settings",
    [
        {"server_url": "https://idp.example.com;script-src 'unsafe-inline' *@x/"},
        {"server_url": "https://user:secret@idp.example.com/"},
        {"server_url": "javascript:alert(1)"},
        {"server_url": "https://idp.example.com:99999/"},
        {"server_url": 42},
        {"idp": None},
        {"idp": "https://sso.example.org"},
        {"openid_configuration_overrides": ["https://x.example"]},
        {},
    ],
)
def test_form_origins_never_carry_more_than_an_origin(app_settings):
    # At most one bare origin, whatever the rest of the address says.
    origins = sign_on.form_origins([provider(app_settings)])
    assert len(origins) <= 1
    assert all(re.fullmatch(r"https?://[a-z0-9.-]+(:[0-9]+)?", origin) for origin in origins)
