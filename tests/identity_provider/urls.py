"""The test provider's URLs: allauth's sign-in pages under /accounts/ and its
OpenID Connect endpoints at the root, so that the issuer is the server's base
URL (``<base>/.well-known/openid-configuration``).

allauth's authorize endpoint is wrapped, at its own path so that discovery and
the consent form still point to it, to add what allauth 65.22's IdP leaves out
and the app relies on:
- PKCE required of every client (allauth requires it of public clients only);
- ``max_age``: a sign-in older than that is made again, as ``prompt=login``
  does (allauth honours ``prompt=login`` but ignores ``max_age``);
- ``auth_time``: when the person last signed in at this provider, kept on the
  authorization code for the ID token (tests/identity_provider/adapter.py).
"""

import time
from urllib.parse import parse_qs, urlsplit

from allauth.account.authentication import get_authentication_records
from allauth.idp.oidc.views import authorization
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from tests.identity_provider.adapter import AUTH_TIME, authorization_code


def last_sign_in(request):
    """When the person signed in (or re-entered a password) in this session."""
    records = get_authentication_records(request, request.user)
    return int(max(record["at"] for record in records)) if records else None


def is_sign_in_too_old(request):
    max_age = request.GET.get("max_age")
    signed_in_at = last_sign_in(request)
    if not max_age or signed_in_at is None:
        return False
    # A max_age that is not a number asks for a sign-in as fresh as can be.
    limit = int(max_age) if max_age.isdigit() else 0
    # Whole seconds, as auth_time: max_age=0 accepts a sign-in of this second.
    return int(time.time()) - signed_in_at > limit


def with_login_prompt(request):
    """This authorize URL asking for a fresh sign-in instead of a max_age, so
    that the return from that sign-in is not judged against max_age again."""
    params = request.GET.copy()
    params.pop("max_age")
    params["prompt"] = " ".join(sorted({*params.get("prompt", "").split(), "login"}))
    return f"{request.path}?{params.urlencode()}"


def stamp_auth_time(response, request):
    """Keep the sign-in time on the code this response hands to the client."""
    if response.status_code != 302:
        return
    code = parse_qs(urlsplit(response["Location"]).query).get("code")
    token = authorization_code(code[0]) if code else None
    if token is not None:
        token.data = {**(token.data or {}), AUTH_TIME: last_sign_in(request)}
        token.save(update_fields=["data"])


# Exempt as allauth's own view is: a client may POST its request, and the
# consent form is checked for CSRF by that view.
@csrf_exempt
def authorize(request):
    if request.method == "GET":
        if not request.GET.get("code_challenge"):
            return HttpResponseBadRequest("This provider requires PKCE (code_challenge, S256).")
        if is_sign_in_too_old(request):
            if "none" in request.GET.get("prompt", "").split():
                return HttpResponseBadRequest("login_required: the sign-in is older than max_age.")
            return HttpResponseRedirect(with_login_prompt(request))
    response = authorization(request)
    stamp_auth_time(response, request)
    return response


urlpatterns = [
    path("identity/o/authorize", authorize),
    path("accounts/", include("allauth.urls")),
    path("", include("allauth.idp.urls")),
]
