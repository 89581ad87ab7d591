"""A party's answers to a pulse survey: three numbers on a scale, and a
comment only they will read."""

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import SurveyResponse
from agreements.models.text import TEXT_LIMIT, validate_text_lines


def _choose(low, high):
    # Translators: the lowest and the highest number of a survey question's scale.
    return _("Choose a number from %(low)s to %(high)s.") % {"low": low, "high": high}


# Lazy: the fields are built at import, before a language is active.
choose = lazy(_choose, str)


class ScaleField(forms.TypedChoiceField):
    """A number from ``low`` to ``high``, picked from a row of radio buttons;
    ``ends`` say what the lowest and the highest mean. The question is the
    model field's, so the page and the Django admin ask it in the same words;
    ``summary`` names it in the page's list of problems."""

    def __init__(self, name, *, low, high, ends, summary):
        super().__init__(
            widget=forms.RadioSelect(attrs={"class": "form-check-input m-0"}),
            label=SurveyResponse._meta.get_field(name).verbose_name,
            choices=[(number, str(number)) for number in range(low, high + 1)],
            coerce=int,
            empty_value=None,
            error_messages={"required": choose(low, high), "invalid_choice": choose(low, high)},
        )
        self.ends, self.summary_label = ends, summary


class SurveyForm(forms.Form):
    satisfaction = ScaleField(
        "satisfaction",
        low=1,
        high=5,
        ends=(gettext_lazy("1 = not at all"), gettext_lazy("5 = very much")),
        summary=gettext_lazy("Satisfaction"),
    )
    growth = ScaleField(
        "growth",
        low=1,
        high=5,
        ends=(gettext_lazy("1 = not at all"), gettext_lazy("5 = very much")),
        summary=gettext_lazy("Growth"),
    )
    recommend = ScaleField(
        "recommend",
        low=0,
        high=10,
        ends=(gettext_lazy("0 = not at all likely"), gettext_lazy("10 = extremely likely")),
        summary=gettext_lazy("Recommending the program"),
    )
    comment = forms.CharField(
        label=gettext_lazy("Anything else?"),
        required=False,
        max_length=TEXT_LIMIT,
        validators=[validate_text_lines],
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy(
            "Only you see this comment: not the other party, and never the program."
        ),
    )

    def scales(self):
        """The three questions on a scale, as bound fields, for the template."""
        return [self[name] for name in ("satisfaction", "growth", "recommend")]
