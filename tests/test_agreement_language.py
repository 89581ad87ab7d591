"""An agreement is written and signed in the pair's language: its fixed
clauses, the statement each signer confirms and its PDFs are in that language,
whoever reads them, and a second language can be shown beside it. Versions
signed before agreements had a language keep their bytes and read as British
English."""

import hashlib
import io
import json

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import trans_real
from pypdf import PdfReader

from agreements import content, demo, drafts, pdf, tasks
from agreements.models import (
    CONSENT_STATEMENT,
    STATEMENTS,
    Agreement,
    AgreementVersion,
    AuditEvent,
    Effect,
    Languages,
    Section,
    Signature,
    User,
)
from agreements.models.clauses import clauses_in
from agreements.models.text import untranslated
from tests.helpers import (
    START,
    assert_unchanged,
    client_for,
    fresh,
    make_active,
    make_agreement,
    make_ready,
)
from tests.test_views_sign import sign_data

LANGUAGE = Section.Kind.LANGUAGE
STALE_WORDING = "The app's wording of the fixed clauses changed after signing."


# Helpers ---------------------------------------------------------------------


def speaks(user, language):
    """The user chose ``language`` for the app."""
    User.objects.filter(pk=user.pk).update(language=language)
    user.refresh_from_db()


def choose_language(agreement, language, second="", *, by):
    """Change the language section through the model's real save path."""
    demo.write_language(agreement, language, second, by=by)
    return fresh(agreement)


def edit_url(agreement):
    return reverse("agreements:section_edit", args=[agreement.uuid, LANGUAGE])


def in_language(language, text):
    with translation.override(language):
        return translation.gettext(text)


def words(text):
    """Whitespace collapsed, no-break spaces too (extraction breaks lines anywhere)."""
    return " ".join(text.split())


