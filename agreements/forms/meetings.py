"""Logging a meeting the pair held (or correcting one), and pausing the meetings."""

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from agreements.models import MeetingSchedule
from agreements.models.text import TEXT_LIMIT, validate_text_lines

# A meeting's length unless the signed schedule says otherwise.
DEFAULT_MINUTES = 60


class PickedDateInput(forms.DateInput):
    """The browser's own date picker: a date in a few taps on a phone. It
    sends the date as ISO 8601 whatever the reader's language."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


def picked_date(label, **kwargs):
    return forms.DateField(
        label=label, widget=PickedDateInput, input_formats=["%Y-%m-%d"], **kwargs
    )


def pair_note(label):
    """A note only the pair reads: a long text of the pair's (models/text.py)."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=TEXT_LIMIT,
        validators=[validate_text_lines],
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Only the two of you see it."),
    )


class MeetingForm(forms.Form):
    """When a meeting was held, how long and how, and the author's own note.
    The agreement refuses a day outside the term or one already logged."""

    held_on = picked_date(gettext_lazy("Date"))
    duration_minutes = forms.IntegerField(
        label=gettext_lazy("How long (minutes)"), min_value=5, max_value=600
    )
    format = forms.ChoiceField(
        label=gettext_lazy("How"),
        required=False,
        choices=[("", gettext_lazy("Not said")), *MeetingSchedule.Format.choices],
    )
    note = pair_note(gettext_lazy("Your note"))

    def __init__(self, *args, schedule, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["held_on"].initial = today
        self.fields["held_on"].widget.attrs["max"] = today.isoformat()
        self.fields["duration_minutes"].initial = schedule.duration_minutes or DEFAULT_MINUTES
        self.fields["duration_minutes"].widget.attrs.update({"step": 5, "inputmode": "numeric"})
        self.fields["format"].initial = schedule.format

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > self.today:
            raise forms.ValidationError(
                _("A meeting is logged once it was held: not a future date."), code="future"
            )
        return held_on


class PauseForm(forms.Form):
    """From when, until when (or until resumed), and a note. The agreement
    refuses a pause that outlasts the term or overlaps another."""

    # On the page of the meeting log's form: its fields have their own names.
    prefix = "pause"

    starts_on = picked_date(pgettext_lazy("a pause of the meetings", "From"))
    until = picked_date(pgettext_lazy("a pause of the meetings", "Until"), required=False)
    note = pair_note(gettext_lazy("A note"))

    def __init__(self, *args, today, last_day, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["starts_on"].initial = today
        for name in ("starts_on", "until"):
            self.fields[name].widget.attrs["min"] = today.isoformat()
            if last_day:
                self.fields[name].widget.attrs["max"] = last_day.isoformat()
        self.fields["until"].help_text = (
            # Translators: %(date)s is the agreement's last day.
            _("Leave it empty to pause until one of you resumes them. At the latest: %(date)s.")
            % {"date": date_format(last_day)}
            if last_day
            else _("Leave it empty to pause until one of you resumes them.")
        )

    def clean_starts_on(self):
        starts_on = self.cleaned_data["starts_on"]
        if starts_on < self.today:
            raise forms.ValidationError(
                _("A pause starts today or later, not in the past."), code="past"
            )
        return starts_on

    def clean(self):
        cleaned = super().clean()
        starts_on, until = cleaned.get("starts_on"), cleaned.get("until")
        if starts_on and until and until < starts_on:
            self.add_error(
                "until",
                forms.ValidationError(
                    _("The pause cannot end before it starts."), code="until_before_start"
                ),
            )
        return cleaned
