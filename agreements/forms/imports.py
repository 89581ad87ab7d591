"""The forms that upload a CSV file of pairings and confirm it.

The checks themselves are in ``agreements.pairing_import``.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements.pairing_import import (
    MAX_BYTES,
    MAX_ROWS,
    check_rows,
    decode,
    read_records,
    too_big,
)


def _file_help():
    return _(
        # Translators: %(max)s is the most pairings a file may hold, such as "2,000".
        "UTF-8, at most 1 MB and %(max)s pairings. Nothing is created yet: "
        "you will see every line first."
    ) % {"max": number_format(MAX_ROWS, force_grouping=True)}


class PairingCheckForm(forms.Form):
    """What the upload and the confirmation share: the checks of the whole text."""

    text_field = None

    def __init__(self, *args, program, **kwargs):
        super().__init__(*args, **kwargs)
        self.program = program
        self.rows = []
        self.text = ""

    def check_text(self, text):
        columns, records = read_records(text)
        self.rows = check_rows(self.program, columns, records)
        self.text = text
        return text

    @property
    def file_errors(self):
        return self.errors.get(self.text_field, []) if self.is_bound else []

    @property
    def problem_rows(self):
        return [row for row in self.rows if row.problems]

    def clean(self):
        cleaned = super().clean()
        if self.problem_rows:
            raise ValidationError(
                ngettext(
                    # Translators: the plural form follows %(total)s, the number of lines.
                    "Problems on %(count)s of the %(total)s lines. Nothing was created: correct "
                    "the file and check it again.",
                    "Problems on %(count)s of the %(total)s lines. Nothing was created: correct "
                    "the file and check it again.",
                    len(self.rows),
                ),
                code="row_problems",
                params={"count": len(self.problem_rows), "total": len(self.rows)},
            )
        return cleaned


class PairingUploadForm(PairingCheckForm):
    text_field = "file"

    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        # An empty file gets the same message as one holding only blank lines.
        allow_empty_file=True,
        # Lazy: the field is built at import, before a language is active.
        help_text=lazy(_file_help, str)(),
        widget=forms.FileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise too_big()
        return self.check_text(decode(upload.read(MAX_BYTES + 1)))


class PairingConfirmForm(PairingCheckForm):
    """The checked text, sent back to be checked again and then imported."""

    text_field = "csv_text"

    csv_text = forms.CharField(widget=forms.HiddenInput, strip=False)

    def clean_csv_text(self):
        return self.check_text(self.cleaned_data["csv_text"])
