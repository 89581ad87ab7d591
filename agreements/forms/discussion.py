"""A comment on a section's discussion."""

from django import forms
from django.utils.translation import gettext_lazy

from agreements.models import Proposal, SectionComment


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


class ProposalReasonForm(forms.ModelForm):
    """Why a party proposes a change, sent with it (the section's own form
    holds the change)."""

    prefix = "proposal"

    class Meta:
        model = Proposal
        fields = ["reason"]
        labels = {"reason": gettext_lazy("Why")}
        help_texts = {
            "reason": gettext_lazy("Only the two of you can read it, like the proposal itself.")
        }
        widgets = {"reason": forms.Textarea(attrs={"rows": 2})}


class DeclineForm(forms.ModelForm):
    class Meta:
        model = Proposal
        fields = ["response"]
        labels = {"response": gettext_lazy("Why you decline")}
        widgets = {"response": forms.Textarea(attrs={"rows": 2})}
