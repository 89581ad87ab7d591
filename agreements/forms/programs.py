"""The program's settings, edited by its admins: its agreement template, the
dashboard's flag and how its admins sign in."""

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Fieldset, Layout
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements.models import Program
from agreements.services import MAX_CHECKINS

from .widgets import needed

LOCK_LABEL = gettext_lazy("Program policy — the pair cannot change it")

# A locked clause must say something, or the pair would be bound to nothing.
# (The notice is always required.)
LOCKED_NEEDS = {
    "exceptions_notes": gettext_lazy("Write how an exception is handled, or leave it negotiable."),
    "checkin_every_weeks": gettext_lazy("Give the number of weeks, or leave it negotiable."),
    "term_months": gettext_lazy("Give the term length in months, or leave it negotiable."),
    "pause_max_days": gettext_lazy("Give the longest pause in days, or leave it negotiable."),
}


class ProgramTemplateForm(forms.ModelForm):
    class Meta:
        model = Program
        fields = [
            "exceptions_notes",
            "exceptions_notes_locked",
            "checkin_every_weeks",
            "checkin_every_weeks_locked",
            "term_months",
            "term_months_locked",
            "notice_days",
            "notice_days_locked",
            "pause_max_days",
            "pause_max_days_locked",
            "unsigned_flag_days",
            "admins_need_second_factor",
            "sign_on_required",
        ]
        widgets = {"exceptions_notes": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "checkin_every_weeks": gettext_lazy(
                "New agreements start with check-ins this often, from the start date to the exit "
                "date. Locked, it is the longest the pair may go without one."
            ),
            "term_months": gettext_lazy(
                "Locked, the exit date always follows from the start date."
            ),
            "unsigned_flag_days": gettext_lazy("On your dashboard only; the pair does not see it."),
        }

    def __init__(self, *args, signed_on=False, **kwargs):
        super().__init__(*args, **kwargs)
        # Whether the admin saving the form logged in with the program's
        # single sign-on: only then may they ask it of everyone, themselves included.
        self.signed_on = signed_on
        for clause in Program.TEMPLATE_CLAUSES:
            self.fields[f"{clause}_locked"].label = LOCK_LABEL
        for clause in LOCKED_NEEDS:
            needed(self.fields[clause], _("Needed if it is program policy."))
        for name, low, high in (
            ("checkin_every_weeks", 1, 52),
            ("term_months", 1, 60),
            ("notice_days", 0, 365),
            ("pause_max_days", 1, 365),
            ("unsigned_flag_days", 1, 365),
        ):
            # Checked as the fields are cleaned, so clean() sees only numbers in range.
            self.fields[name].validators += [MinValueValidator(low), MaxValueValidator(high)]
            self.fields[name].widget.attrs.update(min=low, max=high)
        self.helper = FormHelper()
        self.helper.form_tag = False
        self.helper.disable_csrf = True
        self.helper.layout = Layout(
            Fieldset(
                _("Confidentiality: how an exception is handled"),
                "exceptions_notes",
                "exceptions_notes_locked",
            ),
            Fieldset(_("Check-ins"), "checkin_every_weeks", "checkin_every_weeks_locked"),
            Fieldset(_("Term"), "term_months", "term_months_locked"),
            Fieldset(_("Early exit"), "notice_days", "notice_days_locked"),
            Fieldset(_("Pausing the meetings"), "pause_max_days", "pause_max_days_locked"),
            Fieldset(_("Your dashboard"), "unsigned_flag_days"),
            Fieldset(_("Signing in"), "admins_need_second_factor", "sign_on_required"),
        )

    def clean_sign_on_required(self):
        required = self.cleaned_data["sign_on_required"]
        if required and not self.instance.sign_on_required and not self.signed_on:
            raise forms.ValidationError(
                _(
                    "Log in with the program's single sign-on first, so that you keep access to "
                    "its pages. If none is offered on the login page, ask the installation's "
                    "superuser to connect your organisation's provider."
                ),
                code="not_signed_on",
            )
        return required

    def clean(self):
        cleaned = super().clean()
        for clause, message in LOCKED_NEEDS.items():
            if not cleaned.get(f"{clause}_locked") or clause in self.errors:
                continue
            value = cleaned.get(clause)
            if value is None or value == "":
                self.add_error(clause, forms.ValidationError(message, code="locked_empty"))
        weeks, months = cleaned.get("checkin_every_weeks"), cleaned.get("term_months")
        # Even the shortest term (four weeks a month) must hold one check-in.
        if weeks and months and weeks * 7 >= months * 28:
            self.add_error(
                "checkin_every_weeks",
                forms.ValidationError(
                    ngettext(
                        # Translators: %(weeks)s (at least 4) and %(months)s are numbers; the
                        # plural form follows %(months)s.
                        "A check-in every %(weeks)s weeks does not fit in a term of %(months)s "
                        "months: choose fewer weeks or a longer term.",
                        "A check-in every %(weeks)s weeks does not fit in a term of %(months)s "
                        "months: choose fewer weeks or a longer term.",
                        months,
                    ),
                    code="cadence_longer_than_term",
                    params={"weeks": weeks, "months": months},
                ),
            )
        elif weeks and months and months * 31 > MAX_CHECKINS * weeks * 7:
            self.add_error(
                "checkin_every_weeks",
                forms.ValidationError(
                    ngettext(
                        # Translators: %(weeks)s, %(months)s (at least 7) and %(most)s are numbers;
                        # the plural form follows %(weeks)s.
                        "A check-in every %(weeks)s weeks for %(months)s months is more than "
                        "%(most)s check-ins, the most an agreement holds: choose more weeks or "
                        "a shorter term.",
                        "A check-in every %(weeks)s weeks for %(months)s months is more than "
                        "%(most)s check-ins, the most an agreement holds: choose more weeks or "
                        "a shorter term.",
                        weeks,
                    ),
                    code="too_many_checkins",
                    params={"weeks": weeks, "months": months, "most": MAX_CHECKINS},
                ),
            )
        return cleaned
