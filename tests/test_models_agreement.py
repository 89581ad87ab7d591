import datetime
import hashlib
import json

import pytest
from django.db import IntegrityError

from agreements import content, demo
from agreements.exceptions import (
    AgreementSigned,
    ContentChanged,
    NotReadyToSign,
    SectionIncomplete,
)
from agreements.models import CONSENT_STATEMENT, Agreement, AgreementVersion, Section, Signature
from agreements.services import pairing_create
from tests.helpers import START, assert_unchanged, fresh


def test_new_pairing_has_every_section_empty_and_unagreed(agreement):
    agreement = fresh(agreement)
    assert agreement.status == Agreement.Status.DRAFT
    assert [s.kind for s in agreement.ordered_sections()] == Section.Kind.values
    assert not any(s.mentor_agreed_at or s.mentee_agreed_at for s in agreement.ordered_sections())


def test_canonical_content_holds_every_section_and_both_parties(ready):
    data = ready.canonical_content()
    assert set(data["sections"]) == set(Section.Kind.values)
    assert data["parties"]["mentor"]["email"] == "mentor@example.com"
    assert data["parties"]["mentee"]["name"] == "Milo Mentee"
    assert data["sections"]["term"]["start_date"] == START
    serialised = content.canonical_json(data)
    assert serialised.index('"agreement"') < serialised.index('"format"')  # sorted keys
    assert ready.content_hash == content.content_hash(data)
    assert len(ready.content_hash) == 64


def test_canonical_text_is_normalised():
    # NFC, CRLF → LF, trailing spaces gone: the same words hash the same.
    composed = {"text": "Caf\u00e9 plans\r\nnext  "}
    decomposed = {"text": "Cafe\u0301 plans   \nnext"}
    assert content.content_hash(composed) == content.content_hash(decomposed)
    assert content.content_hash({"text": "a"}) != content.content_hash({"text": "b"})


def test_agreeing_an_incomplete_section_is_refused(agreement, mentor):
    with assert_unchanged(agreement), pytest.raises(SectionIncomplete):
        agreement.agree_section(Section.Kind.TERM, by=mentor, seen_revision=0)
    assert fresh(agreement).sections_by_kind["term"].mentor_agreed_at is None


def test_all_sections_agreed_by_both_awaits_signatures(ready):
    assert ready.status == Agreement.Status.AWAITING_SIGNATURES


def test_agreed_by_one_party_only_stays_draft(agreement, mentor):
    demo.write_all(agreement, by=mentor, start=START)
    for kind in Section.Kind.values:
        revision = fresh(agreement).sections_by_kind[kind].revision
        agreement.agree_section(kind, by=mentor, seen_revision=revision)
    assert fresh(agreement).status == Agreement.Status.DRAFT


def test_edit_clears_both_agreed_marks_on_that_section_only(ready, mentee):
    demo.write_section(ready, Section.Kind.SCHEDULE, by=mentee, start=START + datetime.timedelta(1))
    ready = fresh(ready)
    term = ready.sections_by_kind["term"]
    assert term.is_agreed
    # The schedule data is the same for another start date: no change, marks stay.
    assert ready.sections_by_kind["schedule"].is_agreed
    demo.write_section(ready, Section.Kind.TERM, by=mentee, start=START + datetime.timedelta(1))
    ready = fresh(ready)
    assert not ready.sections_by_kind["term"].mentor_agreed_at
    assert not ready.sections_by_kind["term"].mentee_agreed_at
    assert ready.sections_by_kind["goals"].is_agreed
    assert ready.status == Agreement.Status.DRAFT


