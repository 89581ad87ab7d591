"""Widgets, fields and choices that forms of several concepts share."""

import datetime
import re
import zoneinfo

from crispy_forms.helper import FormHelper
from django import forms
from django.utils.dates import MONTHS, MONTHS_3
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _

# The date every date field's hint shows, in the app's own format ("8 Apr 2027").
EXAMPLE_DATE = datetime.date(2027, 4, 8)

# Typed dates with the month as a number: ISO, and day first as written in
# Britain, where the order cannot be misread (see DateField.to_python). Years
# have four digits: "1/1/69" would be 1969.
ISO_DATE_FORMAT = "%Y-%m-%d"
NUMERIC_DATE_FORMATS = [ISO_DATE_FORMAT, "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y"]
# An agreement's dates are near today; a year outside these is a typing slip.
YEARS = range(1900, 2101)

_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_DAY_MONTH_YEAR = re.compile(rf"{_DAY}[\s./-]*([^\W\d_]+)\.?[,،]?[\s./-]*(\d{{4}})")
_MONTH_DAY_YEAR = re.compile(rf"([^\W\d_]+)\.?\s*{_DAY}[,،]?\s+(\d{{4}})")
# "8 de abril de 2027" (Spanish, Portuguese): the words between day, month and year.
_CONNECTORS = re.compile(r"(?<=\S) (?:de|del) (?=\S)", re.IGNORECASE)


def _join_help(*texts):
    return " ".join(str(text) for text in texts if text)


def _date_hint():
    # Translators: %(date)s is an example date in the app's format, such as "8 Apr 2027".
    return _("For example: %(date)s.") % {"date": date_format(EXAMPLE_DATE, "SHORT_DATE_FORMAT")}


def _date_invalid():
    # Translators: %(date)s is an example date in the app's format, such as "8 Apr 2027".
    return _("Enter the date as day, month and year, for example %(date)s.") % {
        "date": date_format(EXAMPLE_DATE, "SHORT_DATE_FORMAT")
    }


# Lazy: model forms build their fields at import, before a language is active.
join_help = lazy(_join_help, str)
DATE_HINT = lazy(_date_hint, str)()
DATE_INVALID = lazy(_date_invalid, str)()


def time_zone_choices():
    return [("", _("Choose a time zone"))] + [
        (zone, zone) for zone in sorted(zoneinfo.available_timezones())
    ]


class LanguageSelect(forms.Select):
    """Each language is named in itself ("Deutsch") and says so, for screen
    readers to pronounce it in that language."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value:
            option["attrs"]["lang"] = value
        return option


def inline_helper():
    """A crispy helper for fields inside a form the template writes itself."""
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    return helper


def name_blank_choices(form, blanks):
    """Replace Django's "---------" with words that say what to choose:
    ``blanks`` maps a field name to, for example, "Choose how often"."""
    for name, text in blanks.items():
        field = form.fields[name]
        field.choices = [("", text), *(choice for choice in field.choices if choice[0] != "")]


def needed(field, help_text=""):
    """A field the form does not refuse when empty but the agreement needs, in
    some cases only (``help_text`` says which): it is not marked "(optional)"."""
    field.needed = True
    field.help_text = join_help(field.help_text, help_text)


def _month(word):
    """The month a name or an abbreviation of at least three letters stands for
    ("Apr", "april", "Sept"), in the language the app shows dates in."""
    word = word.lower()
    for number, name in MONTHS.items():
        if word == str(MONTHS_3[number]).lower() or (
            len(word) >= 3 and str(name).lower().startswith(word)
        ):
            return number
    return None


def parse_date(text):
    """A date written with the month as a word ("8 Apr 2027", "8th April 2027",
    "April 8, 2027", "8. April 2027", "8 de abril de 2027"), or None."""
    text = _CONNECTORS.sub(" ", " ".join(text.split()))
    for pattern, order in ((_DAY_MONTH_YEAR, (0, 1, 2)), (_MONTH_DAY_YEAR, (1, 0, 2))):
        match = pattern.fullmatch(text)
        if not match:
            continue
        day, month, year = (match.group(index + 1) for index in order)
        month = _month(month)
        if month is None:
            return None
        try:
            return datetime.date(int(year), month, int(day))
        except ValueError:
            return None
    return None


class DateInput(forms.DateInput):
    """A text box that shows a date the way the app shows dates everywhere else
    ("8 Apr 2027"), instead of a browser date picker in the browser's own order."""

    input_type = "text"

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", "spellcheck": "false", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, datetime.date):
            return date_format(value, "SHORT_DATE_FORMAT")
        # Typed text comes back as typed, so a mistake can be corrected.
        return super().format_value(value)


class DateField(forms.DateField):
    """A date typed as the app shows it ("8 Apr 2027"), with the month as a word
    or a number (day first); its help text gives an example."""

    widget = DateInput
    input_formats = NUMERIC_DATE_FORMATS

    def __init__(self, *, help_text="", **kwargs):
        super().__init__(help_text=join_help(DATE_HINT, help_text), **kwargs)
        self.error_messages["invalid"] = DATE_INVALID

    def to_python(self, value):
        typed = value.strip() if isinstance(value, str) else ""
        parsed = parse_date(typed) if typed else None
        if parsed is None:
            parsed = super().to_python(value)
            if parsed is None:
                return None
            if typed and not _is_iso(typed) and parsed.day <= 12 and parsed.day != parsed.month:
                # 04/08/2027 is 4 August in Britain and 8 April in the United States.
                raise forms.ValidationError(
                    _(
                        # Translators: %(typed)s is the date as typed, %(example)s an example date.
                        "“%(typed)s” could be read two ways: write the month as a word, "
                        "for example %(example)s."
                    ),
                    code="ambiguous_date",
                    params={
                        "typed": typed,
                        "example": date_format(EXAMPLE_DATE, "SHORT_DATE_FORMAT"),
                    },
                )
        if parsed.year not in YEARS:
            raise forms.ValidationError(
                _("The year %(year)s cannot be right: check the date."),
                code="implausible_year",
                params={"year": parsed.year},
            )
        return parsed


def _is_iso(typed):
    """Written year first, as ISO 8601 writes it: it reads one way only."""
    return re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", typed) is not None
