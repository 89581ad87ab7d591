"""Limits of what the pair writes (short lines and bounded texts), and the
app's own words as they are kept."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _

from agreements import content

TEXT_LIMIT = 2000
LINE_LIMIT = 200
# Lines in one text: with TEXT_LIMIT this bounds the longest PDF the forms
# allow (docs/how-it-works.md: "Draft PDFs"); 2,000 one-character lines made 750 pages.
TEXT_LINES_LIMIT = 50


def validate_text_lines(value):
    # Every line break a PDF renderer honours counts: U+2028 and the like too.
    lines = len(content.normalise_text(value).splitlines()) or 1
    if lines > TEXT_LINES_LIMIT:
        raise ValidationError(
            _(
                "Keep this to at most %(limit)s lines (it has %(lines)s): join short lines, "
                "or separate items with commas."
            ),
            code="too_many_lines",
            params={"limit": TEXT_LINES_LIMIT, "lines": lines},
        )


def long_text(verbose_name=None, **kwargs):
    """A text the pair writes: at most TEXT_LIMIT characters in at most
    TEXT_LINES_LIMIT lines."""
    return models.TextField(
        verbose_name, max_length=TEXT_LIMIT, validators=[validate_text_lines], **kwargs
    )


def untranslated(text):
    """A marked string in its source (English) words, whatever the reader's
    language: for what is hashed or kept as a record (canonical content, the
    audit trail, void reasons), which must not depend on who was looking."""
    with translation.override(None):
        return str(text)
