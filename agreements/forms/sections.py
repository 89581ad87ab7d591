"""The forms that edit a section of the draft kept in one row: contact
preferences, meeting rhythm, confidentiality and term.

The sections kept as rows (goals, check-ins, off-limits topics) have their forms in
``section_rows``, and ``editor`` holds a section's forms together.
"""

from crispy_forms.layout import Column, Fieldset, Layout, Row
from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements.models import (
    Confidentiality,
    ContactPreference,
    MeetingSchedule,
    Party,
    Term,
)
from agreements.services import add_months

from .widgets import (
    DateField,
    inline_helper,
    join_help,
    name_blank_choices,
    needed,
    time_zone_choices,
)

POLICY_HELP = gettext_lazy("Program policy: set by the program; neither of you can change it.")

# Whole sentences for each channel that has details (ContactPreference.CHANNELS),
# so each language words them its own way.
CHANNEL_NEEDED = {
    "by_email": gettext_lazy("Needed if you tick email."),
    "by_phone": gettext_lazy("Needed if you tick phone."),
    "by_video": gettext_lazy("Needed if you tick video call."),
    "by_chat": gettext_lazy("Needed if you tick chat."),
}
CHANNEL_DETAILS_MISSING = {
    "by_email": gettext_lazy("Give the details for email."),
    "by_phone": gettext_lazy("Give the details for phone."),
    "by_video": gettext_lazy("Give the details for video call."),
    "by_chat": gettext_lazy("Give the details for chat."),
}


class ContactPreferenceForm(forms.ModelForm):
    class Meta:
        model = ContactPreference
        fields = [
            "by_email", "email_details",
            "by_phone", "phone_details",
            "by_video", "video_details",
            "by_chat", "chat_details",
            "in_person", "in_person_details",
            "preferred_times", "response_time",
        ]  # fmt: skip

    def __init__(self, *args, legend="", **kwargs):
        super().__init__(*args, **kwargs)
        name_blank_choices(self, {"response_time": _("Choose a response time")})
        for flag, details, _label in ContactPreference.CHANNELS:
            if flag != "in_person":
                needed(self.fields[details], CHANNEL_NEEDED[flag])
        # Not needed to save a draft, but to agree to the section.
        needed(self.fields["response_time"])
        self.helper = inline_helper()
        rows = [
            Row(
                Column(flag, css_class="col-sm-4 pt-sm-4"),
                Column(details, css_class="col-sm-8"),
            )
            for flag, details, _label in ContactPreference.CHANNELS
        ]
        self.helper.layout = Layout(
            Fieldset(legend, *rows, Row(Column("preferred_times"), Column("response_time")))
        )

    def clean(self):
        cleaned = super().clean()
        chosen = False
        for flag, details, _label in ContactPreference.CHANNELS:
            if not cleaned.get(flag):
                # Details of a channel not chosen are shown nowhere: never keep them.
                cleaned[details] = ""
                continue
            chosen = True
            if flag != "in_person" and not cleaned.get(details):
                self.add_error(
                    details,
                    forms.ValidationError(CHANNEL_DETAILS_MISSING[flag], code="required"),
                )
        if not chosen and self.has_changed():
            raise forms.ValidationError(
                _("Choose at least one way to be contacted."), code="no_channel"
            )
        return cleaned


