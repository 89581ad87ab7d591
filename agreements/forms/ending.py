"""Ending an agreement: the closing note each person writes."""

from django import forms

from agreements.models import ClosingNote


class ClosingNoteForm(forms.ModelForm):
    class Meta:
        model = ClosingNote
        fields = ["achieved", "stay_in_touch", "how_to_reach"]
        widgets = {
            "achieved": forms.Textarea(attrs={"rows": 4}),
            "how_to_reach": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {"achieved": "Optional. It goes into the final PDF for both of you."}

    def values(self):
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
