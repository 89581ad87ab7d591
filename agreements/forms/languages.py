"""The form of the agreement's language section."""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Agreement

from .widgets import LanguageSelect, inline_helper, name_blank_choices


class LanguageForm(forms.ModelForm):
    """The language the agreement is written and signed in, and a second one
    to show beside it."""

    class Meta:
        model = Agreement
        fields = ["language", "second_language"]
        labels = {
            "language": gettext_lazy("Language of the agreement"),
            "second_language": gettext_lazy("Also show it in"),
        }
        help_texts = {
            "language": gettext_lazy(
                "The headings, the fixed clauses, the statement you sign and the PDF are in "
                "this language. What each of you writes stays as you wrote it."
            ),
            "second_language": gettext_lazy(
                "If you choose one, the PDF shows both languages side by side and says that "
                "the language of the agreement is the one that binds."
            ),
        }
        widgets = {"language": LanguageSelect, "second_language": LanguageSelect}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_blank_choices(self, {"second_language": _("No second language")})
        self.helper = inline_helper()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("second_language") and cleaned["second_language"] == cleaned.get("language"):
            self.add_error(
                "second_language",
                forms.ValidationError(
                    _("Choose a different language from the agreement's, or none."),
                    code="same_language",
                ),
            )
        return cleaned

    def save(self, commit=True):
        # Only these two fields: the rest of this copy of the agreement may be
        # older than the row the move locked.
        self.instance.save(update_fields=["language", "second_language"])
        return self.instance
