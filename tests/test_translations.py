"""Translations stay complete.

* Every shipped catalogue translates every string, none of them fuzzy, with
  the same placeholders as the English.
* The catalogues hold every string the code marks: ``makemessages`` run now
  would add nothing.
* Every page of the authorization matrix, rendered in a pseudo-language whose
  every translation is wrapped in markers, shows no text outside markers
  except what people typed: a string never marked cannot hide.
"""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import allauth
import pytest
from allauth.socialaccount.models import SocialApp
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import models
from django.test import Client, override_settings
from django.utils.translation import to_locale, trans_real

from agreements.models import Proposal
from tests.test_authorization import MATRIX, STATES, expected, url_for, users, world

OPEN, CLOSE = "⟦", "⟧"
PSEUDO = "xx"
# Where the app's strings are (the makemessages command says what it skips).
SOURCES = ["agreements", "mentorship", "templates"]
DJANGO_DIR = Path(__import__("django").__file__).parent
# Django's own strings the app's pages show (form errors, password rules,
# month names): in the pseudo-language too, so that they count as marked.
DJANGO_CATALOGUES = [
    DJANGO_DIR / "conf" / "locale" / "en" / "LC_MESSAGES" / "django.po",
    DJANGO_DIR / "contrib" / "auth" / "locale" / "en" / "LC_MESSAGES" / "django.po",
    # The sign-in pages' own words are django-allauth's, translated by it.
    Path(allauth.__file__).parent / "locale" / "en" / "LC_MESSAGES" / "django.po",
]


# Read once: the pseudo-language's fixture puts its own first while it lasts.
CATALOGUES = Path(settings.LOCALE_PATHS[0])


def catalogue(language):
    return CATALOGUES / to_locale(language) / "LC_MESSAGES" / "django.po"


def gettext_tool(*args):
    return subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603


def extract(root, locale):
    """Runs the project's makemessages for ``locale`` over a copy of the code
    (it writes scratch files beside the templates, which two test processes
    must not share); the catalogue it writes under ``root``."""
    source = Path(root) / "source"
    for part in SOURCES:
        shutil.copytree(
            Path(settings.BASE_DIR) / part,
            source / part,
            ignore=shutil.ignore_patterns("locale", "__pycache__", "*.mo"),
        )
    here = Path.cwd()
    os.chdir(source)
    try:
        with override_settings(LOCALE_PATHS=[root]):
            call_command("makemessages", locale=[locale], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(here)
    return Path(root) / locale / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def fresh_extraction(tmp_path_factory):
    return extract(tmp_path_factory.mktemp("extracted"), "en_GB")


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_catalogue_translates_every_string(language):
    po = catalogue(language)
    assert po.exists(), f"{po} is missing: make messages"
    untranslated = gettext_tool("msgattrib", "--untranslated", "--no-obsolete", str(po)).stdout
    fuzzy = gettext_tool("msgattrib", "--only-fuzzy", "--no-obsolete", str(po)).stdout
    assert untranslated == "", f"untranslated in {po}:\n{untranslated[:3000]}"
    assert fuzzy == "", f"fuzzy in {po}:\n{fuzzy[:3000]}"
    checked = gettext_tool("msgfmt", "--check", "-o", os.devnull, str(po))
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES])
def test_the_catalogue_holds_every_marked_string(language, fresh_extraction):
    """What makemessages would extract now is in the catalogue, and nothing
    else: after marking or changing a string, `make messages` and translate."""
    po = catalogue(language)
    missing = gettext_tool(
        "msgcmp", "--use-untranslated", "--use-fuzzy", str(po), str(fresh_extraction)
    )
    assert missing.returncode == 0, f"not in {po} (make messages):\n{missing.stderr[:3000]}"
    stale = gettext_tool(
        "msgcmp", "--use-untranslated", "--use-fuzzy", str(fresh_extraction), str(po)
    )
    assert stale.returncode == 0, (
        f"no longer marked, still in {po} (make messages):\n{stale.stderr[:3000]}"
    )


@pytest.fixture(scope="module")
def pseudo_language(tmp_path_factory):
    """A catalogue for PSEUDO in which every translation is its English
    wrapped in markers, the app's strings and Django's own; the values its
    placeholders bring in stay outside the markers."""
    root = tmp_path_factory.mktemp("pseudo")
    ours = extract(root, PSEUDO)
    text = ours.read_text()
    ours.write_text(
        text.replace("nplurals=INTEGER; plural=EXPRESSION;", "nplurals=2; plural=(n != 1);")
    )
    merged = ours.with_name("merged.po")
    steps = [
        ["msgcat", "--use-first", "-o", str(merged), str(ours), *map(str, DJANGO_CATALOGUES)],
        ["msgen", "-o", str(merged), str(merged)],
        [
            "msgfilter",
            "--keep-header",
            "-i",
            str(merged),
            "-o",
            str(merged),
            "sed",
            "-e",
            f"s/^/{OPEN}/",
            "-e",
            f"s/$/{CLOSE}/",
            # What a placeholder brings in stays outside the markers, to be
            # checked in turn.
            "-e",
            f"s/%([A-Za-z0-9_]*)[sd]/{CLOSE}&{OPEN}/g",
            "-e",
            f"s/%s/{CLOSE}%s{OPEN}/g",
        ],
        ["msgfmt", "-o", str(ours.with_suffix(".mo")), str(merged)],
    ]
    for step in steps:
        done = gettext_tool(*step)
        assert done.returncode == 0, (step, done.stderr)
    with override_settings(
        LANGUAGES=[*settings.LANGUAGES, (PSEUDO, "Pseudo")],
        LOCALE_PATHS=[root, *settings.LOCALE_PATHS],
    ):
        trans_real.get_languages.cache_clear()
        trans_real._get_supported_language_variant.cache_clear()
        yield PSEUDO
    trans_real.get_languages.cache_clear()
    trans_real._get_supported_language_variant.cache_clear()


