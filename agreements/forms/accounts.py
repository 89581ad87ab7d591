"""Signing in, resetting a password, and the account's own settings."""

import ipaddress
import logging
import uuid

from allauth.account import forms as allauth_forms
from allauth.socialaccount.models import SocialAccount
from axes.utils import reset as reset_lockouts
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm as BasePasswordResetForm
from django.contrib.auth.forms import SetPasswordForm
from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy

from agreements.models import Effect
from agreements.models.audit import client_ip
from agreements.models.users import email_key

from .widgets import LanguageSelect, needed, time_zone_choices

logger = logging.getLogger(__name__)

# The longest email address an account can have (User.email's max_length).
LOGIN_NAME_LIMIT = 254


class LoginForm(allauth_forms.LoginForm):
    """allauth's login form (ACCOUNT_FORMS), in the app's words. The email
    is any form of the account's address (``email_key``); allauth's email
    field would refuse a fullwidth or padded one before it is looked up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Refused as a form error before anything (django-axes included)
        # tries to authenticate or store it.
        self.fields["login"] = forms.CharField(
            label=gettext_lazy("Email address"),
            max_length=LOGIN_NAME_LIMIT,
            widget=forms.EmailInput(attrs={"autocomplete": "username webauthn", "autofocus": True}),
        )
        # The page links to the password reset once, under the form.
        self.fields["password"].help_text = ""
        self.order_fields(["login", "password"])


# Anyone can ask for a password reset for any address, so without a limit a
# stranger could fill someone's inbox, or send mail in bulk from ours. An
# account gets at most RESETS_PER_ACCOUNT reset emails in RESET_WINDOW seconds
# (an hour from the first of them): enough for someone who lost the first
# email or typed a new password wrong. One client address may ask for at most
# RESETS_PER_CLIENT resets in the same window, sent or not, so one machine
# cannot work through a list of addresses; it is larger because people behind
# one office or campus network share an address. Beyond either limit nothing
# is sent, and the page says what it always says, so it never tells whether an
# address has an account. The counts are in the cache (Redis with REDIS_URL),
# which every web server shares; without it each process counts on its own,
# so the limits are per process.
RESETS_PER_ACCOUNT = 3
RESETS_PER_CLIENT = 20
RESET_WINDOW = 60 * 60


class PasswordResetForm(BasePasswordResetForm):
    """Django's form; the email goes out from the task worker, so a mail
    server that is down for a while delays it instead of losing it."""

    # Set when the cache did not answer: the request is then not counted
    # again, so an address with an account does not wait for it twice.
    cache_down = False

    def get_users(self, email):
        """The active accounts with a password under the address typed, found
        by its one form (``email_key``) like the login, not by Django's
        case-insensitive match; and those that log in with single sign-on,
        which may have none yet (an account it made): a password lets them
        sign with it too. Not an invitation waiting for its answer."""
        users = (
            get_user_model()
            ._default_manager.filter(email=email_key(email), is_active=True)
            .annotate(signs_on=Exists(SocialAccount.objects.filter(user=OuterRef("pk"))))
        )
        return (user for user in users if user.has_usable_password() or user.signs_on)

    def save(self, *args, request=None, **kwargs):
        # Django's PasswordResetView passes the request; other callers may not.
        address = client_ip(request) if request is not None else None
        if address and not self._within_limit(_client_key(address), RESETS_PER_CLIENT):
            return
        super().save(*args, request=request, **kwargs)

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        user = context["user"]
        # Counted by account, not by the address typed: its variants are one account.
        if not self._within_limit(f"password-reset:account:{user.pk}", RESETS_PER_ACCOUNT):
            return
        # Each request is its own email; the link is made when it is sent.
        Effect.objects.promise_email("password_reset", to=user, about=f"request:{uuid.uuid4().hex}")

    def _within_limit(self, key, limit):
        """Whether this request is among the first ``limit`` counted under
        ``key`` in its window.

        A cache that does not answer (Redis down) lets the request through,
        with the error logged: password resets keep working, unlimited, until
        it is back, as nothing else the app does depends on the cache either.
        """
        if self.cache_down:
            return True
        try:
            return _count(key) <= limit
        except Exception:
            logger.exception("Password reset not limited: the cache did not answer.")
            self.cache_down = True
            return True


def _client_key(address):
    """The count a client address is under: an IPv6 address by its /64, the
    block one household or machine is usually given, so that walking through
    its addresses does not start new counts."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return f"password-reset:client:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"password-reset:client:{ip}"


def _count(key):
    """This request's number in the window under ``key``, which starts with
    the first request and lasts RESET_WINDOW seconds."""
    if cache.add(key, 1, timeout=RESET_WINDOW):
        return 1
    try:
        count = cache.incr(key)
    except ValueError:
        # The window ended between the two calls: this request opens the next.
        return 1 if cache.add(key, 1, timeout=RESET_WINDOW) else cache.incr(key)
    if count == 1:
        # The key expired between the existence check and INCR of Django's
        # Redis backend, and INCR made it afresh without a timeout: give it one,
        # or the count would never end.
        cache.touch(key, RESET_WINDOW)
    return count


class NewPasswordForm(SetPasswordForm):
    """The password chosen through an emailed link (a reset or an invitation):
    it also lifts the account's lockouts. Whoever can read the account's
    email gets in, however many wrong passwords others typed for it."""

    def save(self, commit=True):
        user = super().save(commit)
        reset_lockouts(username=email_key(user.email))
        return user


def language_choices():
    return [("", gettext_lazy("The language of your browser")), *settings.LANGUAGES]


class AccountForm(forms.ModelForm):
    language = forms.ChoiceField(
        label=gettext_lazy("Language"),
        choices=language_choices,
        required=False,
        widget=LanguageSelect,
        help_text=gettext_lazy("The pages, and the emails we send you, are in this language."),
    )
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        choices=time_zone_choices,
        help_text=gettext_lazy(
            "Meeting times, check-in dates and reminders follow this time zone."
        ),
    )

    class Meta:
        model = get_user_model()
        fields = ["language", "time_zone", "discussion_emails"]
        widgets = {"discussion_emails": forms.RadioSelect}
        help_texts = {
            "discussion_emails": gettext_lazy(
                "When the other party comments on your agreement, proposes a change or answers "
                "your proposal. The emails say what happened and where, never what was written: "
                "you read that in the app."
            )
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One of the radio buttons is always chosen: not "(optional)", yet a
        # form sent without it (an older page) keeps the choice made before.
        choice = self.fields["discussion_emails"]
        choice.required = False
        needed(choice)

    def clean_discussion_emails(self):
        return self.cleaned_data["discussion_emails"] or self.instance.discussion_emails
