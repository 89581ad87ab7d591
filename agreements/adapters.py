"""How django-allauth's sign-in flow fits the app (ACCOUNT_ADAPTER,
MFA_ADAPTER, SOCIALACCOUNT_ADAPTER): invitation only, the app's one
client-address rule, its name in authenticator apps, single sign-on matched
to accounts by the one form of an address."""

import unicodedata
import uuid

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.manage_email import assess_unique_email
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.providers.base.constants import AuthProcess
from django.db.models import Q
from django.shortcuts import render
from django.utils.translation import gettext as _

from agreements import sign_on
from agreements.emails import SECURITY_CHANGES
from agreements.lockouts import mark_known_device
from agreements.models import Effect, Program, User
from agreements.models.audit import client_ip
from agreements.models.users import email_key, name_fault


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
        account knows, which the lockouts' ceiling does not hold. A login
        through single sign-on is remembered for the session: which provider,
        and when the person last authenticated there (``sign_on``)."""
        sociallogin = (kwargs.get("signal_kwargs") or {}).get("sociallogin")
        if sociallogin is not None:
            sign_on.remember(request, sociallogin)
        return mark_known_device(super().post_login(request, user, **kwargs), user)

    def send_notification_mail(self, template_prefix, user, context=None, email=None):
        """allauth's notices of a change to how someone logs in (a factor
        added or removed, new recovery codes), as the app's own email
        (``emails.security_notice``), sent by the worker."""
        change = template_prefix.removeprefix("mfa/email/").removeprefix("socialaccount/email/")
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
        return _("Mentorship")


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    """Single sign-on: who a provider's person is here.

    A person the provider vouches for is matched to the account whose address
    is the one the provider verified, in its one form (``email_key``), never
    by allauth's case-insensitive lookup (the lookalike addresses that
    ``email_key`` keeps apart). A provider connected to programs speaks only
    for their people (the pairs and the admins); one connected to none, the
    installation's, for everyone; neither for staff, who log in with their
    password. Without an account a person gets one only if a program
    connected to the provider allows it, and only with a verified address
    and a name fit to be shown. Nothing but logging in: no identity is
    connected to the account of whoever is already logged in.
    """

    def pre_social_login(self, request, sociallogin):
        """Match, connect, or refuse (``ImmediateHttpResponse``), before allauth
        logs anyone in or makes an account."""
        if sociallogin.state.get("process") != AuthProcess.LOGIN:
            _refuse(request, _("Logging in with your organisation did not work."))
        app = sociallogin.provider.app
        if sociallogin.is_existing:
            self._check_may_log_in(request, app, sociallogin.user)
            return
        address = self._verified_address(sociallogin)
        if address is None:
            _refuse(
                request,
                _(
                    "Your organisation did not send a confirmed email address that can be "
                    "used here, so it could not be matched to an account. Log in with your "
                    "password instead."
                ),
            )
        key = email_key(address)
        # email_key folds compatibility characters (the long s ſ, the Kelvin
        # sign, fullwidth letters) into plain ones, so that a lookalike typed at
        # the login finds its account, where a password still has to match;
        # and it keeps the letters with special case rules (the dotless ı, ß)
        # apart, as a key no account has. Here nothing else has to match, so a
        # mailbox that is only a lookalike of someone's address is refused:
        # it becomes neither theirs nor a second account beside it.
        # allauth lower-cases the address it lists, which already folds the
        # Kelvin sign: the forms the provider sent (its claims, its attributes)
        # are checked too.
        forms = [address, *_forms_sent(sociallogin.account.extra_data, address)]
        folded = any(unicodedata.normalize("NFKC", form) != form for form in forms)
        marks = any(unicodedata.category(char) == "Mn" for char in key)
        if folded or marks or key.upper().lower() != key:
            _refuse(
                request,
                _(
                    "Your organisation sent an address with characters that look like "
                    "others, so it could be mistaken for someone else's. Log in with your "
                    "password instead."
                ),
            )
        user = User.objects.filter(email=key).first()
        if user is not None:
            self._check_may_log_in(request, app, user)
            # Connected from now on (and its owner told by email): the next
            # login finds it by the provider's own identifier.
            sociallogin.connect(request, user)
            return
        if not self.is_open_for_signup(request, sociallogin):
            return  # allauth shows account/signup_closed.html
        name = " ".join(sociallogin.user.full_name.split())
        if not name or name_fault(name) or len(name) > User._meta.get_field("full_name").max_length:
            _refuse(
                request,
                _(
                    "Your organisation sent a name that cannot be shown on an agreement "
                    "(it is missing, too long or contains invisible characters). Ask your "
                    "program's admin to invite you instead."
                ),
            )
        if assess_unique_email(key) is not True:
            # allauth's own records say another account has it (an address it
            # keeps for an account it made): not a second account, and not
            # allauth's sign-up form, which the app does not have.
            _refuse(request, _("An account already uses a form of this address."))
        sociallogin.user.full_name = name

    def _check_may_log_in(self, request, app, user):
        """Refuse a provider that does not speak for ``user``: staff (their
        password and second factor only), an account that is closed, or
        someone who is in none of the provider's programs, unless they are in
        no program at all and one of them makes accounts (one it made, not
        paired yet)."""
        if not user.is_active:
            _refuse(request, _("This account is closed."))
        if user.is_staff or user.is_superuser:
            _refuse(
                request,
                _("This account does not log in with single sign-on: use its password."),
            )
        if not (app and app.pk):
            return
        programs = Program.objects.filter(sign_on_providers=app)
        if not programs.exists() or programs.filter(_member(user)).exists():
            return
        unpaired = not Program.objects.filter(_member(user)).exists()
        if not (unpaired and programs.filter(sign_on_creates_accounts=True).exists()):
            _refuse(
                request,
                _(
                    "This organisation's single sign-on is for the programs it serves, and "
                    "your account is in none of them. Log in with your password instead."
                ),
            )

    def can_authenticate_by_email(self, login, email):
        """Never allauth's own match by address (a per-provider setting could
        turn it on): ``pre_social_login`` matches, by ``email_key``."""
        return False

    def _verified_address(self, sociallogin):
        """The first address the provider verified (its claim, or the app's
        ``verified_email`` setting), or None."""
        for address in sociallogin.email_addresses:
            if address.verified or self.is_email_verified(sociallogin.provider, address.email):
                return address.email
        return None

    def is_open_for_signup(self, request, sociallogin):
        """Only a program connected to this provider can let it create
        accounts (``Program.sign_on_creates_accounts``)."""
        app = sociallogin.provider.app
        return bool(app and app.pk) and (
            Program.objects.filter(sign_on_providers=app, sign_on_creates_accounts=True).exists()
        )

    def populate_user(self, request, sociallogin, data):
        """A new account's address in its one form and its name as the
        provider gives it (checked in ``pre_social_login``)."""
        user = sociallogin.user
        user.email = email_key(data.get("email") or "")
        name = data.get("name") or " ".join(
            part for part in (data.get("first_name"), data.get("last_name")) if part
        )
        user.full_name = name or ""
        return user


def _member(user):
    """The condition on a program that ``user`` is in it: one of a pair, or an admin."""
    return Q(agreements__mentor=user) | Q(agreements__mentee=user) | Q(admins=user)


def _forms_sent(data, address):
    """The strings in a provider's claims or attributes (``extra_data``) that
    are ``address`` but for Python's lower-casing."""
    if isinstance(data, str):
        if data != address and data.lower() == address:
            yield data
    elif isinstance(data, dict | list):
        for value in data.values() if isinstance(data, dict) else data:
            yield from _forms_sent(value, address)


def _refuse(request, reason):
    """Stop the single sign-on with the page that says why."""
    response = render(request, "socialaccount/refused.html", {"reason": reason}, status=403)
    raise ImmediateHttpResponse(response)
