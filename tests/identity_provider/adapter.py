"""The test provider's ``IDP_OIDC_ADAPTER``: ID tokens say when the person
signed in (``auth_time``), which allauth's IdP does not do by itself.

The token endpoint is called by the app's server, without the person's
session, so the time is read where the authorize endpoint left it: on the
authorization code (see ``stamp_auth_time`` in urls.py).
"""

from allauth.idp.oidc.adapter import DefaultOIDCAdapter
from allauth.idp.oidc.models import Token

AUTH_TIME = "auth_time"


def authorization_code(code, client=None):
    """The stored authorization code with this value, used or not."""
    codes = Token.objects.by_value(code).filter(type=Token.Type.AUTHORIZATION_CODE)
    if client is not None:
        codes = codes.filter(client=client)
    return codes.first()


class TestProviderAdapter(DefaultOIDCAdapter):
    def populate_id_token(self, id_token, client, scopes, **kwargs):
        # Only the code grant knows the sign-in; a refreshed ID token goes without.
        if self.request.POST.get("grant_type") != "authorization_code":
            return
        token = authorization_code(self.request.POST.get("code", ""), client)
        if token is not None and isinstance(token.data, dict) and AUTH_TIME in token.data:
            id_token[AUTH_TIME] = token.data[AUTH_TIME]