class MeetingScheduleForm(forms.ModelForm):
    class Meta:
        model = MeetingSchedule
        fields = [
            "frequency",
            "frequency_custom",
            "time",
            "time_zone",
            "duration_minutes",
            "format",
            "location",
            "arranged_by",
            "agenda_by",
            "notice_hours",
        ]

    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        choices=time_zone_choices,
        required=False,
        help_text=gettext_lazy(
            "Where the meeting time is reckoned; each calendar shows it in local time."
        ),
    )

    def __init__(self, *args, default_time_zone="", **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance.time_zone:
            self.initial["time_zone"] = default_time_zone
        self.fields["time"].widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
        name_blank_choices(
            self,
            {
                "frequency": _("Choose how often"),
                "format": _("Choose how you meet"),
                "arranged_by": _("Choose who"),
                "agenda_by": _("Choose who"),
            },
        )
        # Needed for a regular rhythm, which goes into both calendars (see clean()).
        needed(self.fields["time"], _("Not needed for “Other”."))
        needed(self.fields["time_zone"])
        needed(self.fields["frequency_custom"])
        # Saved means complete: the pair agrees to a whole schedule.
        for name in ("frequency", "duration_minutes", "format", "arranged_by", "agenda_by"):
            self.fields[name].required = True
        self.fields["notice_hours"].required = True
        self.fields["duration_minutes"].widget.attrs.update(min=5, max=600)
        self.fields["notice_hours"].widget.attrs.update(max=720)
        self.helper = inline_helper()
        self.helper.layout = Layout(
            Row(Column("frequency"), Column("frequency_custom")),
            Row(Column("time"), Column("time_zone")),
            Row(Column("duration_minutes"), Column("format")),
            "location",
            Row(Column("arranged_by"), Column("agenda_by")),
            "notice_hours",
        )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("frequency") == MeetingSchedule.Frequency.CUSTOM:
            if not cleaned.get("frequency_custom"):
                self.add_error(
                    "frequency_custom",
                    forms.ValidationError(_("Describe how often you will meet."), code="required"),
                )
        elif "frequency" in cleaned:
            cleaned["frequency_custom"] = ""
            # A regular rhythm goes into both calendars: it needs a time and a zone.
            for name, message in (
                ("time", _("Give the time of day you meet.")),
                ("time_zone", _("Choose the time zone of the meeting time.")),
            ):
                if not cleaned.get(name) and name not in self.errors:
                    self.add_error(name, forms.ValidationError(message, code="required"))
        return cleaned


class ConfidentialityForm(forms.ModelForm):
    class Meta:
        model = Confidentiality
        fields = [
            "work_matters",
            "personal_matters",
            "mentor_areas",
            "yields_to_risk_of_harm",
            "yields_to_legal_duty",
            "yields_to_organisation_duty",
            "exceptions_notes",
            "third_party_allowed",
            "third_party_name",
            "third_party_limits",
            "third_party_consent",
            "line_manager_by_mentor",
            "line_manager_by_mentee",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "work_matters",
                "personal_matters",
                "mentor_areas",
                "exceptions_notes",
                "third_party_limits",
                "line_manager_by_mentor",
                "line_manager_by_mentee",
            )
        }

    def __init__(self, *args, party, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["work_matters"].required = True
        self.fields["line_manager_by_mentor"].required = True
        for name in ("third_party_name", "third_party_limits"):
            needed(self.fields[name], _("Needed if the mentor may consult a third party."))
        # Only the mentee can give (or withdraw) consent to a third party.
        self.party = party
        self.fields["third_party_consent"].disabled = party != Party.MENTEE
        if party != Party.MENTEE:
            self.fields["third_party_consent"].help_text = _(
                "Only the mentee can give this consent."
            )
        policy = self.instance.agreement.policy
        if "exceptions_notes" in policy:
            # Disabled: Django keeps the initial value, whatever is posted.
            self.fields["exceptions_notes"].disabled = True
            self.fields["exceptions_notes"].help_text = POLICY_HELP
            self.initial["exceptions_notes"] = policy["exceptions_notes"]
        self.helper = inline_helper()
        self.helper.layout = Layout(
            Fieldset(
                _("What stays between you"), "work_matters", "personal_matters", "mentor_areas"
            ),
            Fieldset(
                _("Where confidentiality yields"),
                "yields_to_risk_of_harm",
                "yields_to_legal_duty",
                "yields_to_organisation_duty",
                "exceptions_notes",
            ),
            Fieldset(
                _("Consulting someone else"),
                "third_party_allowed",
                Row(Column("third_party_name"), Column("third_party_limits")),
                "third_party_consent",
            ),
            Fieldset(
                _("The mentee's line manager"), "line_manager_by_mentor", "line_manager_by_mentee"
            ),
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("third_party_allowed"):
            cleaned.update(third_party_name="", third_party_limits="", third_party_consent=False)
            return cleaned
        for name in ("third_party_name", "third_party_limits"):
            if name in cleaned and not cleaned[name]:
                self.add_error(
                    name,
                    forms.ValidationError(
                        _("Required when the mentor may consult a third party."), code="required"
                    ),
                )
        # Consent is to a named person within stated limits: changing either
        # withdraws it until the mentee gives it again.
        if self.party != Party.MENTEE and (
            {"third_party_allowed", "third_party_name", "third_party_limits"}
            & set(self.changed_data)
        ):
            cleaned["third_party_consent"] = False
        return cleaned


class TermForm(forms.ModelForm):
    class Meta:
        model = Term
        fields = [
            "start_date",
            "exit_date",
            "notice_days",
            "closing_conversation",
            "pause_max_days",
        ]
        field_classes = {"start_date": DateField, "exit_date": DateField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agreement = self.instance.agreement
        policy = agreement.policy
        self.fields["start_date"].required = True
        self.fields["exit_date"].required = True
        self.fields["notice_days"].widget.attrs.update(max=365)
        if policy.get("notice_days") is not None:
            self.fields["notice_days"].disabled = True
            self.fields["notice_days"].help_text = POLICY_HELP
            self.initial["notice_days"] = policy["notice_days"]
        self.fields["pause_max_days"].widget.attrs.update(min=1, max=365)
        if policy.get("pause_max_days") is not None:
            self.fields["pause_max_days"].disabled = True
            self.fields["pause_max_days"].help_text = POLICY_HELP
            self.initial["pause_max_days"] = policy["pause_max_days"]
        self.term_months = policy.get("term_months")
        exit_date = self.fields["exit_date"]
        if self.term_months:
            exit_date.disabled, exit_date.required = True, False
            exit_date.help_text = ngettext(
                "Program policy: the term is %(months)s month, so the exit date is the start "
                "date plus %(months)s month. It is set when you save.",
                "Program policy: the term is %(months)s months, so the exit date is the start "
                "date plus %(months)s months. It is set when you save.",
                self.term_months,
            ) % {"months": self.term_months}
        elif agreement.program.term_months:
            months = agreement.program.term_months
            start = self.instance.start_date
            suggested = add_months(start, months) if start else None
            if suggested:
                suggestion = ngettext(
                    # Translators: %(date)s is the exit date the program's term gives.
                    "The program suggests a term of %(months)s month: from this start date, "
                    "%(date)s.",
                    "The program suggests a term of %(months)s months: from this start date, "
                    "%(date)s.",
                    months,
                ) % {"months": months, "date": date_format(suggested, "SHORT_DATE_FORMAT")}
            else:
                suggestion = ngettext(
                    "The program suggests a term of %(months)s month.",
                    "The program suggests a term of %(months)s months.",
                    months,
                ) % {"months": months}
            exit_date.help_text = join_help(exit_date.help_text, suggestion)
        self.helper = inline_helper()
        self.helper.layout = Layout(
            Row(Column("start_date"), Column("exit_date")),
            Row(Column("notice_days"), Column("closing_conversation", css_class="pt-md-4")),
            Row(Column("pause_max_days")),
        )

    def clean(self):
        cleaned = super().clean()
        if self.term_months and cleaned.get("start_date"):
            cleaned["exit_date"] = add_months(cleaned["start_date"], self.term_months)
            if cleaned["exit_date"] is None:
                self.add_error("start_date", _("This start date is too far in the future."))
        start, exit_ = cleaned.get("start_date"), cleaned.get("exit_date")
        if start and exit_:
            if exit_ <= start:
                self.add_error(
                    "exit_date",
                    forms.ValidationError(
                        _("The exit date must be after the start date."), code="exit_before_start"
                    ),
                )
                return cleaned
            checkins, goals = self.instance.agreement.dates_outside(start, exit_)
            checkins_outside = _(
                # Translators: %(dates)s lists dates.
                "These check-ins would fall outside the new term: %(dates)s. Change them first."
            )
            goals_outside = _(
                # Translators: %(dates)s lists dates.
                "These goals' target dates would fall outside the new term: %(dates)s. "
                "Change them first."
            )
            for message, outside in ((checkins_outside, checkins), (goals_outside, goals)):
                if outside:
                    self.add_error(
                        None,
                        forms.ValidationError(
                            message,
                            code="outside_new_term",
                            params={
                                "dates": ", ".join(
                                    date_format(d, "SHORT_DATE_FORMAT") for d in outside
                                )
                            },
                        ),
                    )
        return cleaned
