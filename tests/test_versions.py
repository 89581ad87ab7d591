"""Versions and amendments: what is in force, what replaces it, and comparing them."""

import pytest
from django.urls import reverse
from django.utils.formats import date_format

from agreements import content, demo
from agreements.exceptions import NotAmendable, NotReadyToSign
from agreements.models import (
    Agreement,
    AgreementVersion,
    AuditEvent,
    Proposal,
    Section,
    Signature,
)
from tests.helpers import PASSWORD, assert_unchanged, client_for, fresh
from tests.test_concurrency import make_client
from tests.test_proposals import propose, save_and_agree

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


# Which changes came through an accepted proposal -----------------------------


def compare(client, agreement, old, new):
    return client.get(
        reverse("agreements:version_compare", args=[agreement.uuid]), {"from": old, "to": new}
    ).text


def section_of(page, kind):
    return page.split(f'id="section-{kind}"')[1].split("</section>")[0]


def accepted_by(proposal):
    """The words of the note on a change that came through ``proposal``."""
    proposal.refresh_from_db()
    on = date_format(proposal.decided_at, "DATE_FORMAT")
    url = reverse(
        "agreements:section_proposal",
        args=[proposal.section.agreement.uuid, "schedule", proposal.pk],
    )
    return (
        f'Through <a href="{url}"><bdi>{proposal.author.full_name}</bdi>’s proposal</a>, '
        f"accepted by <bdi>{proposal.decided_by.full_name}</bdi> on {on}"
    )


def row_of(section, field):
    """The row of the comparison table that shows ``field``."""
    return section.split(f'class="stack-inline">{field}</td>')[1].split("</tr>")[0]


@pytest.fixture
def amended_by_proposal(active, mentor, mentee):
    """Version 2: the mentor's proposal, accepted by the mentee, moved the
    meetings to the park and made them longer; the mentee then moved them
    again, to the library, saving it themself; they also reworded a goal."""
    propose_schedule(active, by=mentor, changes={"location": "The park", "duration_minutes": "90"})
    proposal = Proposal.objects.get(status="open")
    make_client(mentee).post(
        reverse("agreements:proposal_accept", args=[active.uuid, "schedule", proposal.pk])
    )
    save_and_agree(active, "schedule", mentee, lambda _fields: {"location": "The library"})
    reword_first_goal(active, by=mentee)
    agree(active, Section.Kind.GOALS)
    demo.sign_as(fresh(active), mentor)
    demo.sign_as(fresh(active), mentee)
    assert fresh(active).version_in_force.number == 2
    return Proposal.objects.get(pk=proposal.pk)


def propose_schedule(agreement, *, by, changes):
    response = propose(make_client(by), agreement, "schedule", lambda _fields: changes)
    assert response.status_code == 302


def test_compare_says_which_changes_came_through_an_accepted_proposal(
    client, amended_by_proposal, mentor
):
    agreement = amended_by_proposal.section.agreement
    page = compare(client_for(client, mentor), agreement, "1", "2")

    schedule = section_of(page, "schedule")
    # The proposal made the meetings longer, and nothing changed that since.
    assert accepted_by(amended_by_proposal) in row_of(schedule, "Duration (minutes)")
    # It moved them too, but the mentee's own save moved them last.
    location = row_of(schedule, "Place or link")
    assert "Through" not in location
    assert "Saved by <bdi>Milo Mentee</bdi>, not through a proposal" in location
    goals = section_of(page, "goals")
    assert "Saved by <bdi>Milo Mentee</bdi>, not through a proposal" in goals
    assert "proposal</a>" not in goals
    assert "Unchanged" in section_of(page, "term")


def test_compare_either_way_round_and_with_the_draft_says_the_same(
    client, amended_by_proposal, mentor
):
    agreement = amended_by_proposal.section.agreement
    client_for(client, mentor)
    note = accepted_by(amended_by_proposal)
    backwards = section_of(compare(client, agreement, "2", "1"), "schedule")
    assert note in row_of(backwards, "Duration (minutes)")

    fresh(agreement).start_amendment(by=mentor)
    assert "Through" not in compare(client, agreement, "2", "draft")
    for old, new in (("1", "draft"), ("draft", "1")):
        schedule = section_of(compare(client, agreement, old, new), "schedule")
        assert note in row_of(schedule, "Duration (minutes)")


def test_compare_costs_the_same_however_many_revisions_and_proposals(
    client, amended_by_proposal, mentor, mentee, django_assert_num_queries
):
    agreement = amended_by_proposal.section.agreement
    client_for(client, mentor)
    url = reverse("agreements:version_compare", args=[agreement.uuid])
    query = {"from": "1", "to": "3"}
    fresh(agreement).start_amendment(by=mentor)
    with django_assert_num_queries(COMPARE_QUERIES):
        client.get(url, {"from": "1", "to": "2"})

    for number in range(4):
        propose_schedule(agreement, by=mentor, changes={"location": f"Room {number}"})
        proposal = Proposal.objects.get(status="open")
        make_client(mentee).post(
            reverse("agreements:proposal_accept", args=[agreement.uuid, "schedule", proposal.pk])
        )
        reword_first_goal(agreement, by=mentee, text=f"Goal, take {number}.")
    agree(agreement, Section.Kind.GOALS)
    demo.sign_as(fresh(agreement), mentor)
    demo.sign_as(fresh(agreement), mentee)

    with django_assert_num_queries(COMPARE_QUERIES):
        page = client.get(url, query).text
    assert page.count("’s proposal</a>") == 2  # duration, by the first; location, by the last
    assert f"<bdi>{mentee.full_name}</bdi>, not through a proposal" in section_of(page, "goals")


def test_history_marks_each_revision_that_came_through_a_proposal(
    client, amended_by_proposal, mentor, django_assert_num_queries
):
    agreement = amended_by_proposal.section.agreement
    client_for(client, mentor)
    url = reverse("agreements:section_history", args=[agreement.uuid, "schedule"])
    with django_assert_num_queries(HISTORY_QUERIES):
        page = client.get(url).text
    assert page.count(accepted_by(amended_by_proposal)) == 1
    assert "not through a proposal" not in page
    newest, through = page.split("Revision ")[1:3]
    assert "’s proposal</a>" not in newest
    assert "’s proposal</a>" in through


# The session and the user, the agreement with its working copy (its three
# one-to-one sections in the agreement's query) and versions, and the
# revisions between the two versions with their proposals.
COMPARE_QUERIES = 12
HISTORY_QUERIES = 6
