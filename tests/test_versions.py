"""Versions and amendments: what is in force, what replaces it, and comparing them."""

import pytest
from django.urls import reverse

from agreements import content, demo
from agreements.exceptions import NotAmendable, NotReadyToSign
from agreements.models import Agreement, AgreementVersion, AuditEvent, Section, Signature
from tests.helpers import PASSWORD, assert_unchanged, client_for, fresh

NEW_GOAL = "Present the project at the all-hands meeting."


def reword_first_goal(agreement, *, by, text=NEW_GOAL):
    agreement = fresh(agreement)
    section = agreement.sections_by_kind[Section.Kind.GOALS]

    def save():
        goal = agreement.goals.all()[0]
        goal.description = text
        goal.save()

    assert agreement.save_section(
        Section.Kind.GOALS, by=by, expected_revision=section.revision, save=save
    )


def agree(agreement, kind):
    revision = fresh(agreement).sections_by_kind[kind].revision
    for party in (agreement.mentor, agreement.mentee):
        fresh(agreement).agree_section(kind, by=party, seen_revision=revision)


@pytest.fixture
def active(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    demo.sign_as(ready, mentee)
    return fresh(ready)


@pytest.fixture
def amending(active, mentor):
    active.start_amendment(by=mentor)
    return fresh(active)


def test_amendment_keeps_the_old_version_in_force_until_both_sign(amending, mentor, mentee):
    v1 = amending.version_in_force
    reword_first_goal(amending, by=mentee)
    agree(amending, Section.Kind.GOALS)

    demo.sign_as(amending, mentor)
    half = fresh(amending)
    assert half.status == Agreement.Status.ACTIVE
    assert half.is_amending
    assert half.version_in_force == v1
    assert half.pending_version.number == 2
    assert v1.as_content().goals[0].description != NEW_GOAL

    demo.sign_as(amending, mentee)
    after = fresh(amending)
    v1.refresh_from_db()
    v2 = after.version_in_force
    assert (v2.number, v2.status) == (2, AgreementVersion.Status.IN_FORCE)
    assert v1.status == AgreementVersion.Status.SUPERSEDED
    assert v1.superseded_by == v2
    assert not after.is_amending and not after.is_editable
    assert v2.data["amends"] == v1.content_hash
    assert v2.as_content().goals[0].description == NEW_GOAL
    # v1's signatures stay on v1, untouched.
    assert [s.voided_at for s in v1.signatures.all()] == [None, None]
    kinds = list(after.audit_events.values_list("kind", flat=True))
    assert kinds[-2:] == [AuditEvent.Kind.SUPERSEDED, AuditEvent.Kind.IN_FORCE]


def test_an_amendment_that_changes_nothing_cannot_be_signed(amending, mentor):
    assert amending.awaiting_signatures
    with pytest.raises(NotReadyToSign, match="Nothing differs from the version in force"):
        demo.sign_as(amending, mentor)
    assert fresh(amending).pending_version is None


def test_edit_during_amendment_voids_a_signature_on_the_amendment_only(amending, mentor, mentee):
    reword_first_goal(amending, by=mentee)
    agree(amending, Section.Kind.GOALS)
    demo.sign_as(amending, mentor)
    reword_first_goal(amending, by=mentee, text="Something else again.")
    after = fresh(amending)
    assert after.working_signatures() == []
    assert after.version_in_force.number == 1
    assert len(after.signatures_on(after.version_in_force)) == 2
    void = AgreementVersion.objects.get(number=2)
    assert void.status == AgreementVersion.Status.VOID


def test_withdrawing_restores_the_version_in_force(amending, mentor, mentee):
    reword_first_goal(amending, by=mentee)
    agree(amending, Section.Kind.GOALS)
    demo.sign_as(amending, mentor)

    fresh(amending).withdraw_amendment(by=mentee)

    after = fresh(amending)
    assert not after.is_amending and after.status == Agreement.Status.ACTIVE
    assert after.goals.all()[0].description != NEW_GOAL
    assert after.all_sections_agreed()
    assert after.amended_sections() == []
    signature = Signature.objects.get(version__number=2)
    assert signature.voided_at and "withdrew the amendment" in signature.void_reason
    # The working copy is again exactly what both signed.
    in_force = after.version_in_force
    assert content.normalise(after.canonical_content()["sections"]) == in_force.data["sections"]


def test_only_an_active_agreement_can_be_amended(ready, mentor):
    with pytest.raises(NotAmendable):
        ready.start_amendment(by=mentor)


def test_amend_and_withdraw_are_post_only(client, active, mentor):
    client_for(client, mentor)
    with assert_unchanged(active):
        for name in ("amend", "withdraw_amendment"):
            response = client.get(reverse(f"agreements:{name}", args=[active.uuid]))
            assert response.status_code == 405
    assert not fresh(active).is_amending


def test_party_starts_and_withdraws_an_amendment_from_the_page(client, active, mentee):
    client_for(client, mentee)
    page = client.get(reverse("agreements:detail", args=[active.uuid]))
    assert "Start an amendment" in page.text
    response = client.post(reverse("agreements:amend", args=[active.uuid]), follow=True)
    assert "You started an amendment" in response.text
    assert "Amendment in progress" in response.text
    assert "Nothing differs from version 1 yet." in response.text
    assert fresh(active).is_amending
    edit = client.get(reverse("agreements:section_edit", args=[active.uuid, "goals"]))
    assert edit.status_code == 200
    response = client.post(
        reverse("agreements:withdraw_amendment", args=[active.uuid]), follow=True
    )
    assert "The amendment is withdrawn" in response.text
    assert not fresh(active).is_amending


def test_outsiders_cannot_amend(client, active, outsider, program_admin):
    for user in (outsider, program_admin):
        with assert_unchanged(active):
            response = client_for(client, user).post(
                reverse("agreements:amend", args=[active.uuid])
            )
        assert response.status_code == 404
    assert not fresh(active).is_amending


def test_compare_shows_what_changed_and_who_changed_it(client, amending, mentor, mentee):
    reword_first_goal(amending, by=mentee)
    agree(amending, Section.Kind.GOALS)
    demo.sign_as(amending, mentor)
    demo.sign_as(amending, mentee)
    client_for(client, mentor)

    response = client.get(
        reverse("agreements:version_compare", args=[amending.uuid]), {"from": "1", "to": "2"}
    )

    assert response.status_code == 200
    text = response.text
    goals = text.split('id="section-goals"')[1].split("</section>")[0]
    assert "Changed by Milo Mentee" in goals
    assert "Lead a project from kick-off to delivery." in goals
    assert NEW_GOAL in goals
    term = text.split('id="section-term"')[1].split("</section>")[0]
    assert "Unchanged" in term


def test_compare_a_draft_amendment_with_the_version_in_force(client, amending, mentee):
    reword_first_goal(amending, by=mentee)
    client_for(client, mentee)
    response = client.get(reverse("agreements:version_compare", args=[amending.uuid]))
    assert response.status_code == 200
    assert "Amendment draft" in response.text
    assert NEW_GOAL in response.text


@pytest.mark.parametrize("query", [{"from": "9"}, {"to": "draft"}, {"from": "<script>"}])
def test_compare_refuses_unknown_versions(client, active, mentor, query):
    response = client_for(client, mentor).get(
        reverse("agreements:version_compare", args=[active.uuid]), query
    )
    assert response.status_code == 404


def test_version_page_shows_what_was_signed_not_the_live_names(client, active, program, mentor):
    old_name = program.name
    program.name = "Renamed Programme"
    program.save()
    client_for(client, mentor)
    response = client.get(reverse("agreements:version_detail", args=[active.uuid, 1]))
    assert response.status_code == 200
    assert old_name in response.text
    assert "Renamed Programme" not in response.text
    assert "Lead a project from kick-off to delivery." in response.text


def test_versions_list_keeps_void_versions_on_record(client, ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    reword_first_goal(ready, by=mentee)
    client_for(client, mentor)
    response = client.get(reverse("agreements:version_list", args=[ready.uuid]))
    assert response.status_code == 200
    assert "Version 1" in response.text
    assert "Void: changed before both had signed" in response.text
    assert "Goals was changed by Milo Mentee after signing." in response.text
    # A void version is not an agreement: no page of its own.
    response = client.get(reverse("agreements:version_detail", args=[ready.uuid, 1]))
    assert response.status_code == 404


def test_version_pages_are_404_for_outsiders(client, active, outsider, program_admin):
    urls = [
        reverse("agreements:version_list", args=[active.uuid]),
        reverse("agreements:version_detail", args=[active.uuid, 1]),
        reverse("agreements:version_compare", args=[active.uuid]),
        reverse("agreements:version_pdf", args=[active.uuid, 1]),
        reverse("agreements:trail", args=[active.uuid]),
    ]
    for user in (outsider, program_admin):
        client_for(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, url


def test_signing_an_amendment_says_so(client, amending, mentor):
    reword_first_goal(amending, by=mentor)
    agree(amending, Section.Kind.GOALS)
    amending = fresh(amending)
    client_for(client, mentor)
    response = client.post(
        reverse("agreements:sign", args=[amending.uuid]),
        {
            "full_name": mentor.full_name,
            "consent": "on",
            "password": PASSWORD,
            "content_hash": amending.content_hash,
        },
        follow=True,
    )
    assert "You signed the amendment." in response.text
    assert "You signed the agreement." not in response.text
