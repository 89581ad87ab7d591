"""How django-allauth's sign-in flow fits the app (ACCOUNT_ADAPTER,
MFA_ADAPTER): invitation only, the app's one client-address rule, its
name in authenticator apps."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from django.utils.translation import gettext

from agreements.models.audit import client_ip


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        """Accounts come from a program's invitation, never from a form."""
        return False

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

    def login(self, request, user):
        """A passkey signs in without a password, so no backend has said who
        the user is: the session names ModelBackend, the one that finds
        accounts (django-axes' backend only counts failures)."""
        if not hasattr(user, "backend"):
            user.backend = "django.contrib.auth.backends.ModelBackend"
        super().login(request, user)


class MFAAdapter(DefaultMFAAdapter):
    def get_totp_issuer(self):
        """The name an authenticator app shows next to the code."""
        return gettext("Mentorship")

    def _get_site_name(self):
        return gettext("Mentorship")
