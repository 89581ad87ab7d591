"""What program admins fill in to pair people, end a pairing or re-pair a mentee."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Agreement, User
from agreements.models.users import email_key, validate_name
from agreements.services import template_problems

from .widgets import DateField

NAME_LIMIT = User._meta.get_field("full_name").max_length


def _clean_name(value):
    """A name fit for an email header and the sealed PDF (``validate_name``),
    its spaces tidied."""
    validate_name(value)
    return " ".join(value.split())


def _clean_email(email):
    """The email in its one form (``email_key``), if its account, if any,
    can be paired."""
    email = email_key(email)
    if User.objects.filter(email=email, is_active=False).exists():
        raise forms.ValidationError(_("This email address cannot be paired."), code="inactive")
    return email


def _open_pairing(program, mentor_email, mentee_email):
    return (
        Agreement.objects.filter(
            program=program, mentor__email=mentor_email, mentee__email=mentee_email
        )
        .exclude(status=Agreement.Status.ENDED)
        .exists()
    )


class PairingForm(forms.Form):
    """A new pairing: two people by name and email. Someone without an
    account is invited; an existing account keeps its own name."""

    mentor_name = forms.CharField(label=gettext_lazy("Mentor's name"), max_length=NAME_LIMIT)
    mentor_email = forms.EmailField(label=gettext_lazy("Mentor's email"))
    mentee_name = forms.CharField(label=gettext_lazy("Mentee's name"), max_length=NAME_LIMIT)
    mentee_email = forms.EmailField(label=gettext_lazy("Mentee's email"))
    start_date = DateField(
        label=gettext_lazy("Start date"),
        required=False,
        help_text=gettext_lazy("The pair can set or change it in their agreement."),
    )
    exit_date = DateField(
        label=gettext_lazy("Exit date"),
        required=False,
        help_text=gettext_lazy("Left empty, it follows from the program's term length."),
    )

    def __init__(self, *args, program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program

    def clean_mentor_name(self):
        return _clean_name(self.cleaned_data["mentor_name"])

    def clean_mentee_name(self):
        return _clean_name(self.cleaned_data["mentee_name"])

    def clean_mentor_email(self):
        return _clean_email(self.cleaned_data["mentor_email"])

    def clean_mentee_email(self):
        return _clean_email(self.cleaned_data["mentee_email"])

    def clean(self):
        cleaned = super().clean()
        mentor, mentee = cleaned.get("mentor_email"), cleaned.get("mentee_email")
        start, exit_ = cleaned.get("start_date"), cleaned.get("exit_date")
        if exit_ and not start:
            self.add_error("exit_date", _("An exit date needs a start date."))
        elif start and exit_ and exit_ <= start:
            self.add_error("exit_date", _("The exit date must come after the start date."))
        else:
            for problem in template_problems(self.program, start, exit_):
                self.add_error("start_date" if not exit_ else "exit_date", problem)
        if mentor and mentee:
            if mentor == mentee:
                raise forms.ValidationError(
                    _("A person cannot mentor themselves: enter two different people."),
                    code="same_person",
                )
            if _open_pairing(self.program, mentor, mentee):
                raise forms.ValidationError(
                    # Translators: %(mentor)s and %(mentee)s are people, by name or email address.
                    _("%(mentor)s already mentors %(mentee)s in this program."),
                    code="duplicate",
                    params={"mentor": mentor, "mentee": mentee},
                )
        return cleaned

    def people(self):
        data = self.cleaned_data
        return (
            (data["mentor_name"], data["mentor_email"]),
            (data["mentee_name"], data["mentee_email"]),
        )


class EndPairingForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("Both people see this reason, in an email and on their agreement."),
    )


class RepairForm(EndPairingForm):
    """The mentee gets another mentor: the current pairing ends with the
    reason given, and a new one opens."""

    mentor_name = forms.CharField(label=gettext_lazy("New mentor's name"), max_length=NAME_LIMIT)
    mentor_email = forms.EmailField(label=gettext_lazy("New mentor's email"))

    field_order = ["mentor_name", "mentor_email", "reason"]

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.agreement = agreement

    def clean_mentor_name(self):
        return _clean_name(self.cleaned_data["mentor_name"])

    def clean_mentor_email(self):
        agreement = self.agreement
        email = _clean_email(self.cleaned_data["mentor_email"])
        if email == agreement.mentee.email:
            raise forms.ValidationError(
                _("A person cannot mentor themselves: enter someone other than the mentee."),
                code="same_person",
            )
        if email == agreement.mentor.email:
            raise forms.ValidationError(
                _("This is the current mentor: enter the new mentor's email."), code="same_mentor"
            )
        if _open_pairing(agreement.program, email, agreement.mentee.email):
            raise forms.ValidationError(
                # Translators: %(mentee)s is the mentee's name.
                _("This person already mentors %(mentee)s in this program."),
                code="duplicate",
                params={"mentee": agreement.mentee.full_name},
            )
        return email
