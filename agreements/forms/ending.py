"""Ending an agreement: the closing note each person writes."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import ClosingNote

from .widgets import name_blank_choices


class ClosingNoteForm(forms.ModelForm):
    class Meta:
        model = ClosingNote
        fields = ["achieved", "stay_in_touch", "how_to_reach"]
        widgets = {
            "achieved": forms.Textarea(attrs={"rows": 4}),
            "how_to_reach": forms.Textarea(attrs={"rows": 2}),
        }
        # Each label says "(optional)"; the help texts need not.
        help_texts = {
            "achieved": gettext_lazy("It goes into the final PDF for both of you."),
            "how_to_reach": gettext_lazy(
                "For example: a personal email, a profile, a yearly coffee."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_blank_choices(self, {"stay_in_touch": _("Choose an answer")})

    def values(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
