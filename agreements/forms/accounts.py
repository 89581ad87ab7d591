"""Signing in, resetting a password, and the account's own settings."""

import uuid

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as BasePasswordResetForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy

from agreements.models import Effect

from .widgets import LanguageSelect, needed, time_zone_choices

# The longest email address an account can have (User.email's max_length).
LOGIN_NAME_LIMIT = 254


class _LimitedLoginName:
    """Refuses an over-long login name as a form error before anything
    (django-axes included) tries to authenticate or store it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].max_length = LOGIN_NAME_LIMIT
        self.fields["username"].validators.append(MaxLengthValidator(LOGIN_NAME_LIMIT))


class LoginForm(_LimitedLoginName, AuthenticationForm):
    pass


class AdminLoginForm(_LimitedLoginName, AdminAuthenticationForm):
    pass


class PasswordResetForm(BasePasswordResetForm):
    """Django's form; the email goes out from the task worker, so a mail
    server that is down for a while delays it instead of losing it."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        # Each request is its own email; the link is made when it is sent.
        Effect.objects.promise_email(
            "password_reset", to=context["user"], about=f"request:{uuid.uuid4().hex}"
        )


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