def pdf_text(data):
    return " ".join(words(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages)


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def spanish(program, mentor, mentee, program_admin):
    """An agreement made by an admin who reads the app in Spanish."""
    speaks(program_admin, "es")
    return make_agreement(program, mentor, mentee, program_admin)


@pytest.fixture
def spanish_ready(spanish):
    return make_ready(spanish)


# A new agreement -------------------------------------------------------------


def test_a_new_agreement_is_in_its_creators_language(program, mentor, mentee, program_admin):
    speaks(program_admin, "fr")
    agreement = fresh(make_agreement(program, mentor, mentee, program_admin))

    assert (agreement.language, agreement.second_language) == ("fr", "")
    section = agreement.sections_by_kind[LANGUAGE]
    assert section.revisions.get(revision=0).data == {"language": "fr", "second_language": ""}
    # Both still have to agree to it, like any section.
    assert not section.mentor_agreed_at and not section.mentee_agreed_at


# Changing it, like a section -------------------------------------------------


def test_changing_the_language_clears_the_marks_voids_the_signature_and_is_recorded(
    client, ready, mentor
):
    demo.sign_as(ready, mentor)
    revision = fresh(ready).sections_by_kind[LANGUAGE].revision

    response = client_for(client, mentor).post(
        edit_url(ready), {"revision": revision, "language": "es", "second_language": "fr"}
    )

    assert response.status_code == 302
    agreement = fresh(ready)
    assert (agreement.language, agreement.second_language) == ("es", "fr")
    section = agreement.sections_by_kind[LANGUAGE]
    assert not section.mentor_agreed_at and not section.mentee_agreed_at
    signature = Signature.objects.get(party="mentor")
    assert signature.voided_at
    assert signature.void_reason == "Language was changed by Maria Mentor after signing."
    edited = agreement.audit_events.filter(kind=AuditEvent.Kind.SECTION_EDITED).last()
    assert edited.details["section"] == "language"
    assert edited.actor == mentor


def test_the_second_language_cannot_be_the_agreements_own(client, ready, mentor):
    revision = ready.sections_by_kind[LANGUAGE].revision
    client_for(client, mentor)

    with assert_unchanged(ready):
        response = client.post(
            edit_url(ready), {"revision": revision, "language": "es", "second_language": "es"}
        )

    assert response.status_code == 200
    assert escape("Choose a different language from the agreement's, or none.") in response.text
    assert fresh(ready).language == "en-gb"


# The canonical content -------------------------------------------------------


def test_the_canonical_content_holds_the_clauses_in_the_agreements_language(spanish):
    data = fresh(spanish).canonical_content()
    spanish_clauses = clauses_in("es")

    assert data["format"] == "mentorship-agreement/5"
    assert data["sections"]["language"] == {"language": "es", "second_language": ""}
    assert data["statements"] == spanish_clauses["statements"]
    assert data["consent_statement"] == spanish_clauses["consent_statement"]
    assert data["consent_statement"] != untranslated(CONSENT_STATEMENT)
    assert data["translation"] is None


def test_the_canonical_content_holds_the_second_languages_clauses_as_a_translation(spanish, mentor):
    agreement = choose_language(spanish, "es", "fr", by=mentor)

    data = agreement.canonical_content()

    assert data["statements"] == clauses_in("es")["statements"]
    assert data["translation"] == {"language": "fr", **clauses_in("fr")}


def test_the_content_hash_changes_with_the_language(ready, mentor):
    english = ready.content_hash

    spanish = choose_language(ready, "es", by=mentor).content_hash
    with_french = choose_language(ready, "es", "fr", by=mentor).content_hash

    assert len({english, spanish, with_french}) == 3


# Versions signed before agreements had a language ---------------------------------


def as_format_3(version):
    """Store ``version`` as it was signed under /3: no language section, no
    translation, the clauses and the consent statement in the source words."""
    data = json.loads(version.canonical_json)
    data["format"] = "mentorship-agreement/3"
    del data["sections"]["language"], data["translation"]
    data["statements"] = {key: untranslated(text) for key, text in STATEMENTS.items()}
    data["consent_statement"] = untranslated(CONSENT_STATEMENT)
    stored = content.canonical_json(data)
    AgreementVersion.objects.filter(pk=version.pk).update(
        canonical_json=stored, content_hash=sha256(stored)
    )
    return AgreementVersion.objects.get(pk=version.pk)


@pytest.fixture
def signed_under_3(agreement):
    return as_format_3(make_active(agreement, start=START).version_in_force)


def test_a_version_signed_under_format_3_still_verifies_byte_for_byte(
    client, signed_under_3, mentor
):
    stored = signed_under_3.canonical_json
    agreement = signed_under_3.agreement
    page = reverse("agreements:version_detail", args=[agreement.uuid, signed_under_3.number])

    assert client_for(client, mentor).get(page).status_code == 200
    client.logout()
    response = client.get(reverse("verify"), {"hash": signed_under_3.content_hash})

    assert "Genuine, and in force" in response.text
    version = AgreementVersion.objects.get(pk=signed_under_3.pk)
    assert (version.canonical_json, version.content_hash) == (stored, sha256(stored))
    # Read and written again, its content gives the same bytes.
    assert content.canonical_json(version.data) == stored


def test_a_version_signed_under_format_3_reads_as_british_english(signed_under_3):
    read = signed_under_3.as_content()

    assert read.languages == Languages("en-gb")
    assert read.translation is None
    assert read.statements == {key: untranslated(text) for key, text in STATEMENTS.items()}
    assert read.consent_statement == untranslated(CONSENT_STATEMENT)
    with translation.override("de"):
        text = pdf_text(pdf.render_signed_pdf(signed_under_3))
    assert "Completion certificate" in text
    assert words(untranslated(STATEMENTS["no_fault_exit"])) in text


def test_an_amendment_of_a_version_signed_under_format_3_does_not_change_its_language(
    signed_under_3, mentor
):
    agreement = signed_under_3.agreement
    agreement.start_amendment(by=mentor)

    assert fresh(agreement).amended_sections() == []


# Signing ---------------------------------------------------------------------


def sign_in(client, agreement, person, language):
    client_for(client, person).post(
        reverse("agreements:sign", args=[agreement.uuid]),
        sign_data(fresh(agreement), person.full_name),
        headers={"accept-language": language},
    )
    return Signature.objects.get(signer=person, voided_at=None).evidence_data


def test_the_sign_page_asks_to_confirm_the_statement_in_the_agreements_language(
    client, spanish_ready, mentor
):
    client_for(client, mentor)
    page = client.get(
        reverse("agreements:sign", args=[spanish_ready.uuid]), headers={"accept-language": "fr"}
    )

    statement = escape(clauses_in("es")["consent_statement"])
    assert f'<span lang="es" dir="ltr">{statement}</span>' in page.text
    assert escape(clauses_in("fr")["consent_statement"]) in page.text
    assert in_language("es", "Goals") in page.text


def test_signing_while_reading_another_language_keeps_both_statements(
    client, spanish_ready, mentor
):
    evidence = sign_in(client, spanish_ready, mentor, "fr")

    statement = clauses_in("es")["consent_statement"]
    assert evidence["consent_statement"] == statement
    assert evidence["consent_hash"] == sha256(statement)
    assert evidence["consent_language"] == "es"
    shown = clauses_in("fr")["consent_statement"]
    assert evidence["consent_translation"] == {
        "language": "fr",
        "statement": shown,
        "hash": sha256(shown),
    }


def test_signing_while_reading_the_agreements_language_keeps_no_translation(
    client, spanish_ready, mentee
):
    evidence = sign_in(client, spanish_ready, mentee, "es")

    assert evidence["consent_statement"] == clauses_in("es")["consent_statement"]
    assert evidence["consent_language"] == "es"
    assert evidence["consent_translation"] is None


def test_a_changed_translation_of_the_clauses_asks_for_the_first_signature_again(
    spanish_ready, mentor, mentee, monkeypatch
):
    demo.sign_as(spanish_ready, mentor)
    # An upgrade rewords the Spanish of a fixed clause before the mentee signs.
    catalog = trans_real.translation("es")._catalog
    monkeypatch.setitem(
        catalog, untranslated(STATEMENTS["no_fault_exit"]), "Cualquiera puede terminar."
    )

    demo.sign_as(spanish_ready, mentee)

    voided = Signature.objects.get(party="mentor")
    assert voided.voided_at
    assert voided.void_reason == STALE_WORDING
    agreement = fresh(spanish_ready)
    assert agreement.status == Agreement.Status.AWAITING_SIGNATURES
    assert agreement.pending_version.data["statements"]["no_fault_exit"] == (
        "Cualquiera puede terminar."
    )


# PDFs ------------------------------------------------------------------------


def test_the_signed_pdf_is_in_the_agreements_language_whoever_renders_it(spanish):
    active = make_active(spanish, start=START)

    with translation.override("de"):
        text = pdf_text(pdf.render_signed_pdf(fresh(active).version_in_force))

    assert in_language("es", "Goals") in text
    assert words(clauses_in("es")["statements"]["no_fault_exit"]) in text
    assert in_language("es", "Completion certificate") in text
    assert in_language("de", "Goals") not in text
    assert in_language("de", "Completion certificate") not in text


def test_a_signed_pdf_with_a_second_language_shows_both_and_says_which_binds(spanish, mentor):
    choose_language(spanish, "es", "fr", by=mentor)
    active = make_active(spanish, start=START)

    text = pdf_text(pdf.render_signed_pdf(fresh(active).version_in_force))

    for language in ("es", "fr"):
        for clause in clauses_in(language)["statements"].values():
            assert words(clause) in text
    binds = "Where the two texts differ, the text in the language of the agreement binds."
    assert words(in_language("es", binds)) in text


def test_the_draft_is_in_the_agreements_language_whoever_reads_it(spanish):
    agreement = Agreement.objects.with_working_copy().get(pk=spanish.pk)

    with translation.override("de"):
        html = pdf.draft_html(agreement)

    assert '<html lang="es"' in html
    assert in_language("es", "Goals") in html
    assert in_language("de", "Goals") not in html


def test_one_draft_is_stored_for_every_reader(spanish, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    agreement = Agreement.objects.with_working_copy().get(pk=spanish.pk)
    with translation.override("fr"):
        _name, effect = drafts.stored_draft(agreement)
    # The worker has no request, and so no language of its own.
    with translation.override(None):
        assert tasks.run_effect(effect.pk) == "done"

    with translation.override("de"):
        name, promised = drafts.stored_draft(agreement)

    digest = sha256(pdf.draft_html(agreement))
    assert (name, promised) == (f"drafts/{agreement.uuid}/{digest}.pdf", None)
    assert default_storage.listdir(f"drafts/{agreement.uuid}")[1] == [f"{digest}.pdf"]
    assert Effect.objects.filter(kind=Effect.Kind.RENDER_DRAFT).count() == 1


# Sharing ---------------------------------------------------------------------


def test_the_language_cannot_be_shared_with_the_program(client, agreement, mentor):
    sharing = reverse("agreements:sharing", args=[agreement.uuid])
    client_for(client, mentor)

    with assert_unchanged(agreement):
        for move in ("share", "withdraw"):
            assert client.post(f"{sharing}{LANGUAGE}/{move}/").status_code == 404
        page = client.get(sharing)

    assert 'id="sharing-goals"' in page.text
    assert 'id="sharing-language"' not in page.text


# Amending --------------------------------------------------------------------


def test_an_amendment_can_change_the_language_and_withdrawing_it_restores_it(
    active, mentor, mentee
):
    active.start_amendment(by=mentor)
    amending = choose_language(active, "es", "fr", by=mentee)
    assert [section.kind for section in amending.amended_sections()] == [LANGUAGE]

    amending.withdraw_amendment(by=mentor)

    restored = fresh(active)
    assert (restored.language, restored.second_language) == ("en-gb", "")
    assert restored.amended_sections() == []
    assert restored.sections_by_kind[LANGUAGE].is_agreed
