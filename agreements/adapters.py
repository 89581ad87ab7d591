"""How django-allauth's sign-in flow fits the app (ACCOUNT_ADAPTER,
MFA_ADAPTER): invitation only, the app's one client-address rule, its
name in authenticator apps."""

import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.utils.translation import gettext

from agreements.emails import SECURITY_CHANGES
from agreements.lockouts import mark_known_device
from agreements.models import Effect
from agreements.models.audit import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Accounts come from a program's invitation, never from a form."""
        return False

    def pre_authenticate(self, request, **credentials):
        """Passwords are counted by django-axes (agreements/lockouts.py), not
        by allauth's own "failed login" limit, which would lock an account
        out from every address after five. That limit still counts the codes
        of the second step (5 wrong ones per account in 5 minutes, 10 a
        minute per address): allauth asks it there directly."""
        self._login_failed_rl_usage = None

    def get_client_ip(self, request):
        """allauth's rate limits count by the address the audit trail and the
        lockouts record (TRUSTED_PROXY_COUNT), not by a rule of their own."""
        return client_ip(request) or super().get_client_ip(request)

    def add_message(self, request, level, message_template=None, *args, **kwargs):
        """allauth's messages about adding or removing a factor, not its
        "Successfully signed in": the page people land on says where they
        are, and a message there would take the focus from its start."""
        if message_template == "account/messages/logged_in.txt":
            return
        super().add_message(request, level, message_template, *args, **kwargs)

    def post_login(self, request, user, **kwargs):
        """Logged in, second factor included: this browser is one the
        account knows, which the lockouts' ceiling does not hold."""
        return mark_known_device(super().post_login(request, user, **kwargs), user)

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        """allauth's notices of a change to how someone logs in (a factor
        added or removed, new recovery codes), as the app's own email
        (``emails.security_notice``), sent by the worker."""
        change = template_prefix.removeprefix("mfa/email/")
        if change in SECURITY_CHANGES:
            Effect.objects.promise_email(
                "security_notice", to=user, about=f"{change}:{uuid.uuid4().hex}", change=change
            )

    def login(self, request, user):
        """A passkey signs in without a password, so no backend has said who
        the user is: the session names ModelBackend, the one that finds
        accounts (django-axes' backend only counts failures)."""
        if not hasattr(user, "backend"):
            user.backend = "django.contrib.auth.backends.ModelBackend"
        super().login(request, user)


class MFAAdapter(DefaultMFAAdapter):
    def _get_site_name(self):
        """The app's name, not the host's: what an authenticator app shows
        next to the code, and a passkey's site name."""
        return gettext("Mentorship")