class VisibleText(HTMLParser):
    """The text a person sees or hears: text outside script and style, and
    the attributes read out or shown (title, labels, placeholders, buttons).
    Not the app's words in the page's language: text inside an element that
    declares its own language (the language switcher's names), code and
    examples of a file (CSV column names) and options that show their own
    value (time zones)."""

    SPOKEN = {"title", "aria-label", "placeholder", "alt", "aria-description"}
    HIDDEN = {"script", "style", "code", "pre", "kbd", "samp"}
    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "wbr",
    }

    def __init__(self):
        super().__init__()
        self.parts = []
        self.stack = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        own_value = tag == "option" and "value" in attrs
        skip = tag in self.HIDDEN or "lang" in attrs and tag != "html"
        if not (skip or self.skipping()):
            self.parts += [value for name, value in attrs.items() if name in self.SPOKEN and value]
            if tag == "input" and attrs.get("type") in {"submit", "button", "reset"}:
                self.parts.append(attrs.get("value") or "")
        if tag not in self.VOID:
            self.stack.append((tag, skip, attrs.get("value") if own_value else None))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def skipping(self):
        return any(skip for _tag, skip, _value in self.stack)

    def handle_data(self, data):
        if self.skipping():
            return
        if self.stack and self.stack[-1][0] == "option" and self.stack[-1][2] == data.strip():
            return
        self.parts.append(data)


def typed_values():
    """Everything people typed (names, emails, the agreement's text), longest
    first: shown as typed, in no language of the app's."""
    values = set()
    for model in apps.get_app_config("agreements").get_models():
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(field, models.CharField | models.TextField) and not field.choices
        ]
        for row in model._default_manager.values_list(*fields) if fields else ():
            for value in row:
                if isinstance(value, str):
                    values.update(" ".join(line.split()) for line in value.splitlines())
                    values.add(" ".join(value.split()))
    # The identity providers' names, as a superuser typed them.
    values.update(SocialApp.objects.values_list("name", flat=True))
    # A proposal keeps what its author typed as the section's canonical data.
    for data in Proposal.objects.values_list("data", flat=True):
        for value in _leaves(data):
            values.update(" ".join(line.split()) for line in value.splitlines())
            values.add(" ".join(value.split()))
    return sorted((value for value in values if len(value) > 1), key=len, reverse=True)


def _leaves(data):
    """The strings in a JSON value."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for item in data.values():
            yield from _leaves(item)
    elif isinstance(data, list):
        for item in data:
            yield from _leaves(item)


INNERMOST = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
# Addresses, links, fingerprints and identifiers are not words.
NOT_WORDS = re.compile(
    r"\S+@\S+|https?://\S+|/[\w./?=&%-]*|\b[0-9a-f]{8,}\b|"
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"
)
WORD = re.compile(r"[^\W\d_]{2,}")


def unmarked(html, typed):
    parser = VisibleText()
    parser.feed(html)
    text = " ".join(" ".join(parser.parts).split())
    while True:
        shorter = INNERMOST.sub(" ", text)
        if shorter == text:
            break
        text = shorter
    for value in typed:
        text = text.replace(value, " ")
    text = NOT_WORDS.sub(" ", text)
    return [match.group() for match in WORD.finditer(text)], text


def test_the_markers_find_an_unmarked_word():
    words, _text = unmarked(f"<p>{OPEN}Signed{CLOSE} by Ada</p>", typed=[])
    assert words == ["by", "Ada"]
    words, _text = unmarked(
        f'<p title="{OPEN}Help{CLOSE}">{OPEN}Signed by {OPEN}Ada{CLOSE}{CLOSE} Ada</p>',
        typed=["Ada"],
    )
    assert words == []


@pytest.mark.django_db
@pytest.mark.parametrize("state", STATES)
def test_every_page_is_translated(request, state, pseudo_language):
    w = world(request, state)
    people = users()
    who = {
        "party": ["mentor", "other_mentor"],
        "admin": ["program_admin", "other_admin"],
        "user": ["mentor", "program_admin"],
        "superuser": ["superuser"],
        "public": ["anonymous", "mentor"],
        "entrance": ["anonymous"],
    }
    typed = typed_values()
    found = []
    for name, (access, _answers) in sorted(MATRIX.items()):
        for role in who[access]:
            client = Client(headers={"host": "testserver"})
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = pseudo_language
            if role != "anonymous":
                client.force_login(people[role])
            response = client.get(url_for(name, w), follow=expected(name, role, state) == 302)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue
            assert response["Content-Language"] == pseudo_language, name
            words, text = unmarked(response.content.decode(), typed)
            if words:
                found.append(f"{name} as {role}: {' '.join(words)[:400]}")
    assert found == [], "\n".join(found)
