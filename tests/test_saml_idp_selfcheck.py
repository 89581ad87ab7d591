"""tests/saml_idp.py checked against python3-saml itself, under the settings
django-allauth's saml provider builds from ``SAMLIdP.app_settings`` (its
``build_saml_config``): if these pass, a refusal in the sign-in tests is
the app's or allauth's doing, not a malformed test IdP."""

import datetime

import pytest

pytest.importorskip("onelogin.saml2.response")

from allauth.socialaccount.providers.saml.utils import (  # noqa: E402
    build_saml_config,
    prepare_django_request,
)
from django.urls import include, path, reverse  # noqa: E402
from onelogin.saml2.auth import OneLogin_Saml2_Auth  # noqa: E402
from onelogin.saml2.errors import OneLogin_Saml2_ValidationError  # noqa: E402
from onelogin.saml2.response import OneLogin_Saml2_Response  # noqa: E402
from onelogin.saml2.settings import OneLogin_Saml2_Settings  # noqa: E402

from tests.saml_idp import new_idp, request_id, tamper  # noqa: E402

# allauth's saml views on their own, wherever the app mounts them: build_saml_config
# reverses "saml_acs" for the address the response must be sent to.
urlpatterns = [path("accounts/", include("allauth.socialaccount.providers.saml.urls"))]
pytestmark = pytest.mark.urls(__name__)

HOST = "sp.example.test"
SP_ENTITY_ID = "https://sp.example.test/saml"
ORG = "acme"
REQUEST_ID = "_0123456789abcdef0123456789abcdef"
Error = OneLogin_Saml2_ValidationError


@pytest.fixture(scope="module")
def idp():
    return new_idp()


@pytest.fixture
def acs_url(settings):
    settings.ALLOWED_HOSTS = [HOST]
    return f"https://{HOST}{reverse('saml_acs', args=[ORG])}"


def saml_response(idp, acs_url, **overrides):
    fields = {
        "acs_url": acs_url,
        "audience": SP_ENTITY_ID,
        "in_response_to": REQUEST_ID,
        "name_id": "u-7f3a",
        "email": "maria@example.com",
        "name": "Maria Mentor",
    }
    return idp.response(**(fields | overrides))


def received(rf, idp, saml_response):
    """What allauth's ACS does with a POSTed SAMLResponse, up to python3-saml's
    verdict: its settings for this IdP, the request as onelogin sees it."""
    request = rf.post(
        reverse("saml_acs", args=[ORG]),
        {"SAMLResponse": saml_response},
        HTTP_HOST=HOST,
        secure=True,
    )
    config = build_saml_config(request, idp.app_settings(sp_entity_id=SP_ENTITY_ID), ORG)
    response = OneLogin_Saml2_Response(OneLogin_Saml2_Settings(config), saml_response)
    return response, prepare_django_request(request)


def refusal(rf, idp, saml_response):
    response, request_data = received(rf, idp, saml_response)
    with pytest.raises(Error) as refused:
        # request_id=None as allauth passes it: it matches InResponseTo itself.
        response.is_valid(request_data, request_id=None, raise_exceptions=True)
    return refused.value


def test_valid_response_is_accepted(rf, idp, acs_url):
    response, request_data = received(rf, idp, saml_response(idp, acs_url))

    assert response.is_valid(request_data, request_id=None), response.get_error()
    assert response.get_in_response_to() == REQUEST_ID
    assert response.get_nameid() == "u-7f3a"
    assert response.get_attributes() == {
        "urn:oasis:names:tc:SAML:attribute:subject-id": ["u-7f3a"],
        "urn:oid:0.9.2342.19200300.100.1.3": ["maria@example.com"],
        "http://schemas.auth0.com/email_verified": ["true"],
        "urn:oid:2.16.840.1.113730.3.1.241": ["Maria Mentor"],
    }
    assert response.get_session_index().startswith("_")


def test_authn_instant_is_the_one_given(rf, idp, acs_url):
    earlier = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=3)
    response, request_data = received(rf, idp, saml_response(idp, acs_url, authn_instant=earlier))

    assert response.is_valid(request_data), response.get_error()
    (statement,) = response._query_assertion("/saml:AuthnStatement")
    assert statement.get("AuthnInstant") == earlier.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_tampered_response_is_refused_for_its_signature(rf, idp, acs_url):
    error = refusal(rf, idp, tamper(saml_response(idp, acs_url)))

    assert error.code == Error.INVALID_SIGNATURE


def test_tamper_changes_only_the_email(rf, idp, acs_url):
    response, _ = received(rf, idp, tamper(saml_response(idp, acs_url)))

    assert response.get_attributes()["urn:oid:0.9.2342.19200300.100.1.3"] == [
        "mallory@example.test"
    ]
    assert response.get_nameid() == "u-7f3a"


def test_response_for_another_audience_is_refused(rf, idp, acs_url):
    other = saml_response(idp, acs_url, audience="https://elsewhere.example.test/saml")

    assert refusal(rf, idp, other).code == Error.WRONG_AUDIENCE


def test_expired_response_is_refused(rf, idp, acs_url):
    # Beyond the five minutes of clock drift python3-saml allows.
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    expired = saml_response(idp, acs_url, issue_instant=an_hour_ago, not_on_or_after=an_hour_ago)

    assert refusal(rf, idp, expired).code == Error.ASSERTION_EXPIRED


def test_unsigned_response_is_refused(rf, idp, acs_url):
    unsigned = saml_response(idp, acs_url, sign=False)

    assert refusal(rf, idp, unsigned).code == Error.NO_SIGNED_ASSERTION


def test_response_signed_by_another_key_is_refused(rf, idp, acs_url):
    impostor = new_idp(entity_id=idp.entity_id)

    assert refusal(rf, idp, saml_response(impostor, acs_url)).code == Error.INVALID_SIGNATURE


def test_request_id_reads_the_authn_request_of_the_redirect(rf, idp, acs_url):
    """As allauth's SAMLProvider.redirect makes it (``auth.login``), and
    stashes its state under ``get_last_request_id()``."""
    request = rf.get(reverse("saml_login", args=[ORG]), HTTP_HOST=HOST, secure=True)
    config = build_saml_config(request, idp.app_settings(sp_entity_id=SP_ENTITY_ID), ORG)
    auth = OneLogin_Saml2_Auth(prepare_django_request(request), config)

    redirect_url = auth.login(return_to="")

    assert redirect_url.startswith(idp.sso_url + "?SAMLRequest=")
    assert request_id(redirect_url) == auth.get_last_request_id()
