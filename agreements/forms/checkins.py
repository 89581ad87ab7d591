"""Recording a check-in of an agreement in force, and answering one the other party recorded."""

from django import forms
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from agreements.models import GoalProgress, StillWorking

from .widgets import DateField, needed


class StillWorkingFields(forms.Form):
    working = forms.ChoiceField(
        label=gettext_lazy("Is this agreement still working for you?"),
        choices=StillWorking.choices,
        widget=forms.RadioSelect,
    )
    working_note = forms.CharField(
        label=gettext_lazy("Your note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Required if it needs changes: what would help? Only the two of you see it."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        needed(self.fields["working_note"])

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("working") == StillWorking.NEEDS_CHANGES and not cleaned.get("working_note"):
            self.add_error(
                "working_note",
                forms.ValidationError(_("Say what needs to change."), code="note_required"),
            )
        return cleaned


class CheckInRecordForm(StillWorkingFields):
    """When the check-in was held, each goal's progress, and the recorder's own answer."""

    held_on = DateField(label=gettext_lazy("Held on"))

    field_order = ["held_on"]

    def __init__(self, *args, goals, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.goals, self.today = goals, today
        self.fields["held_on"].initial = today
        for goal in goals:
            self.fields[f"goal_{goal.pk}_status"] = forms.ChoiceField(
                label=_("Progress"),
                choices=[("", _("Choose the progress")), *GoalProgress.Status.choices],
            )
            # Several goals each have a "Progress": the error summary names the goal.
            described = {"goal": Truncator(goal.description).chars(60)}
            # Translators: %(goal)s is the start of a goal's description.
            summary = _("Progress on “%(goal)s”") % described
            self.fields[f"goal_{goal.pk}_status"].summary_label = summary
            self.fields[f"goal_{goal.pk}_note"] = forms.CharField(
                label=pgettext("a written note", "Note"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.order_fields(["held_on", *self.goal_field_names(), "working", "working_note"])

    def goal_field_names(self):
        return [f"goal_{goal.pk}_{part}" for goal in self.goals for part in ("status", "note")]

    def goal_rows(self):
        """(goal, status field, note field) for the template."""
        return [
            (goal, self[f"goal_{goal.pk}_status"], self[f"goal_{goal.pk}_note"])
            for goal in self.goals
        ]

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > self.today:
            raise forms.ValidationError(
                _("The date it was held cannot be in the future."), code="future"
            )
        return held_on

    def progress(self):
        return [
            (
                goal,
                self.cleaned_data[f"goal_{goal.pk}_status"],
                self.cleaned_data[f"goal_{goal.pk}_note"],
            )
            for goal in self.goals
        ]


class CheckInAnswerForm(StillWorkingFields):
    pass
