"""Single sign-on in a session: which of the organisation's identity providers
the person logged in with, and when they last authenticated there.

A program may ask its members to log in with its single sign-on
(``Program.sign_on_required``): ``allows`` says whether this session did.
Signing may be confirmed by logging in again at the provider: ``confirmed``
gives the provider and the time it says the person authenticated (OpenID
Connect's ``auth_time``), if that is fresh enough to stand in for the password.
"""

import datetime
import time
from urllib.parse import urlsplit

from allauth.account import app_settings as allauth_settings
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.db.models import Exists, OuterRef, Q

from agreements.models import Program

SESSION_KEY = "sign_on"

# What the sign page asks the provider for: a fresh login (``prompt=login``),
# and the time of it in the ID token (``max_age=0`` makes ``auth_time`` a
# required claim, OpenID Connect Core 3.1.2.1).
REAUTHENTICATE = "prompt=login&max_age=0"


def remember(request, sociallogin):
    """Keep, for this session, the provider a person just logged in with and
    when they authenticated there (``auth_time``, seconds since the epoch),
    if the provider said."""
    claims = sociallogin.account.extra_data.get("id_token") or {}
    auth_time = claims.get("auth_time")
    app = sociallogin.provider.app
    request.session[SESSION_KEY] = {
        "app": app.pk,
        "provider": app.name,
        "auth_time": auth_time if isinstance(auth_time, int) else None,
    }


def providers_for(program):
    """The providers a program's members log in with: its own, or else the
    installation's (those connected to no program). One query."""
    connected = Program.sign_on_providers.through.objects.filter(
        socialapp=OuterRef("pk"), program=program
    )
    apps = list(
        SocialApp.objects.filter(Q(programs=program) | Q(programs=None))
        .annotate(own=Exists(connected))
        .distinct()
        .order_by("name")
    )
    return [app for app in apps if app.own] or apps


def allows(request, program):
    """Whether this session may open the program's pages: yes unless the
    program asks for single sign-on and the session did not log in with one
    of its providers. (One query, only for such a program.)"""
    return not program.sign_on_required or signed_on_with(request, program)


def signed_on_with(request, program):
    """Whether this session logged in with one of the program's providers
    (one query, none if it logged in another way)."""
    if not request.session.get(SESSION_KEY):
        return False
    return Program.objects.filter(_logged_in_for(request), pk=program.pk).exists()


def split_by_program(request, agreements):
    """``agreements`` (with their programs) the session may open, and the
    programs of the others, each with the providers to log in with. No
    query unless a program asks for single sign-on: one or two per such
    program then."""
    open_, allowed, locked = [], {}, []
    for agreement in agreements:
        program = agreement.program
        if program.pk not in allowed:
            allowed[program.pk] = allows(request, program)
            if not allowed[program.pk]:
                providers = [app.get_provider(request) for app in providers_for(program)]
                locked.append((program, providers))
        if allowed[program.pk]:
            open_.append(agreement)
    return open_, locked


def _logged_in_for(request):
    """The condition on a program that this session logged in with one of
    its providers: its own, or the installation's if it has none of its own."""
    app = (request.session.get(SESSION_KEY) or {}).get("app")
    own = Program.sign_on_providers.through.objects.filter(program=OuterRef("pk"))
    installation = SocialApp.objects.filter(pk=app, programs=None)
    return Exists(own.filter(socialapp=app)) | (~Exists(own) & Exists(installation))


def confirmed(request):
    """The provider and the time (aware, UTC) the person last authenticated
    there, if they logged in with it in this session within the window of a
    fresh confirmation (allauth's, 5 minutes); else None."""
    signed_on = request.session.get(SESSION_KEY) or {}
    auth_time = signed_on.get("auth_time")
    if auth_time is None or auth_time < time.time() - allauth_settings.REAUTHENTICATION_TIMEOUT:
        return None
    return signed_on["provider"], datetime.datetime.fromtimestamp(auth_time, datetime.UTC)


def reauthentication_providers(request):
    """The providers the person logs in with that can confirm it is them at
    signing: OpenID Connect ones, whose ID token says when they authenticated
    (``auth_time``). One query."""
    connected = SocialAccount.objects.filter(user=request.user).values("provider")
    apps = SocialApp.objects.filter(provider="openid_connect", provider_id__in=connected)
    return [app.get_provider(request) for app in apps]


def form_origins(providers):
    """Where the browser is sent when a button of ``providers`` is pressed
    (the origin of an OpenID Connect provider's server or authorization
    endpoint, of a SAML IdP's sign-on or metadata address), which the page's
    Content Security Policy must let its forms go to: ``form-action`` covers
    the redirects after a form's POST too."""
    origins = set()
    for provider in providers:
        app_settings = provider.app.settings
        urls = [
            app_settings.get("server_url"),
            app_settings.get("openid_configuration_overrides", {}).get("authorization_endpoint"),
            app_settings.get("idp", {}).get("sso_url"),
            app_settings.get("idp", {}).get("metadata_url"),
        ]
        for url in filter(None, urls):
            parts = urlsplit(url)
            if parts.scheme in {"http", "https"} and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)
