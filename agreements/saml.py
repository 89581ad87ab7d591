"""allauth's SAML 2.0 provider, with what confirming a signature needs of it
(``SOCIALACCOUNT_PROVIDERS["saml"]["provider_class"]``).

The sign page asks an OpenID Connect provider for a fresh login with
``prompt=login``; a SAML IdP is asked the same with ``ForceAuthn="true"``
(SAML Core 3.4.1: the IdP "MUST authenticate the presenter directly rather
than rely on a previous security context"). When the person authenticated is
the assertion's ``AuthnInstant``, kept beside the attributes as
``AUTHN_INSTANT``, as an OpenID Connect ID token carries its ``auth_time``.

The NameID is kept there too (``NAME_ID``), as the IdP sent it: allauth
lower-cases an address taken from it, and the app looks for a lookalike in
the forms the IdP sent (``adapters._forms_sent``).
"""

from urllib.parse import parse_qs

from allauth.account.utils import get_request_param
from allauth.socialaccount.providers.saml.provider import SAMLProvider as BaseSAMLProvider
from allauth.socialaccount.providers.saml.utils import build_auth
from django.http import HttpResponseRedirect
from onelogin.saml2.utils import OneLogin_Saml2_Utils
from onelogin.saml2.xml_utils import OneLogin_Saml2_XML

# Keys in a SAML SocialAccount's extra_data, beside the attributes: the
# AuthnInstant in seconds since the epoch, and the NameID. Set after the
# attributes, so an attribute of either name cannot stand in for them.
AUTHN_INSTANT = "authn_instant"
NAME_ID = "name_id"

# The AuthnStatement of the assertion python3-saml validated (it refuses a
# response with more than one assertion, or a signed one of another ID).
AUTHN_STATEMENT = "/samlp:Response/saml:Assertion[@ID=$tagid]/saml:AuthnStatement"


class SAMLProvider(BaseSAMLProvider):
    def get_redirect_from_request_kwargs(self, request):
        """A login asked for ``prompt=login`` (``auth_params``, as the sign
        page asks every provider) asks the IdP for a fresh authentication."""
        kwargs = super().get_redirect_from_request_kwargs(request)
        auth_params = parse_qs(get_request_param(request, "auth_params") or "")
        kwargs["force_authn"] = auth_params.get("prompt") == ["login"]
        return kwargs

    def redirect(self, request, process, next_url=None, data=None, force_authn=False, **kwargs):
        # allauth's (65.22), with ForceAuthn when asked: check it again when
        # allauth is upgraded.
        auth = build_auth(request, self)
        redirect = auth.login(return_to="", force_authn=force_authn)
        self.stash_redirect_state(
            request, process, next_url, data, state_id=auth.get_last_request_id(), **kwargs
        )
        return HttpResponseRedirect(redirect)

    def extract_extra_data(self, data):
        return {
            **super().extract_extra_data(data),
            AUTHN_INSTANT: authn_instant(data),
            NAME_ID: data.get_nameid(),
        }


def authn_instant(auth):
    """The validated assertion's ``AuthnInstant`` (seconds since the epoch),
    or None if it has not exactly one AuthnStatement or the time is not one."""
    response = OneLogin_Saml2_XML.to_etree(auth.get_last_response_xml())
    statements = OneLogin_Saml2_XML.query(
        response, AUTHN_STATEMENT, tagid=auth.get_last_assertion_id()
    )
    if len(statements) != 1:
        return None
    try:
        return OneLogin_Saml2_Utils.parse_SAML_to_time(statements[0].get("AuthnInstant") or "")
    except Exception:  # python3-saml raises only Exception for a malformed time
        return None
