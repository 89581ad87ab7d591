"""Each person reads the app in their language: the browser's, the switcher's,
or the one saved with their account, which follows them to every browser and
into their emails. Dates follow the language, and right-to-left languages
get a mirrored page."""

import datetime
import hashlib
import io

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from pypdf import PdfReader

from agreements import pdf
from agreements.forms.widgets import DateField
from agreements.models import CONSENT_STATEMENT, User
from agreements.models.text import untranslated
from agreements.templatetags.agreement_tags import page_numbering, with_weekday
from tests.helpers import PASSWORD, assert_unchanged, client_for, fresh, make_active
from tests.test_views_sign import sign_data

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def subject_in(language):
    with translation.override(language):
        return translation.gettext("Reset your Mentorship password")


def test_every_language_has_its_own_words():
    english = subject_in("en-gb")
    assert english == "Reset your Mentorship password"
    assert len({subject_in(language) for language in LANGUAGES}) == len(LANGUAGES)


def test_the_browser_chooses_the_language(client):
    response = client.get(reverse("login"), headers={"accept-language": "de-AT,de;q=0.9,en;q=0.5"})
    assert response["Content-Language"] == "de"
    assert '<html lang="de" dir="ltr">' in response.text
    assert "Passwort" in response.text  # Django's own form, in German


def test_an_unknown_language_falls_back_to_british_english(client):
    response = client.get(reverse("login"), headers={"accept-language": "tlh"})
    assert response["Content-Language"] == "en-gb"
    assert '<html lang="en-gb" dir="ltr">' in response.text


def test_arabic_pages_are_right_to_left_with_bootstraps_mirrored_css(client):
    response = client.get(reverse("verify"), headers={"accept-language": "ar"})
    assert '<html lang="ar" dir="rtl">' in response.text
    assert "bootstrap.rtl.min.css" in response.text
    english = client.get(reverse("verify"), headers={"accept-language": "en"})
    assert "bootstrap.rtl.min.css" not in english.text


def test_the_switcher_names_each_language_in_itself(client):
    page = client.get(reverse("how_it_works"), headers={"accept-language": "fr"}).text
    for code, name in settings.LANGUAGES:
        assert f'<option value="{code}" lang="{code}"' in page
        assert name in page
    assert '<option value="fr" lang="fr" selected>' in page


def test_the_switcher_sets_the_language_of_an_anonymous_browser(client):
    response = client.post(reverse("language"), {"language": "es", "next": reverse("verify")})
    assert response.status_code == 302
    assert response["Location"] == reverse("verify")
    page = client.get(reverse("verify"), headers={"accept-language": "fr"})
    assert page["Content-Language"] == "es"


def test_the_switcher_refuses_get_and_unknown_languages(client, mentor):
    client_for(client, mentor)
    assert client.get(reverse("language")).status_code == 405
    with assert_unchanged(mentor):
        client.post(reverse("language"), {"language": "tlh", "next": "/"})
        client.post(reverse("language"), {"language": "x" * 5000, "next": "/"})
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


