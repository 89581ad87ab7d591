"""agreements/saml.py's reading of when the person authenticated at the IdP:
the AuthnInstant of the one assertion python3-saml validated, or nothing."""

from types import SimpleNamespace

import pytest

from agreements import saml

ASSERTION_ID = "_a1"


def response_with(*statements, assertion_id=ASSERTION_ID):
    """A validated response as python3-saml's ``OneLogin_Saml2_Auth`` gives
    it after ``process_response``: its XML and its assertion's ID."""
    xml = (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"'
        ' xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_r1">'
        f'<saml:Assertion ID="{assertion_id}">'
        + "".join(f"<saml:AuthnStatement {attributes}/>" for attributes in statements)
        + "</saml:Assertion></samlp:Response>"
    )
    return SimpleNamespace(
        get_last_response_xml=lambda: xml, get_last_assertion_id=lambda: ASSERTION_ID
    )


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        (['AuthnInstant="2026-12-01T03:00:00Z"'], 1_796_094_000),
        (['AuthnInstant="2026-12-01T03:00:00.123Z"'], 1_796_094_000),
        # What says no one time: none, two, none given, not a SAML time.
        ([], None),
        (['AuthnInstant="2026-12-01T03:00:00Z"', 'AuthnInstant="2026-12-01T03:01:00Z"'], None),
        (['SessionIndex="_s1"'], None),
        (['AuthnInstant="2026-12-01T04:00:00+01:00"'], None),
        (['AuthnInstant="yesterday"'], None),
    ],
)
def test_the_time_is_the_one_authn_statements(statements, expected):
    assert saml.authn_instant(response_with(*statements)) == expected


def test_a_statement_outside_the_validated_assertion_is_not_read():
    auth = response_with('AuthnInstant="2026-12-01T03:00:00Z"', assertion_id="_other")
    assert saml.authn_instant(auth) is None