def test_both_signatures_are_needed_to_activate(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    half_signed = fresh(ready)
    assert half_signed.status == Agreement.Status.AWAITING_SIGNATURES
    demo.sign_as(ready, mentee)
    active = fresh(ready)
    assert active.status == Agreement.Status.ACTIVE
    assert active.activated_at is not None
    version = active.version_in_force
    assert version.content_hash == half_signed.content_hash
    assert {s.version_id for s in active.signatures.all()} == {version.pk}


def test_edit_after_signature_voids_it(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    signed_hash = fresh(ready).content_hash
    demo.write_section(ready, Section.Kind.TERM, by=mentee, start=START + datetime.timedelta(7))
    ready = fresh(ready)
    signature = Signature.objects.get(agreement=ready)
    assert signature.voided_at is not None
    assert "Term and exit was changed by Milo Mentee" in signature.void_reason
    assert ready.working_signatures() == []
    assert ready.content_hash != signed_hash
    assert ready.status == Agreement.Status.DRAFT
    # The frozen version is void: no signature in force stands on any content.
    assert signature.version.status == AgreementVersion.Status.VOID
    assert signature.version.content_hash == signed_hash


def test_edit_after_signature_leaves_no_signature_on_the_new_content(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    demo.write_section(ready, Section.Kind.GOALS, by=mentee, start=START)
    ready = fresh(ready)
    demo.agree_all(ready)
    demo.sign_as(ready, mentee)
    ready = fresh(ready)
    new_version = ready.pending_version
    assert new_version.number == 2
    assert new_version.content_hash == ready.content_hash
    assert [(s.party, s.voided_at) for s in new_version.signatures.all()] == [("mentee", None)]
    assert ready.status == Agreement.Status.AWAITING_SIGNATURES


def test_signing_content_other_than_the_one_seen_is_refused(ready, mentor):
    with assert_unchanged(ready), pytest.raises(ContentChanged):
        ready.sign(by=mentor, typed_name="Maria Mentor", seen_hash="0" * 64)
    assert not Signature.objects.exists()


def test_signing_before_everything_is_agreed_is_refused(agreement, mentor):
    agreement = fresh(agreement)
    with assert_unchanged(agreement), pytest.raises(NotReadyToSign):
        agreement.sign(by=mentor, typed_name="Maria Mentor", seen_hash=agreement.content_hash)
    assert not Signature.objects.exists()


def test_signing_twice_is_refused(ready, mentor):
    demo.sign_as(ready, mentor)
    with assert_unchanged(ready), pytest.raises(NotReadyToSign):
        demo.sign_as(ready, mentor)
    assert Signature.objects.count() == 1


def test_active_agreement_cannot_be_edited_or_agreed(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    demo.sign_as(ready, mentee)
    active = fresh(ready)
    before = active.content_hash
    with assert_unchanged(active), pytest.raises(AgreementSigned):
        active.save_section("term", by=mentor, expected_revision=1, save=lambda: None)
    with assert_unchanged(active), pytest.raises(AgreementSigned):
        active.agree_section(
            "term", by=mentor, seen_revision=active.sections_by_kind["term"].revision
        )
    assert fresh(ready).content_hash == before


def test_a_person_cannot_mentor_themselves(program, mentor):
    with pytest.raises(IntegrityError):
        pairing_create(program=program, mentor=mentor, mentee=mentor, created_by=mentor)


def test_one_open_agreement_per_pairing(agreement, program, mentor, mentee):
    with pytest.raises(IntegrityError):
        pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=mentor)


def test_person_can_be_mentor_in_one_pairing_and_mentee_in_another(
    program, mentor, mentee, outsider
):
    pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=mentor)
    pairing_create(program=program, mentor=outsider, mentee=mentor, created_by=mentor)
    pairing_create(program=program, mentor=outsider, mentee=mentee, created_by=mentor)
    assert Agreement.objects.for_party(mentor).count() == 2
    assert Agreement.objects.filter(mentee=mentee).count() == 2


def test_every_save_is_kept_as_a_revision(agreement, mentor, mentee):
    demo.write_section(agreement, Section.Kind.TERM, by=mentor, start=START)
    demo.write_section(agreement, Section.Kind.TERM, by=mentee, start=START + datetime.timedelta(1))
    section = fresh(agreement).sections_by_kind["term"]
    assert list(section.revisions.values_list("revision", flat=True)) == [0, 1, 2]
    assert section.revisions.get(revision=1).data["start_date"] == "2027-01-04"
    assert section.updated_by == mentee


def test_renaming_a_party_after_signing_voids_that_signature_at_the_next_one(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    mentor.full_name = "Maria Mentor-Renamed"
    mentor.save()
    renamed = fresh(ready)
    assert [s.party for s in renamed.stale_signatures()] == ["mentor"]
    assert renamed.working_signatures() == []
    demo.sign_as(ready, mentee)  # no IntegrityError, no silent activation
    after = fresh(ready)
    assert after.status == Agreement.Status.AWAITING_SIGNATURES
    voided = Signature.objects.get(party="mentor")
    assert "changed after signing" in voided.void_reason
    demo.sign_as(ready, mentor)
    assert fresh(ready).status == Agreement.Status.ACTIVE


def test_active_agreement_keeps_its_signatures_when_names_change(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    demo.sign_as(ready, mentee)
    signed = fresh(ready).version_in_force.content_hash
    ready.program.name = "Renamed Programme"
    ready.program.save()
    active = fresh(ready)
    assert active.status == Agreement.Status.ACTIVE
    version = active.version_in_force
    assert len([s for s in active.signatures_on(version) if s.voided_at is None]) == 2
    assert version.content_hash == signed != active.content_hash
    assert version.as_content().program != "Renamed Programme"


def test_signature_stores_exactly_the_content_it_hashes(ready, mentor):
    demo.sign_as(ready, mentor)
    version = Signature.objects.get().version
    assert hashlib.sha256(version.canonical_json.encode()).hexdigest() == version.content_hash
    data = json.loads(version.canonical_json)
    assert data["parties"]["mentor"]["name"] == "Maria Mentor"
    assert data["consent_statement"] == CONSENT_STATEMENT
    assert data["amends"] is None
