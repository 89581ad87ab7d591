"""A comment on a section's discussion."""

from django import forms
from django.utils.translation import gettext_lazy

from agreements.models import SectionComment


class CommentForm(forms.ModelForm):
    class Meta:
        model = SectionComment
        fields = ["text"]
        labels = {"text": gettext_lazy("Your comment")}
        help_texts = {
            "text": gettext_lazy(
                "Saying what you would change does not change the section: edit it, or ask "
                "the other to."
            )
        }
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
