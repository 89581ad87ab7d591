"""Single sign-on in a session: which of the organisation's identity providers
the person logged in with, and when they last authenticated there.

A program may ask its members to log in with its single sign-on
(``Program.sign_on_required``): ``allows`` says whether this session did.
Signing may be confirmed by logging in again at the provider: ``confirmed``
gives the provider and the time it says the person authenticated (OpenID
Connect's ``auth_time``, SAML's ``AuthnInstant``), if that is fresh enough to
stand in for the password.
"""

import datetime
import re
import time
from urllib.parse import urlsplit

from allauth.account import app_settings as allauth_settings
from allauth.socialaccount.models import SocialApp
from django.db.models import Exists, OuterRef, Q

from agreements import saml
from agreements.models import Program

SESSION_KEY = "sign_on"

# What the sign page asks the provider for: a fresh login (``prompt=login``,
# which a SAML IdP is asked as ForceAuthn), and the time of it in the ID token
# (``max_age=0`` makes ``auth_time`` a required claim, OpenID Connect Core
# 3.1.2.1).
REAUTHENTICATE = "prompt=login&max_age=0"

# The kinds of provider that say when the person authenticated.
REAUTHENTICATING = ("openid_connect", "saml")

# How far ahead of the app's clock a provider's may run, in seconds.
CLOCK_SKEW = 60

# A host name (letters, digits, hyphens, dots; IDN in its ASCII form) or an
# IPv4 address: what a form-action source may name.
HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?", re.IGNORECASE)


def remember(request, sociallogin):
    """Keep, for this session, the provider a person just logged in with and
    when they authenticated there (seconds since the epoch), if it said."""
    app = sociallogin.provider.app
    request.session[SESSION_KEY] = {
        "app": app.pk,
        "provider": app.name,
        "auth_time": _auth_time(app.provider, sociallogin.account.extra_data),
    }


def _auth_time(provider, extra_data):
    """An OpenID Connect ID token's ``auth_time``, or a SAML assertion's
    ``AuthnInstant`` (``agreements.saml``), if a whole number."""
    if provider == "saml":
        auth_time = extra_data.get(saml.AUTHN_INSTANT)
    else:
        claims = extra_data.get("id_token")
        auth_time = claims.get("auth_time") if isinstance(claims, dict) else None
    return auth_time if type(auth_time) is int else None


def _providers_of(program):
    """A condition on SocialApp: the providers ``program``'s members log in
    with, its own or, if it has none, the installation's (those connected to
    no program). ``program``: a Program, or an OuterRef to one. The one home
    of this rule: the login buttons, ``allows`` and ``open_programs``."""
    connections = Program.sign_on_providers.through.objects
    own = connections.filter(program=program)
    return Exists(own.filter(socialapp=OuterRef("pk"))) | (
        ~Exists(own) & ~Exists(connections.filter(socialapp=OuterRef("pk")))
    )


def providers_for(program):
    """The providers a program's members log in with, by name. One query."""
    return list(SocialApp.objects.filter(_providers_of(program)).order_by("name"))


def allows(request, program):
    """Whether this session may open the program's pages: yes unless the
    program asks for single sign-on and the session did not log in with one
    of its providers. (One query, only for such a program.)"""
    return not program.sign_on_required or signed_on_with(request, program)


def open_programs(request, via=""):
    """``allows`` for every program at once, as a condition on the program
    reached by ``via`` (a lookup path ending in "__", or "" on Program): the
    programs that ask for no single sign-on, and those among whose providers
    is the one this session logged in with. A session that logged in another
    way gets a plain condition on a column."""
    may_open = Q(**{f"{via}sign_on_required": False})
    signed_on = request.session.get(SESSION_KEY)
    if signed_on:
        program = OuterRef(OuterRef(f"{via}pk"))
        may_open |= Exists(SocialApp.objects.filter(_providers_of(program), pk=signed_on["app"]))
    return may_open


def signed_on_with(request, program):
    """Whether this session logged in with one of the program's providers
    (one query, none if it logged in another way)."""
    signed_on = request.session.get(SESSION_KEY)
    return (
        bool(signed_on)
        and SocialApp.objects.filter(_providers_of(program), pk=signed_on["app"]).exists()
    )


def buttons_for(request, program):
    """The providers to offer a member of ``program`` to log in with."""
    return [app.get_provider(request) for app in providers_for(program)]


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
                locked.append((program, buttons_for(request, program)))
        if allowed[program.pk]:
            open_.append(agreement)
    return open_, locked


def confirmed(request):
    """The provider and the time (aware, UTC) the person last authenticated
    there, if they logged in with it in this session within the window of a
    fresh confirmation (allauth's, 5 minutes); else None."""
    signed_on = request.session.get(SESSION_KEY) or {}
    auth_time = signed_on.get("auth_time")
    now = time.time()
    # Not from the future either, beyond a provider's clock running a little
    # fast: such a time would stand in for the password all session long.
    if auth_time is None or not (
        now - allauth_settings.REAUTHENTICATION_TIMEOUT <= auth_time <= now + CLOCK_SKEW
    ):
        return None
    return signed_on["provider"], datetime.datetime.fromtimestamp(auth_time, datetime.UTC)


def reauthentication_providers(request):
    """The provider this session logged in with, to confirm it is the person
    at signing: an OpenID Connect one says when they authenticated in its ID
    token (``auth_time``), a SAML IdP in its assertion (``AuthnInstant``). No
    query for a session that logged in another way."""
    signed_on = request.session.get(SESSION_KEY)
    if not signed_on:
        return []
    apps = SocialApp.objects.filter(pk=signed_on["app"], provider__in=REAUTHENTICATING)
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
        overrides = settings_part(app_settings.get("openid_configuration_overrides"))
        idp = settings_part(app_settings.get("idp"))
        urls = [
            app_settings.get("server_url"),
            overrides.get("authorization_endpoint"),
            idp.get("sso_url"),
            idp.get("metadata_url"),
        ]
        for url in urls:
            if origin := _origin(url):
                origins.add(origin)
    return sorted(origins)


def settings_part(value):
    """A part of a SocialApp's settings, which a superuser types as JSON: the
    dict it should be, or an empty one."""
    return value if isinstance(value, dict) else {}


def _origin(url):
    """``scheme://host[:port]`` of an http(s) URL, rebuilt from its parts
    (no user, nothing a header could take for another directive), or None."""
    if not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in {"http", "https"} or not HOST.fullmatch(parts.hostname or ""):
        return None
    return f"{parts.scheme}://{parts.hostname}" + (f":{port}" if port else "")
