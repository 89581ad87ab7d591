"""Signing the agreement."""

import datetime
import time

from allauth.account import app_settings as allauth_settings
from allauth.account.authentication import get_authentication_records
from django import forms
from django.contrib.auth import authenticate
from django.utils import translation
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements import sign_on
from agreements.models import CONSENT_STATEMENT
from agreements.models.clauses import language_dir


def passkey_confirmed_at(request):
    """When the signed-in person last confirmed it was them with a passkey
    (allauth's "confirm access" with a security key), if that was within
    allauth's window for a fresh confirmation (5 minutes); else None.

    A passkey login does not count: confirming is a step taken to sign.
    """
    since = time.time() - allauth_settings.REAUTHENTICATION_TIMEOUT
    times = [
        record["at"]
        for record in get_authentication_records(request, request.user)
        if record.get("method") == "mfa"
        and record.get("type") == "webauthn"
        and record.get("reauthenticated")
        and record.get("at", 0) >= since
    ]
    return datetime.datetime.fromtimestamp(max(times), datetime.UTC) if times else None


class SignForm(forms.Form):
    full_name = forms.CharField(
        label=gettext_lazy("Type your full name"),
        max_length=150,
        help_text=gettext_lazy("This is your signature."),
    )
    consent = forms.BooleanField(required=True)
    # Off unless ticked: the pair's words go into the PDF only if both ask
    # (``pdf.negotiation_appendix``).
    with_negotiation = forms.BooleanField(
        required=False,
        initial=False,
        label=gettext_lazy("Append our discussions and proposals to the signed PDF"),
        help_text=gettext_lazy(
            "They are added after the signed text, as a record, only if both of you tick "
            "this box. The program's admins never see them."
        ),
    )
    password = forms.CharField(
        label=gettext_lazy("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("Entered again to confirm that it is you who signs."),
    )
    content_hash = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, request, content, appendix_possible=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.user = request.user
        # A passkey just used to confirm it is them, or a fresh login at their
        # organisation's single sign-on, stands in for the password.
        self.passkey_at = passkey_confirmed_at(request)
        self.sign_on = None if self.passkey_at else sign_on.confirmed(request)
        if self.passkey_at or self.sign_on:
            del self.fields["password"]
        if not appendix_possible:
            # The other party signed without it: the box could change nothing.
            del self.fields["with_negotiation"]
        # The statement in the agreement's language, which the signer confirms;
        # and in theirs beside it, if they read the app in another (the
        # evidence keeps both: ``Signature.create_with_evidence``).
        consent = self.fields["consent"]
        language = content.languages.binding
        consent.label = format_html(
            '<span lang="{}" dir="{}">{}</span>',
            language,
            language_dir(language),
            content.consent_statement,
        )
        if translation.get_language() != language:
            consent.help_text = format_html("{} {}", _("In your language:"), str(CONSENT_STATEMENT))
        self.fields["consent"].error_messages["required"] = _(
            "Tick the box to confirm the statement."
        )

    @property
    def authenticated_by(self):
        """How the signer confirmed it was them (``AUTHENTICATIONS``)."""
        if self.passkey_at:
            return "passkey"
        return "sign_on" if self.sign_on else "password"

    @property
    def identity_provider(self):
        """For the evidence: the provider the signer logged in again with, and
        when it says they authenticated there; None for another way."""
        if not self.sign_on:
            return None
        name, auth_time = self.sign_on
        return {"name": name, "auth_time": auth_time}

    def clean_password(self):
        # Through authenticate(), so django-axes counts wrong passwords here too.
        password = self.cleaned_data["password"]
        user = authenticate(self.request, username=self.user.email, password=password)
        if user is None or user.pk != self.user.pk:
            raise forms.ValidationError(
                _("That is not your password. Nothing was signed."), code="wrong_password"
            )
        return password

    def clean_full_name(self):
        typed = " ".join(self.cleaned_data["full_name"].split())
        if typed.casefold() != " ".join(self.user.full_name.split()).casefold():
            raise forms.ValidationError(
                # Translators: %(name)s is the name on the person's account.
                _("Type your full name exactly as on your account: %(name)s."),
                code="name_mismatch",
                params={"name": self.user.full_name},
            )
        return typed
