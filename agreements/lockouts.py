"""How many wrong passwords an account may take: django-axes' database
handler, with a ceiling per account across every client address.

django-axes locks an account at one client address after
``AXES_FAILURE_LIMIT`` wrong passwords there, so that nobody elsewhere can
lock its owner out. Alone, that leaves an attacker with many addresses no
limit at all: fifty addresses make 250 guesses an hour. So
``LOGIN_ACCOUNT_CEILING`` wrong passwords for one account within the
cool-off hour, from all addresses together, stop its password logins
everywhere, until failures older than an hour drop out of the count.

Wrong passwords during a lockout are not counted, so the lock never
outlasts the hour after the last counted one, and guessing goes on at most
at the ceiling's pace. The owner is never shut out by it, however long an
attacker keeps the account at its ceiling: a browser known to the account
(a signed cookie, set where its owner logged in or chose a password through
an emailed link) is not held by the ceiling, only by the limit at its own
address; and a password chosen through an emailed reset or invitation link
lifts every lock on the account (``NewPasswordForm``) and makes that browser
a known one. The lockout page links to the reset. (OWASP's "device cookies".)
"""

import hashlib

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.core import signing
from django.db.models import Sum

from agreements.models.users import email_key

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_SALT = "agreements.lockouts.known-device"
KNOWN_DEVICE_AGE = 365 * 86400


def _device_key(address):
    """What the cookie holds: a digest of the account's address, not the
    address, which anyone at that browser could otherwise read."""
    return hashlib.sha256(email_key(address).encode()).hexdigest()[:32]


def mark_known_device(response, user):
    """Remember, in this browser, that ``user`` got in here."""
    response.set_signed_cookie(
        KNOWN_DEVICE_COOKIE,
        _device_key(user.email),
        salt=KNOWN_DEVICE_SALT,
        max_age=KNOWN_DEVICE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def is_known_device(request, username):
    """Whether this browser carries the account's cookie, signed by us."""
    cookie = request.get_signed_cookie(
        KNOWN_DEVICE_COOKIE, default=None, salt=KNOWN_DEVICE_SALT, max_age=KNOWN_DEVICE_AGE
    )
    return cookie is not None and signing.constant_time_compare(cookie, _device_key(username))


class AccountCeilingHandler(AxesDatabaseHandler):
    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or self.over_ceiling(request, credentials)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        # The failure that reaches the ceiling answers as a lockout, as the
        # one that reaches the limit at one address does.
        if request is not None and not request.axes_locked_out:
            if self.over_ceiling(request, credentials):
                request.axes_locked_out = True
                request.axes_credentials = credentials

    def over_ceiling(self, request, credentials) -> bool:
        """Whether the account's wrong passwords within the cool-off hour,
        from every address, have reached ``LOGIN_ACCOUNT_CEILING``."""
        username = get_client_username(request, credentials)
        if not username or is_known_device(request, username):
            return False
        failures = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=get_cool_off_threshold(request)
        ).aggregate(total=Sum("failures_since_start"))["total"]
        return (failures or 0) >= settings.LOGIN_ACCOUNT_CEILING
