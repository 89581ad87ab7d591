"""What changed between two snapshots of a section, in words: the reader's
for a page (``describe_changes``), the source words for the audit trail
(``record_changes``), and a trail entry's recorded words in the reader's
language again (``recorded_changes_in_reader_words``)."""

import functools

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from agreements import content

from .clauses import language_name
from .confidentiality import Confidentiality, OffLimitsTopic
from .sections import CheckIn, ContactPreference, Goal, MeetingSchedule, Term

# Keys of the canonical data that are not model fields (see the as_data
# methods), and fields whose verbose name Django derives from their name (a
# verbose name of their own would need a migration): words to translate.
EXTRA_LABELS = {
    "frequency": gettext_lazy("frequency"),
    "time_zone": gettext_lazy("time zone"),
    "format": gettext_lazy("format"),
    "target_date": gettext_lazy("target date"),
    "date": gettext_lazy("date"),
    "start_date": gettext_lazy("start date"),
    "exit_date": gettext_lazy("exit date"),
    "topic": gettext_lazy("topic"),
    "rule": gettext_lazy("rule"),
    "mentor": gettext_lazy("Mentor"),
    "mentee": gettext_lazy("Mentee"),
    "channels": gettext_lazy("channels"),
    "chosen": pgettext_lazy("a contact channel", "chosen"),
    "details": pgettext_lazy("a contact channel", "details"),
    "yields_to": gettext_lazy("confidentiality yields to"),
    "risk_of_harm": gettext_lazy("risk of harm"),
    "legal_duty": gettext_lazy("legal duty"),
    "organisation_duty": gettext_lazy("duties to the organisation"),
    "third_party": gettext_lazy("third party"),
    "allowed": pgettext_lazy("a third party", "allowed"),
    "name": pgettext_lazy("a third party", "name"),
    "limits": pgettext_lazy("a third party", "limits"),
    "mentee_consent": gettext_lazy("mentee's consent"),
    "line_manager": gettext_lazy("line manager"),
    "by_mentor": gettext_lazy("what the mentor may tell"),
    "by_mentee": gettext_lazy("what the mentee may tell"),
    "language": gettext_lazy("language of the agreement"),
    "second_language": gettext_lazy("also shown in"),
}


@functools.cache
def vocabulary(language):
    """Human words for the canonical data in ``language`` (None: the source
    words): (labels by key, choice labels by key)."""
    with translation.override(language):
        labels = {key: str(label) for key, label in EXTRA_LABELS.items()}
        choices = {}
        for model in (
            ContactPreference, MeetingSchedule, Goal, CheckIn, Confidentiality, OffLimitsTopic, Term
        ):  # fmt: skip
            for field in model._meta.concrete_fields:
                labels.setdefault(field.name, str(field.verbose_name))
                if field.choices:
                    choices[field.name] = {value: str(label) for value, label in field.flatchoices}
        # The language section's values, named in the reader's language.
        names = {code: language_name(code) for code, _name in settings.LANGUAGES}
        choices["language"] = choices["second_language"] = names
    return labels, choices


def describe_changes(before, after):
    """What changed between two snapshots of a section, in the words of its
    form, in the reader's language."""
    return content.diff(before, after, *vocabulary(translation.get_language()))


def record_changes(before, after):
    """``describe_changes`` in the source words, for the audit trail: it is
    hashed, so the language of whoever made the change must not show in it."""
    with translation.override(None):
        return content.diff(before, after, *vocabulary(None))


def recorded_changes_in_reader_words(changes):
    """Changes as the audit trail keeps them (``record_changes``: in the
    source words) in the reader's language: the names of fields and the labels
    of choices are translated; what people typed shows as they typed it."""
    source_labels, source_choices = vocabulary(None)
    labels, choices = vocabulary(translation.get_language())
    words = {source_labels[key]: labels[key] for key in source_labels}
    values = {
        source_choices[field][value]: choices[field][value]
        for field in source_choices
        for value in source_choices[field]
    }
    for answer in ("yes", "no"):
        with translation.override(None):
            source = pgettext("a changed yes/no value", answer)
        values[source] = pgettext("a changed yes/no value", answer)

    def field(label):
        # content._label capitalised the first word.
        parts = [
            words.get(part, words.get(part[:1].lower() + part[1:], part))
            for part in label.split(" › ")
        ]
        shown = " › ".join(parts)
        return shown[:1].upper() + shown[1:]

    return [
        {
            **change,
            "field": field(change["field"]),
            "before": values.get(change["before"], change["before"]),
            "after": values.get(change["after"], change["after"]),
        }
        for change in changes
    ]
