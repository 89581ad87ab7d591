"""What program admins fill in to pair people, end a pairing or re-pair a mentee."""

from django import forms

from agreements.models import Agreement, User

NAME_LIMIT = 150


def _clean_text(value):
    if "\x00" in value:
        raise forms.ValidationError("Remove the invisible NUL character.", code="nul")
    return value.strip()


class PairingForm(forms.Form):
    """A new pairing: two people by name and email. Someone without an
    account is invited; an existing account keeps its own name."""

    mentor_name = forms.CharField(label="Mentor's name", max_length=NAME_LIMIT)
    mentor_email = forms.EmailField(label="Mentor's email")
    mentee_name = forms.CharField(label="Mentee's name", max_length=NAME_LIMIT)
    mentee_email = forms.EmailField(label="Mentee's email")
    start_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional: the pair can set or change it in their agreement.",
    )
    exit_date = forms.DateField(
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Optional. Left empty, it follows from the program's term length.",
    )

    def __init__(self, *args, program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program

    def clean_mentor_name(self):
        return _clean_text(self.cleaned_data["mentor_name"])

    def clean_mentee_name(self):
        return _clean_text(self.cleaned_data["mentee_name"])

    def _existing(self, field):
        email = self.cleaned_data[field].lower()
        user = User.objects.filter(email__iexact=email).first()
        if user is not None and not user.is_active:
            raise forms.ValidationError(
                "The account with this email address is deactivated.", code="inactive"
            )
        return email

    def clean_mentor_email(self):
        return self._existing("mentor_email")

    def clean_mentee_email(self):
        return self._existing("mentee_email")

    def clean(self):
        cleaned = super().clean()
        mentor, mentee = cleaned.get("mentor_email"), cleaned.get("mentee_email")
        start, exit_ = cleaned.get("start_date"), cleaned.get("exit_date")
        if exit_ and not start:
            self.add_error("exit_date", "An exit date needs a start date.")
        elif start and exit_ and exit_ <= start:
            self.add_error("exit_date", "The exit date must come after the start date.")
        if mentor and mentee:
            if mentor == mentee:
                raise forms.ValidationError(
                    "A person cannot mentor themselves: enter two different people.",
                    code="same_person",
                )
            open_pairing = Agreement.objects.filter(
                program=self.program, mentor__email__iexact=mentor, mentee__email__iexact=mentee
            ).exclude(status=Agreement.Status.ENDED)
            if open_pairing.exists():
                raise forms.ValidationError(
                    "%(mentor)s already mentors %(mentee)s in this program.",
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
        label="Reason",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Both people see this reason, in an email and on their agreement.",
    )

    def clean_reason(self):
        return _clean_text(self.cleaned_data["reason"])


class RepairForm(EndPairingForm):
    """The mentee gets another mentor: the current pairing ends with the
    reason given, and a new one opens."""

    mentor_name = forms.CharField(label="New mentor's name", max_length=NAME_LIMIT)
    mentor_email = forms.EmailField(label="New mentor's email")

    field_order = ["mentor_name", "mentor_email", "reason"]

    def __init__(self, *args, agreement, **kwargs):
        super().__init__(*args, **kwargs)
        self.agreement = agreement

    def clean_mentor_name(self):
        return _clean_text(self.cleaned_data["mentor_name"])

    def clean_mentor_email(self):
        email = self.cleaned_data["mentor_email"].lower()
        agreement = self.agreement
        if email == agreement.mentee.email.lower():
            raise forms.ValidationError(
                "A person cannot mentor themselves: enter someone other than the mentee.",
                code="same_person",
            )
        if email == agreement.mentor.email.lower():
            raise forms.ValidationError(
                "This is the current mentor: enter the new mentor's email.", code="same_mentor"
            )
        user = User.objects.filter(email__iexact=email).first()
        if user is not None and not user.is_active:
            raise forms.ValidationError(
                "The account with this email address is deactivated.", code="inactive"
            )
        if (
            Agreement.objects.filter(
                program=agreement.program_id, mentor__email__iexact=email, mentee=agreement.mentee
            )
            .exclude(status=Agreement.Status.ENDED)
            .exists()
        ):
            raise forms.ValidationError(
                "This person already mentors %(mentee)s in this program.",
                code="duplicate",
                params={"mentee": agreement.mentee.full_name},
            )
        return email
