"""The sections kept as rows (goals, check-ins, off-limits topics) and their formsets; and the
form that adds an off-limits topic to an agreement in force."""

from django import forms
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements.models import Agreement, CheckIn, Goal, OffLimitsTopic, runs_on
from agreements.models.drafting import checkin_gaps
from agreements.services import MAX_CHECKINS

from .widgets import DateField, name_blank_choices


class TermBoundForm(forms.ModelForm):
    """A form whose dates must fall in the agreement's term."""

    date_field = "date"
    # A goal may be due on the exit date; a check-in falls while the agreement
    # runs (``runs_on``): before the morning of its exit date.
    exit_date_allowed = True

    def __init__(self, *args, term=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.term = term

    def clean(self):
        cleaned = super().clean()
        value = cleaned.get(self.date_field)
        term = self.term
        if value and term and term.start_date and term.exit_date:
            last = term.exit_date
            if not (
                term.start_date <= value
                and (runs_on(value, last) or self.exit_date_allowed and value == last)
            ):
                self.add_error(
                    self.date_field,
                    forms.ValidationError(
                        _(
                            # Translators: %(start)s and %(exit)s are dates.
                            "Choose a date between the start date (%(start)s) and the exit date "
                            "(%(exit)s)."
                        )
                        if self.exit_date_allowed
                        else _(
                            # Translators: %(start)s and %(exit)s are dates.
                            "Choose a date from the start date (%(start)s) to the day before "
                            "the exit date (%(exit)s): the agreement ends on the exit date."
                        ),
                        code="outside_term",
                        params={
                            "start": date_format(term.start_date, "SHORT_DATE_FORMAT"),
                            "exit": date_format(term.exit_date, "SHORT_DATE_FORMAT"),
                        },
                    ),
                )
        return cleaned


class GoalForm(TermBoundForm):
    date_field = "target_date"

    class Meta:
        model = Goal
        fields = ["owner", "description", "success_measure", "target_date"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "success_measure": forms.Textarea(attrs={"rows": 2}),
        }
        field_classes = {"target_date": DateField}
        labels = {"target_date": gettext_lazy("Target date")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_blank_choices(self, {"owner": _("Choose whose goal")})


class CheckInForm(TermBoundForm):
    exit_date_allowed = False

    class Meta:
        model = CheckIn
        fields = ["date", "focus"]
        field_classes = {"date": DateField}
        labels = {"date": gettext_lazy("Date")}
        # The label says "(optional)"; the model's help text said so in words.
        help_texts = {"focus": ""}


class OffLimitsTopicForm(forms.ModelForm):
    class Meta:
        model = OffLimitsTopic
        fields = ["topic", "rule"]
        labels = {"topic": gettext_lazy("Topic"), "rule": gettext_lazy("Rule")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_blank_choices(self, {"rule": _("Choose a rule")})


class OffLimitsAdditionForm(OffLimitsTopicForm):
    class Meta(OffLimitsTopicForm.Meta):
        help_texts = {"topic": gettext_lazy("For example: my family, a named colleague, salary.")}


# The label of each formset's box that removes a row.
REMOVE_LABELS = {
    Goal: gettext_lazy("Remove this goal"),
    CheckIn: gettext_lazy("Remove this check-in"),
    OffLimitsTopic: gettext_lazy("Remove this topic"),
}


class SectionFormSet(forms.BaseInlineFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = REMOVE_LABELS[self.model]
        # A row id that no longer exists: the other party deleted that row.
        form.fields[self.model._meta.pk.name].error_messages["invalid_choice"] = _(
            "This row was removed by the other party in the meantime. Open the section "
            "again to see its current rows."
        )

    @property
    def suggested_forms(self):
        """The rows filled in from ``initial`` (the program's suggested check-ins), not saved."""
        if self.is_bound or not self.initial_extra:
            return []
        start = self.initial_form_count()
        return self.forms[start : start + len(self.initial_extra)]

    def save_existing_objects(self, commit=True):
        # Removed rows go first, so another row may take over a removed row's date.
        for form in self.deleted_forms:
            if form.instance.pk is not None:
                self.delete_existing(form.instance, commit=commit)
        return super().save_existing_objects(commit)


class TermAwareFormSet(SectionFormSet):
    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "term": self.instance.term}


class CheckInFormSet(TermAwareFormSet):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Suggested rows (``initial``) only on a blank form: posted back
        # unchanged, a row equal to its initial value would count as empty.
        # Then one empty row, as always.
        if self.initial_extra and not self.is_bound:
            self.extra = len(self.initial_extra) + 1

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        dates = [
            form.cleaned_data["date"]
            for form in self.forms
            if form.cleaned_data.get("date") and not self._should_delete_form(form)
        ]
        if dates and not (self.instance.term.start_date and self.instance.term.exit_date):
            raise forms.ValidationError(
                _(
                    "Set the start and exit dates under “Term and exit” first: every check-in "
                    "falls between them."
                ),
                code="no_term",
            )
        if len(dates) != len(set(dates)):
            raise forms.ValidationError(_("Two check-ins are on the same day."), code="duplicate")
        weeks = self.instance.policy.get("checkin_every_weeks")
        term = self.instance.term
        if weeks and term.start_date and term.exit_date:
            gaps = checkin_gaps(term.start_date, term.exit_date, dates, weeks)
            if gaps:
                raise forms.ValidationError(
                    ngettext(
                        # Translators: %(gaps)s lists the stretches of the term without a check-in.
                        "The program's policy is a check-in at least every %(weeks)s week, but "
                        "there are %(gaps)s without one. Add check-ins in between.",
                        "The program's policy is a check-in at least every %(weeks)s weeks, but "
                        "there are %(gaps)s without one. Add check-ins in between.",
                        weeks,
                    ),
                    code="checkin_gap",
                    params={"weeks": weeks, "gaps": "; ".join(gaps)},
                )


def _formset(model, form, formset=SectionFormSet, max_num=30):
    # One empty row more than there are: without JavaScript (which adds rows in
    # place, static/js/formset.js) the form still takes one new row per save.
    return forms.inlineformset_factory(
        Agreement,
        model,
        form=form,
        formset=formset,
        extra=1,
        can_delete=True,
        max_num=max_num,
        validate_max=True,
    )


GoalFormSet = _formset(Goal, GoalForm, TermAwareFormSet)
CheckInFormSet = _formset(CheckIn, CheckInForm, CheckInFormSet, max_num=MAX_CHECKINS)
OffLimitsTopicFormSet = _formset(OffLimitsTopic, OffLimitsTopicForm)
