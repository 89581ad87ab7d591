import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar

from django import template
from django.forms.formsets import DELETION_FIELD_NAME
from django.utils import formats, translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import pgettext

from agreements import sign_on
from agreements.models.changes import recorded_changes_in_reader_words
from agreements.models.clauses import language_dir, language_name

register = template.Library()


@register.filter
def agreed_by(section, party):
    return section.agreed_by(party)


@register.filter
def answered_by(checkin_record, party):
    """The party has answered "is this agreement still working for you?"."""
    return bool(checkin_record.answer_of(party)[0])


@register.filter
def with_weekday(value, date_format="DATE_FORMAT"):
    """The weekday, then the date, in the language's own words and order:
    "Thursday 8 April 2027", "Donnerstag, 8. April 2027"."""
    if not value:
        return ""
    # Translators: a weekday ("Thursday") and a date ("8 April 2027"): your
    # language's order and punctuation, such as "%(weekday)s, %(date)s".
    return pgettext("a weekday and a date", "%(weekday)s %(date)s") % {
        "weekday": formats.date_format(value, "l"),
        "date": formats.date_format(value, date_format),
    }


@register.simple_tag
def page_numbering():
    """The PDF's page numbering in the reader's words, cut around its two
    numbers, which only the print stylesheet knows (CSS counters)."""
    # Translators: the page numbering of the PDF. Keep %(page)s before %(pages)s.
    words = translation.gettext("Page %(page)s of %(pages)s")
    before, rest = words.split("%(page)s", 1)
    between, after = rest.split("%(pages)s", 1)
    return {"before": before, "between": between, "after": after}


# Languages whose nouns keep their capital letter inside a sentence.
CAPITALISED_NOUNS = {"de"}


@register.filter
def mid_sentence(label):
    """A label ("Goals", "Mentor") as it reads inside a sentence: in lower
    case, but for languages that write nouns with a capital (German)."""
    return str(label) if in_capitalising_language() else str(label).lower()


def in_capitalising_language():
    return (translation.get_language() or "").split("-")[0] in CAPITALISED_NOUNS


@register.filter
def in_reader_words(changes):
    """An audit entry's recorded changes in the reader's language."""
    return recorded_changes_in_reader_words(changes)


LONG_RUN = re.compile(r"\S{30,}")
CHUNK = 20
ZERO_WIDTH_SPACE = "\u200b"

# Set only while the PDF's HTML is rendered (agreements.pdf): the section
# partials serve the web pages too, which then need to pass nothing.
_for_print = ContextVar("for_print", default=False)


@contextmanager
def printing():
    """Render templates for print inside this block: ``breakable`` breaks long words."""
    token = _for_print.set(True)
    try:
        yield
    finally:
        _for_print.reset(token)


@register.filter(needs_autoescape=True)
def breakable(value, for_print=None, autoescape=True):
    """For print, escape the text and allow a line break every 20 characters of
    a long word; on screen just escape it (CSS wraps, and a copied URL stays whole).
    Print is what ``printing()`` says, unless ``for_print`` is given.

    Pasted URLs or hashes otherwise overflow their column, and WeasyPrint's
    line breaking grows quadratically with the length of an unbreakable run
    (2,000 characters took seconds to lay out). A zero-width space, not
    ``<wbr>``: thousands of extra inline elements are slow to lay out too.
    """
    escape = conditional_escape if autoescape else str
    value = str(value)
    if for_print is None:
        for_print = _for_print.get()
    if not for_print:
        return escape(value)
    parts, position = [], 0
    for match in LONG_RUN.finditer(value):
        run = match.group()
        parts.append(escape(value[position : match.start()]))
        chunks = (run[i : i + CHUNK] for i in range(0, len(run), CHUNK))
        parts.append(ZERO_WIDTH_SPACE.join(escape(chunk) for chunk in chunks))
        position = match.end()
    parts.append(escape(value[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece is escaped above


@register.filter
def text_dir(value):
    """ "rtl" when the text starts (at its first strong character) in a
    right-to-left script, else "ltr": WeasyPrint has no dir="auto"."""
    for character in str(value):
        direction = unicodedata.bidirectional(character)
        if direction in {"R", "AL"}:
            return "rtl"
        if direction == "L":
            return "ltr"
    return "ltr"


@register.simple_tag
def clause(content, key):
    """One of the agreement's fixed clauses, as its content records it, in
    the language it records it in (which may not be the page's)."""
    language = content.clause_language
    return format_html(
        '<span lang="{}" dir="{}">{}</span>',
        language,
        language_dir(language),
        content.statements[key],
    )


@register.filter
def record_in_reader_words(text):
    """A sentence the app recorded in its source words (a void reason), in
    the reader's language where the catalogue has it, else as recorded."""
    return translation.gettext(text) if text else text


@register.filter
def name_of_language(code):
    """A language's name in the reader's language ("Spanish" for "es")."""
    return language_name(code)


@register.filter
def direction_of_language(code):
    """ "rtl" or "ltr": the direction ``code``'s language is written in."""
    return language_dir(code)


@register.filter
def get_item(mapping, key):
    return mapping.get(key, key)


@register.inclusion_tag("_error_summary.html")
def error_summary(*forms):
    """What is wrong with the forms (or formsets) of a page, each field's
    errors linked to the field, for the top of the page."""
    problems = []  # (the field's id or "", its label or "", the message)

    def collect(form):
        if hasattr(form, "forms"):  # a formset
            for error in form.non_form_errors():
                problems.append(("", "", error))
            for each in form.forms:
                # A row marked for removal is not saved, whatever it holds.
                if not getattr(each, "cleaned_data", {}).get(DELETION_FIELD_NAME):
                    collect(each)
            return
        for error in form.non_field_errors():
            problems.append(("", "", error))
        for name, errors in form.errors.items():
            if name == "__all__" or name not in form.fields:
                continue
            field = form[name]
            if field.is_hidden:
                # Nothing to go to: the message says what happened.
                problems.extend(("", "", error) for error in errors)
                continue
            # A group of radio buttons has no single id: link to the first.
            widget_id = field.id_for_label or f"{field.auto_id}_0"
            # A label that needs its context to make sense out of it says so.
            label = getattr(field.field, "summary_label", field.label)
            problems.extend((widget_id, label, error) for error in errors)

    for form in forms:
        # A page without a form passes what the template has: nothing.
        if getattr(form, "is_bound", False):
            collect(form)
    return {"problems": problems}


@register.simple_tag(takes_context=True)
def allow_forms_to(context, providers):
    """Let this page's forms go on to ``providers`` (a list, or one)
    (``sign_on.form_origins``): the origins are kept on the request, and
    ``SignOnFormsMiddleware`` adds them to the response's ``form-action``.
    Writes nothing."""
    if hasattr(providers, "app"):
        providers = [providers]
    request = context["request"]
    origins = getattr(request, "sign_on_form_origins", set())
    request.sign_on_form_origins = origins | set(sign_on.form_origins(providers))
    return ""
