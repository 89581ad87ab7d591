"""The app's own words in every agreement: the fixed clauses and the consent
statement each signer confirms, in the language the agreement is written in.

The canonical content keeps them as they read in that language
(``clauses_in``), so a version reads, and hashes, the same after a catalogue
changes; a changed translation asks the pair to sign again, as any change of
wording would (``SigningMixin.stale_reason``).
"""

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy

CONSENT_STATEMENT = gettext_lazy(
    "I have read this mentoring agreement in full. I agree to every section and "
    "sign it with the name I typed."
)

STATEMENTS = {
    "pairing_not_secret": gettext_lazy(
        "The pairing itself is not secret: the program knows that this mentoring "
        "relationship exists and how it is progressing. Its content is confidential."
    ),
    "no_fault_exit": gettext_lazy(
        "Either party may end the relationship before the exit date without giving a "
        "reason, by giving the agreed notice. Ending early is no one's fault."
    ),
}

# Versions signed before agreements had a language (format /3 and older) were
# written in the source words, which are British English.
SOURCE_LANGUAGE = "en-gb"


def language_name(code):
    """A language's name in the reader's language ("Spanish" for "es"), else
    as ``LANGUAGES`` names it, in itself."""
    try:
        return str(translation.get_language_info(code)["name_translated"])
    except KeyError:
        return dict(settings.LANGUAGES).get(code, code)


def language_dir(code):
    """ "rtl" or "ltr": the direction ``code``'s language is written in."""
    return "rtl" if code.split("-")[0] in settings.LANGUAGES_BIDI else "ltr"


def clauses_in(language):
    """The fixed clauses and the consent statement as they read in ``language``."""
    with translation.override(language):
        return {
            "statements": {key: str(text) for key, text in STATEMENTS.items()},
            "consent_statement": str(CONSENT_STATEMENT),
        }
