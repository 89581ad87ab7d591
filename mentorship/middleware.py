"""The app's own middleware: compression of the pages (not of the files), the
language a signed-in person chose, no copy kept of what they are shown, and
how long a session lasts."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.http import FileResponse
from django.middleware import gzip
from django.utils import translation
from django.utils.cache import patch_cache_control


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's GZipMiddleware, except for files.

    The PDFs are compressed already: gzip would spend CPU on every download to
    gain nothing, and would replace the file a WSGI server sends by sendfile
    (``wsgi.file_wrapper``) with a stream of compressed chunks.
    """

    def process_response(self, request, response):
        if isinstance(response, FileResponse):
            return response
        return super().process_response(request, response)


class UserLanguageMiddleware:
    """The language a signed-in person chose in their settings.

    LocaleMiddleware has chosen one already, from the switcher's cookie or the
    browser's Accept-Language; a choice saved with the account follows the
    person to every browser, so it wins. Someone who has not chosen keeps
    LocaleMiddleware's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        language = getattr(request.user, "chosen_language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class SignOnFormsMiddleware:
    """A page with single sign-on buttons (socialaccount/_provider_buttons.html)
    posts to the app, which sends the browser on to the provider: the
    page's ``form-action`` allows the providers' origins too (collected while
    it rendered, ``allow_forms_to``), or the browser would stop there. Before
    django-csp's middleware in the response's way out (after it in MIDDLEWARE).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if origins := getattr(request, "sign_on_form_origins", None):
            update = getattr(response, "_csp_update", None) or {}
            form_action = [*update.get("form-action", []), *sorted(origins)]
            response._csp_update = {**update, "form-action": form_action}
        return response


class PrivateResponsesMiddleware:
    """What a signed-in person is shown is theirs: agreements, trails, PDFs,
    calendars. No cache along the way, nor the browser's, keeps a copy (a
    shared computer's back button after signing out, a proxy's disk): every
    answer to them is ``Cache-Control: private, no-store``, unless its view
    chose otherwise (the calendar feed, which calendar apps poll).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response


class SessionLifetimeMiddleware:
    """A session ends after SESSION_COOKIE_AGE seconds without activity, and
    SESSION_MAX_AGE seconds after signing in, whatever the activity.

    Django sets a session's expiry when it saves it, which it does only when
    the session changes. So the step of time of the last request is kept in
    the session: a request in a new step (SESSION_ACTIVITY_STEP seconds)
    changes it, and the save moves the expiry to SESSION_COOKIE_AGE from
    then. A session the database has let expire is empty: the person is
    signed out. Times are whole seconds since the epoch: the session is JSON.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            session = request.session
            # A session from before this middleware counts from now.
            signed_in = session.setdefault("signed_in_at", now)
            if now - signed_in > settings.SESSION_MAX_AGE:
                logout(request)
            elif session.get("active_step") != now // settings.SESSION_ACTIVITY_STEP:
                session["active_step"] = now // settings.SESSION_ACTIVITY_STEP
        return self.get_response(request)


def start_session_clock(session):
    """At signing in: the session's life starts, and its first step of
    activity is the present one (the next request need not write it)."""
    now = int(time.time())
    session["signed_in_at"] = now
    session["active_step"] = now // settings.SESSION_ACTIVITY_STEP