def test_the_switcher_refuses_to_send_people_elsewhere(client):
    response = client.post(reverse("language"), {"language": "de", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_a_signed_in_choice_follows_the_person_to_another_browser(client, mentor):
    client_for(client, mentor).post(reverse("language"), {"language": "pt-br", "next": "/"})
    mentor.refresh_from_db()
    assert mentor.language == "pt-br"
    elsewhere = client_for(client.__class__(), mentor)
    page = elsewhere.get(reverse("agreements:account"), headers={"accept-language": "de"})
    assert page["Content-Language"] == "pt-br"


def test_the_account_page_saves_the_language(client, mentor):
    client_for(client, mentor)
    page = client.get(reverse("agreements:account")).text
    assert '<option value="ar" lang="ar">' in page
    response = client.post(
        reverse("agreements:account"), {"language": "ar", "time_zone": mentor.time_zone}
    )
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert mentor.language == "ar"
    page = client.get(response["Location"])
    assert page["Content-Language"] == "ar"
    with translation.override("ar"):
        saved = translation.gettext("Your time zone is now %(time_zone)s.") % {
            "time_zone": mentor.time_zone
        }
    assert saved in page.text


def test_the_account_page_refuses_an_unknown_language(client, mentor):
    client_for(client, mentor)
    with assert_unchanged(mentor):
        response = client.post(
            reverse("agreements:account"), {"language": "klingon", "time_zone": mentor.time_zone}
        )
    assert response.status_code == 200
    assert "Select a valid choice." in response.text


def test_signing_in_remembers_the_browsers_language_for_emails(client, mentor):
    client.post(
        reverse("login"),
        {"login": mentor.email, "password": PASSWORD},
        headers={"accept-language": "fr-CA,fr;q=0.9"},
    )
    mentor.refresh_from_db()
    assert (mentor.language, mentor.browser_language) == ("", "fr")
    assert mentor.own_language == "fr"


@pytest.mark.parametrize("language", LANGUAGES)
def test_emails_are_in_the_recipients_language(
    client, mentor, language, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=mentor.pk).update(language=language)
    with django_capture_on_commit_callbacks(execute=True):
        # Asked for in another language: the email follows the recipient.
        client.post(
            reverse("password_reset"), {"email": mentor.email}, headers={"accept-language": "de"}
        )
    assert [message.subject for message in mail.outbox] == [subject_in(language)]


@pytest.mark.parametrize("language", LANGUAGES)
def test_date_fields_read_back_the_date_they_show_and_the_dates_pages_show(language):
    field = DateField()
    for day in (datetime.date(2027, 4, 8), datetime.date(2027, 9, 30), datetime.date(2028, 2, 1)):
        with translation.override(language):
            shown = field.widget.format_value(day)
            assert field.clean(shown) == day, shown
            # A date copied from a page, in the language's long form.
            assert field.clean(date_format(day)) == day, date_format(day)


def test_a_language_dropped_since_someone_chose_it_is_not_used(client, mentor):
    User.objects.filter(pk=mentor.pk).update(language="it", browser_language="nl")
    mentor.refresh_from_db()
    assert (mentor.chosen_language, mentor.own_language) == ("", "en-gb")
    page = client_for(client, mentor).get(
        reverse("agreements:account"), headers={"accept-language": "de"}
    )
    assert page["Content-Language"] == "de"


def test_choosing_the_browsers_language_again_forgets_the_switcher(client, mentor):
    client_for(client, mentor).post(reverse("language"), {"language": "de", "next": "/"})
    response = client.post(
        reverse("agreements:account"),
        {"language": "", "time_zone": mentor.time_zone},
        headers={"accept-language": "fr"},
    )
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""
    page = client.get(response["Location"], headers={"accept-language": "fr"})
    assert page["Content-Language"] == "fr"
    with translation.override("fr"):
        saved = translation.gettext("Your time zone is now %(time_zone)s.") % {
            "time_zone": mentor.time_zone
        }
    assert saved in page.text


def test_dates_follow_the_language():
    day = datetime.date(2027, 4, 8)
    expected = {
        "en-gb": ("8 April 2027", "8 Apr 2027", "Thursday 8 April 2027"),
        "fr": ("8 avril 2027", "8 avr. 2027", "jeudi 8 avril 2027"),
        "de": ("8. April 2027", "8. Apr 2027", None),
        "es": ("8 de abril de 2027", "8 abr 2027", None),
    }
    for language, (long, short, weekday) in expected.items():
        with translation.override(language):
            assert date_format(day) == long
            assert date_format(day, "SHORT_DATE_FORMAT") == short
            if weekday:
                assert with_weekday(day) == weekday


def pdf_text(data):
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)


def test_an_english_agreements_sealed_pdf_is_in_english_whoever_asks(agreement):
    active = make_active(agreement, start=timezone.localdate())
    version = fresh(active).version_in_force
    with translation.override("de"):
        german = translation.gettext("Completion certificate")
        text = pdf_text(pdf.render_signed_pdf(version))
    assert "Completion certificate" in text
    assert german != "Completion certificate"
    assert german not in text


def test_each_signature_keeps_the_translation_of_the_consent_statement_it_was_shown(
    client, ready, mentor, mentee
):
    """Both confirm the statement in the agreement's language (British English
    here); each also saw it in their own, and their evidence keeps that too."""
    shown = {}
    for person, language in ((mentor, "fr"), (mentee, "ar")):
        client_for(client, person)
        page = client.get(
            reverse("agreements:sign", args=[ready.uuid]), headers={"accept-language": language}
        )
        with translation.override(language):
            shown[language] = str(CONSENT_STATEMENT)
        assert shown[language] != untranslated(CONSENT_STATEMENT)
        assert shown[language] in page.text
        client.post(
            reverse("agreements:sign", args=[ready.uuid]),
            sign_data(fresh(ready), person.full_name),
            headers={"accept-language": language},
        )
    version = fresh(ready).version_in_force
    statement = version.data["consent_statement"]
    assert statement == untranslated(CONSENT_STATEMENT)
    for signature in version.signatures.all():
        evidence = signature.evidence_data
        assert evidence["consent_statement"] == signature.consent_statement == statement
        assert evidence["consent_language"] == "en-gb"
        assert evidence["consent_hash"] == hashlib.sha256(statement.encode()).hexdigest()
        translated = evidence["consent_translation"]
        assert translated["statement"] == shown[translated["language"]]
        assert translated["hash"] == hashlib.sha256(translated["statement"].encode()).hexdigest()
    assert {
        s.evidence_data["consent_translation"]["language"] for s in version.signatures.all()
    } == {
        "fr",
        "ar",
    }


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_pdfs_page_numbering_can_be_cut_around_its_numbers(language):
    with translation.override(language):
        numbering = page_numbering()
        whole = translation.gettext("Page %(page)s of %(pages)s") % {"page": 2, "pages": 5}
    assert f"{numbering['before']}2{numbering['between']}5{numbering['after']}" == whole
