"""Proposals: instead of saving a section, a party proposes it as they would
like it; the other accepts it (it applies as an edit by its author, agreed by
both), or declines it. The section stays as it is until then; a proposal made
on an older revision cannot be accepted; the trail records the moves, never
the words."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import content, demo
from agreements.forms import SectionEditor
from agreements.models import (
    Agreement,
    AuditEvent,
    MeetingSchedule,
    Proposal,
    Section,
    SectionRevision,
    Signature,
    verify_chain,
)
from tests.helpers import (
    assert_unchanged,
    fresh,
    make_active,
    make_agreement,
    make_program,
    make_ready,
)
from tests.test_concurrency import edit_form, make_client, run_at_once

pytestmark = pytest.mark.django_db

Event = AuditEvent.Kind

STALE = "The section changed after this proposal was made, so it cannot be accepted as it is."


# Helpers ---------------------------------------------------------------------


def edit_url(agreement, kind):
    return reverse("agreements:section_edit", args=[agreement.uuid, kind])


def detail_url(agreement, kind=None):
    url = reverse("agreements:detail", args=[agreement.uuid])
    return f"{url}#section-{kind}" if kind else url


def proposal_url(agreement, proposal, action=None):
    name = f"agreements:proposal_{action}" if action else "agreements:section_proposal"
    return reverse(name, args=[agreement.uuid, proposal.section.kind, proposal.pk])


def form_of(client, agreement, kind):
    """What the section's edit form would submit as it opens, revision token included."""
    response = client.get(edit_url(agreement, kind))
    assert response.status_code == 200
    return edit_form(response)


def propose(client, agreement, kind, changes, reason=""):
    """Open the edit page, make ``changes`` (a function of the form's fields,
    giving the fields to change), and send it as a proposal."""
    fields = form_of(client, agreement, kind)
    data = {**fields, **changes(fields), "propose": "1", "proposal-reason": reason}
    return client.post(edit_url(agreement, kind), data)


def propose_location(agreement, *, by, location, reason=""):
    """``by`` proposes another meeting place through the edit page."""
    response = propose(
        make_client(by), agreement, "schedule", lambda fields: {"location": location}, reason
    )
    assert response.status_code == 302
    party = fresh(agreement).party_of(by)
    return Proposal.objects.get(section__agreement=agreement, party=party, status="open")


def section_state(agreement, kind):
    """What a proposal must leave alone: the section's content, revision,
    author and both agreed marks."""
    section = Section.objects.get(agreement=agreement, kind=kind)
    return {
        "content": content.normalise(fresh(agreement).section_data(kind)),
        "revision": section.revision,
        "updated_by": section.updated_by_id,
        "updated_at": section.updated_at,
        "mentor_agreed_at": section.mentor_agreed_at,
        "mentee_agreed_at": section.mentee_agreed_at,
    }


def card(page, kind):
    """The HTML of one section's card on the agreement page."""
    start = page.index(f'id="section-{kind}"')
    return page[start : page.index("</section>", start)]


def new_place(_fields):
    return {"location": "The library, second floor"}


def new_language(_fields):
    return {"language": "fr", "second_language": "en-gb"}


def new_goals(fields):
    """The first goal reworded, the second dropped, a third added (in the
    blank row the page offers)."""
    blank = int(fields["goals-TOTAL_FORMS"]) - 1
    assert not fields[f"goals-{blank}-description"]
    return {
        "goals-0-description": "Lead two projects from kick-off to delivery.",
        "goals-1-DELETE": "on",
        f"goals-{blank}-owner": "mentee",
        f"goals-{blank}-description": "Speak at a team meeting each month.",
        f"goals-{blank}-success_measure": "Five talks given.",
        f"goals-{blank}-target_date": "2027-04-01",
    }


@pytest.fixture
def twin(program_admin, mentor, mentee):
    """The same pair in a second program, ready and signed by the mentor like
    ``signed_once``: where the edit is typed and agreed by hand instead."""
    program = make_program("Twin Programme", program_admin)
    agreement = make_ready(make_agreement(program, mentor, mentee, program_admin))
    demo.sign_as(agreement, mentor)
    return fresh(agreement)


@pytest.fixture
def signed_once(ready, mentor):
    """Every section agreed, and the mentor has signed."""
    demo.sign_as(ready, mentor)
    return fresh(ready)


def save_and_agree(agreement, kind, user, changes):
    """``user`` saves the edit through the section's form and ``save_section``,
    then both agree it: what an accepted proposal stands for."""
    fields = form_of(make_client(user), agreement, kind)
    agreement = fresh(agreement)
    editor = SectionEditor(
        agreement, kind, agreement.party_of(user), data={**fields, **changes(fields)}
    )
    assert editor.is_valid()
    revision = agreement.sections_by_kind[kind].revision
    assert agreement.save_section(kind, by=user, expected_revision=revision, save=editor.save)
    for party in (agreement.mentor, agreement.mentee):
        fresh(agreement).agree_section(kind, by=party, seen_revision=revision + 1)


# Proposing -----------------------------------------------------------------------


def test_proposing_leaves_the_section_as_it_is(ready, mentor, mentee):
    mentee_client = make_client(mentee)
    before = section_state(ready, "schedule")

    response = propose(mentee_client, ready, "schedule", new_place, reason="Quieter.")

    assert response.status_code == 302
    assert response.url == detail_url(ready, "schedule")
    assert section_state(ready, "schedule") == before
    assert fresh(ready).status == Agreement.Status.AWAITING_SIGNATURES
    proposal = Proposal.objects.get()
    assert proposal.section == Section.objects.get(agreement=ready, kind="schedule")
    assert (proposal.author, proposal.party, proposal.status) == (mentee, "mentee", "open")
    assert (proposal.base_revision, proposal.reason) == (before["revision"], "Quieter.")
    assert proposal.data == {**before["content"], "location": "The library, second floor"}
    # The trail says a proposal was made, on which section; never what it says.
    made = ready.audit_events.get(kind=Event.PROPOSAL_MADE)
    assert made.actor == mentee
    assert made.details == {"section": "schedule", "proposal": proposal.pk}
    assert ready.audit_events.last() == made
    page = mentee_client.get(response.url).text
    assert "Your proposal is on its way to Maria Mentor." in page


def test_proposing_what_the_section_says_already_creates_nothing(ready, mentee):
    mentee_client = make_client(mentee)
    fields = form_of(mentee_client, ready, "schedule")
    with assert_unchanged(ready):
        response = mentee_client.post(
            edit_url(ready, "schedule"), {**fields, "propose": "1", "proposal-reason": "Same"}
        )
    assert response.status_code == 302
    assert "Nothing to propose: the section already says this." in (
        mentee_client.get(response.url).text
    )
    assert not Proposal.objects.exists()


def test_a_second_proposal_replaces_the_first(ready, mentee):
    first = propose_location(ready, by=mentee, location="The library")
    second = propose_location(ready, by=mentee, location="The park")

    first.refresh_from_db()
    assert (first.status, first.decided_by) == (Proposal.Status.WITHDRAWN, mentee)
    assert second.status == Proposal.Status.OPEN
    assert Proposal.objects.filter(status="open").get() == second
    assert second.data["location"] == "The park"


def test_each_party_has_one_open_proposal_of_their_own(ready, mentor, mentee):
    mine = propose_location(ready, by=mentee, location="The library")
    theirs = propose_location(ready, by=mentor, location="The park")
    assert sorted(Proposal.objects.filter(status="open").values_list("pk", flat=True)) == sorted(
        [mine.pk, theirs.pk]
    )


# Accepting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "changes"),
    [("schedule", new_place), ("goals", new_goals), ("language", new_language)],
    ids=["schedule", "goals", "language"],
)
def test_accepting_is_as_if_the_proposer_saved_it_and_both_agreed(
    signed_once, twin, mentor, mentee, kind, changes
):
    agreement = signed_once
    before = section_state(agreement, kind)
    assert propose(make_client(mentee), agreement, kind, changes).status_code == 302
    proposal = Proposal.objects.get()
    mentor_client = make_client(mentor)

    response = mentor_client.post(proposal_url(agreement, proposal, "accept"))

    assert response.status_code == 302
    assert response.url == detail_url(agreement, kind)
    label = Section.Kind(kind).label
    assert f"You accepted the proposal: {label} now reads so, agreed by both of you." in (
        mentor_client.get(response.url).text
    )
    save_and_agree(twin, kind, mentee, changes)
    accepted, typed = fresh(agreement), fresh(twin)
    assert accepted.section_data(kind) == typed.section_data(kind)
    assert accepted.section_data(kind) != before["content"]
    section = accepted.sections_by_kind[kind]
    by_hand = typed.sections_by_kind[kind]
    assert section.is_agreed and by_hand.is_agreed
    assert section.mentor_agreed_at == section.mentee_agreed_at == section.updated_at
    assert (section.updated_by, by_hand.updated_by) == (mentee, mentee)
    assert section.revision == by_hand.revision == before["revision"] + 1
    assert (
        section.revisions.get(revision=section.revision).data
        == by_hand.revisions.get(revision=by_hand.revision).data
        == content.normalise(accepted.section_data(kind))
    )
    assert accepted.status == typed.status == Agreement.Status.AWAITING_SIGNATURES
    # The mentor's signature was on the content before: it is void, as after an edit.
    assert Signature.objects.get(agreement=agreement).voided_at == section.updated_at
    assert Signature.objects.get(agreement=twin).voided_at is not None
    assert accepted.signature_of("mentor") is None
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (Proposal.Status.ACCEPTED, mentor)
    event = agreement.audit_events.get(kind=Event.PROPOSAL_ACCEPTED)
    edited = twin.audit_events.filter(kind=Event.SECTION_EDITED).last()
    assert event.actor == mentor
    assert event.details == {
        "section": kind,
        "proposal": proposal.pk,
        "proposed_by": "mentee",
        "changes": edited.details["changes"],
    }
    assert event.details["changes"]
    assert agreement.audit_events.filter(kind=Event.SIGNATURE_VOIDED).count() == 1
    assert verify_chain(fresh(agreement)) is None


def test_an_accepted_proposal_that_leaves_a_section_unfinished_is_not_agreed(ready, mentor, mentee):
    """Agreeing to an empty goal list is refused ("not complete yet"), so a
    proposal that empties it applies once accepted but is agreed by no one,
    and signing waits, as if its author had saved it."""
    response = propose(
        make_client(mentee),
        ready,
        "goals",
        lambda fields: {"goals-0-DELETE": "on", "goals-1-DELETE": "on"},
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    assert proposal.data == []
    mentor_client = make_client(mentor)

    response = mentor_client.post(proposal_url(ready, proposal, "accept"))

    assert "It is not finished yet: fill it in, then both of you agree to it." in (
        mentor_client.get(response.url).text
    )
    agreement = fresh(ready)
    assert list(agreement.goals.all()) == []
    assert not agreement.sections_by_kind["goals"].mentor_agreed_at
    assert not agreement.sections_by_kind["goals"].mentee_agreed_at
    assert agreement.status == Agreement.Status.DRAFT


def test_a_stale_proposal_cannot_be_accepted(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    # The mentor saves the section meanwhile.
    agreement = fresh(ready)
    agreement.save_section(
        "schedule",
        by=mentor,
        expected_revision=proposal.base_revision,
        save=lambda: MeetingSchedule.objects.filter(agreement=ready).update(location="The park"),
    )
    mentor_client = make_client(mentor)

    with assert_unchanged(ready):
        response = mentor_client.post(proposal_url(ready, proposal, "accept"))

    assert response.status_code == 302
    assert STALE in mentor_client.get(response.url).text
    assert fresh(ready).schedule.location == "The park"
    page = mentor_client.get(proposal_url(ready, proposal)).text
    assert STALE in page
    assert proposal_url(ready, proposal, "accept") not in page
    assert proposal_url(ready, proposal, "decline") in page


# Declining and withdrawing ---------------------------------------------------------


def test_declining_with_a_reason_changes_nothing_but_the_proposal(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    before = section_state(ready, "schedule")
    mentor_client = make_client(mentor)

    response = mentor_client.post(
        proposal_url(ready, proposal, "decline"), {"response": "The café suits me better."}
    )

    assert response.status_code == 302
    assert "You declined the proposal. The section stays as it is." in (
        mentor_client.get(response.url).text
    )
    assert section_state(ready, "schedule") == before
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (Proposal.Status.DECLINED, mentor)
    assert proposal.response == "The café suits me better."
    declined = ready.audit_events.get(kind=Event.PROPOSAL_DECLINED)
    assert (declined.actor, declined.details) == (
        mentor,
        {"section": "schedule", "proposal": proposal.pk},
    )
    page = make_client(mentee).get(proposal_url(ready, proposal)).text
    assert "Why it was declined" in page
    assert "The café suits me better." in page
    assert proposal_url(ready, proposal, "accept") not in page
    assert proposal_url(ready, proposal, "withdraw") not in page


def test_a_decline_with_an_overlong_reason_is_refused(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    mentor_client = make_client(mentor)

    with assert_unchanged(ready):
        response = mentor_client.post(
            proposal_url(ready, proposal, "decline"), {"response": "x" * 100_000}
        )

    assert response.status_code == 302
    assert response.url == proposal_url(ready, proposal)
    page = mentor_client.get(response.url).text
    assert "Ensure this value has at most 2000 characters (it has 100000)." in page
    assert Proposal.objects.get().status == Proposal.Status.OPEN


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_the_author_cannot_answer_their_own_proposal(ready, mentee, action):
    proposal = propose_location(ready, by=mentee, location="The library")
    mentee_client = make_client(mentee)

    with assert_unchanged(ready):
        response = mentee_client.post(proposal_url(ready, proposal, action), {"response": ""})

    assert response.status_code == 302
    assert "This is your own proposal: the other party accepts or declines it." in (
        mentee_client.get(response.url).text
    )
    page = mentee_client.get(proposal_url(ready, proposal)).text
    assert proposal_url(ready, proposal, "accept") not in page
    assert proposal_url(ready, proposal, "withdraw") in page


def test_only_the_author_can_withdraw(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    mentor_client = make_client(mentor)
    with assert_unchanged(ready):
        response = mentor_client.post(proposal_url(ready, proposal, "withdraw"))
    assert "Only whoever made a proposal can withdraw it." in (mentor_client.get(response.url).text)

    mentee_client = make_client(mentee)
    response = mentee_client.post(proposal_url(ready, proposal, "withdraw"))

    assert "You withdrew your proposal." in mentee_client.get(response.url).text
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == (Proposal.Status.WITHDRAWN, mentee)
    assert ready.audit_events.filter(kind=Event.PROPOSAL_WITHDRAWN).count() == 1
    # Withdrawn, it can no longer be accepted.
    with assert_unchanged(ready):
        response = mentor_client.post(proposal_url(ready, proposal, "accept"))
    assert "This proposal is no longer open." in mentor_client.get(response.url).text


# Who may see and answer ------------------------------------------------------------


@pytest.mark.parametrize("role", ["outsider", "program_admin"])
def test_anyone_but_the_pair_gets_404_and_changes_nothing(client, ready, mentee, request, role):
    proposal = propose_location(ready, by=mentee, location="The library", reason="Quieter")
    client.force_login(request.getfixturevalue(role))
    with assert_unchanged(ready):
        assert client.get(proposal_url(ready, proposal)).status_code == 404
        for action in ("accept", "decline", "withdraw"):
            response = client.post(proposal_url(ready, proposal, action), {"response": ""})
            assert response.status_code == 404, action
    assert Proposal.objects.get().status == Proposal.Status.OPEN


def test_a_proposal_of_another_section_or_agreement_is_404(ready, twin, mentor, mentee):
    proposal = propose_location(twin, by=mentee, location="The library")
    mentor_client = make_client(mentor)
    elsewhere = reverse("agreements:proposal_accept", args=[ready.uuid, "schedule", proposal.pk])
    wrong_kind = reverse("agreements:proposal_accept", args=[twin.uuid, "goals", proposal.pk])
    with assert_unchanged(ready, twin):
        assert mentor_client.post(elsewhere).status_code == 404
        assert mentor_client.post(wrong_kind).status_code == 404


def test_the_answers_are_post_only(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    mentor_client = make_client(mentor)
    with assert_unchanged(ready):
        for action in ("accept", "decline", "withdraw"):
            assert mentor_client.get(proposal_url(ready, proposal, action)).status_code == 405


def test_a_proposal_on_an_agreement_in_force_starts_an_amendment_once_accepted(
    active, mentor, mentee
):
    in_force = fresh(active).version_in_force
    page = make_client(mentor).get(detail_url(active)).text
    assert f'href="{edit_url(active, "schedule")}"' in card(page, "schedule")
    assert "Propose a change" in card(page, "schedule")
    form = make_client(mentor).get(edit_url(active, "schedule")).text
    assert "This agreement is in force, so a change to it is proposed, not saved." in form
    assert "Save Meeting schedule" not in form

    proposal = propose_location(active, by=mentor, location="The park")

    after = fresh(active)
    assert not after.is_amending
    assert after.section_data("schedule")["location"] != "The park"
    assert after.audit_events.order_by("sequence").last().kind == Event.PROPOSAL_MADE
    # The other party accepts it: an amendment starts, and the proposal
    # applies to its draft; the version in force stays.
    make_client(mentee).post(proposal_url(active, proposal, "accept"))
    accepted = fresh(active)
    assert accepted.is_amending
    kinds = list(accepted.audit_events.order_by("sequence").values_list("kind", flat=True))
    assert Event.AMENDMENT_STARTED in kinds[kinds.index(Event.PROPOSAL_MADE) :]
    assert accepted.section_data("schedule")["location"] == "The park"
    assert accepted.version_in_force == in_force
    assert [s.kind for s in accepted.amended_sections()] == ["schedule"]
    assert verify_chain(accepted) is None


@pytest.mark.parametrize("answer", ["decline", "withdraw"])
def test_a_proposal_on_an_agreement_in_force_declined_or_withdrawn_leaves_it_as_it_was(
    active, mentor, mentee, answer
):
    proposal = propose_location(active, by=mentor, location="The park")
    by = mentee if answer == "decline" else mentor
    before = section_state(active, "schedule")
    response = make_client(by).post(proposal_url(active, proposal, answer))
    assert response.status_code == 302
    assert section_state(active, "schedule") == before
    proposal.refresh_from_db()
    assert proposal.status == ("declined" if answer == "decline" else "withdrawn")
    after = fresh(active)
    assert not after.is_amending
    assert after.audit_events.filter(kind=Event.AMENDMENT_STARTED).count() == 0


def test_proposing_what_an_agreement_in_force_says_starts_nothing(active, mentor):
    with assert_unchanged(active):
        response = propose(make_client(mentor), active, "schedule", lambda fields: {})
    assert response.status_code == 302
    assert not fresh(active).is_amending
    assert not Proposal.objects.exists()


def test_an_agreement_under_notice_takes_no_proposal(active, mentor, mentee):
    fresh(active).give_notice(by=mentee)
    mentor_client = make_client(mentor)
    assert mentor_client.get(edit_url(active, "schedule")).status_code == 403
    with assert_unchanged(active):
        response = mentor_client.post(
            edit_url(active, "schedule"),
            {"revision": "1", "location": "The park", "propose": "1"},
        )
    assert response.status_code == 403
    assert not Proposal.objects.exists()
    assert "Propose a change" not in mentor_client.get(detail_url(active)).text


def test_a_proposal_left_open_from_the_draft_cannot_be_accepted_once_signed(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    demo.sign_as(ready, mentor)
    demo.sign_as(ready, mentee)
    assert fresh(ready).status == Agreement.Status.ACTIVE
    mentor_client = make_client(mentor)

    with assert_unchanged(ready):
        response = mentor_client.post(proposal_url(ready, proposal, "accept"))

    assert "This proposal is no longer open." in mentor_client.get(response.url).text
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.LAPSED
    assert fresh(ready).content_in_force.schedule.location != "The library"
    page = mentor_client.get(proposal_url(ready, proposal)).text
    assert proposal_url(ready, proposal, "accept") not in page


# At the same moment ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="Row locks decide this race as in production: set DATABASE_URL to a PostgreSQL server.",
)
def test_accepting_while_the_proposer_saves_lets_exactly_one_through(agreement, mentor, mentee):
    ready = make_ready(agreement)
    proposal = propose_location(ready, by=mentor, location="The library")
    mentor_client, mentee_client = make_client(mentor), make_client(mentee)
    fields = form_of(mentor_client, ready, "schedule")
    base = int(fields["revision"])
    assert base == proposal.base_revision

    def accept():
        return mentee_client.post(proposal_url(ready, proposal, "accept"))

    def save():
        return mentor_client.post(edit_url(ready, "schedule"), {**fields, "location": "The park"})

    accepted, saved = run_at_once(accept, save)

    assert accepted.status_code == 302
    assert saved.status_code in {302, 409}
    proposal.refresh_from_db()
    agreement = fresh(ready)
    section = agreement.sections_by_kind["schedule"]
    made = agreement.audit_events.get(kind=Event.PROPOSAL_MADE)
    events = agreement.audit_events.filter(
        kind__in=[Event.PROPOSAL_ACCEPTED, Event.SECTION_EDITED], sequence__gt=made.sequence
    )
    if saved.status_code == 409:
        # The acceptance came first: the save, made on the older revision, was refused.
        assert proposal.status == Proposal.Status.ACCEPTED
        assert agreement.schedule.location == "The library"
        assert section.is_agreed
        assert [event.kind for event in events] == [Event.PROPOSAL_ACCEPTED]
    else:
        # The save came first: the proposal, now stale, was not accepted.
        assert proposal.status == Proposal.Status.OPEN
        assert agreement.schedule.location == "The park"
        assert not section.is_agreed
        assert [event.kind for event in events] == [Event.SECTION_EDITED]
        assert STALE in mentee_client.get(accepted.url).text
    assert section.revision == base + 1
    assert section.updated_by == mentor
    revisions = SectionRevision.objects.filter(section=section)
    assert list(revisions.values_list("revision", flat=True)) == list(range(base + 2))
    assert revisions.get(revision=base + 1).data == content.normalise(
        agreement.section_data("schedule")
    )
    assert verify_chain(fresh(agreement)) is None


# The agreement page ---------------------------------------------------------------


def test_the_card_tells_each_party_what_waits(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    link = proposal_url(ready, proposal)

    mentor_card = card(make_client(mentor).get(detail_url(ready)).text, "schedule")
    assert "<bdi>Milo Mentee</bdi> proposes a change: read it and answer" in mentor_card
    assert link in mentor_card
    mentee_card = card(make_client(mentee).get(detail_url(ready)).text, "schedule")
    assert "Your proposal, waiting for <bdi>Maria Mentor</bdi>" in mentee_card
    assert link in mentee_card
    assert "proposes a change" not in card(make_client(mentor).get(detail_url(ready)).text, "goals")

    fresh(ready).withdraw_proposal(proposal.pk, by=mentee)
    assert link not in make_client(mentor).get(detail_url(ready)).text


def test_the_agreement_page_costs_the_same_however_many_proposals(
    ready, mentor, mentee, django_assert_num_queries
):
    """Two parties, one open proposal each per section: sixteen at most."""
    mentor_client = make_client(mentor)
    propose_location(ready, by=mentee, location="The library")
    mentor_client.get(detail_url(ready))
    with CaptureQueriesContext(connection) as one:
        page = mentor_client.get(detail_url(ready)).text
    assert page.count("proposes a change: read it and answer") == 1

    for section in Section.objects.filter(agreement=ready):
        data = fresh(ready).section_data(section.kind)
        for user in (mentor, mentee):
            Proposal.objects.get_or_create(
                section=section,
                party=ready.party_of(user),
                status=Proposal.Status.OPEN,
                defaults={
                    "author": user,
                    "base_revision": section.revision,
                    "data": content.normalise(data),
                },
            )
    assert Proposal.objects.filter(status="open").count() == 2 * len(Section.Kind)

    with django_assert_num_queries(len(one)):
        page = mentor_client.get(detail_url(ready)).text
    assert page.count("proposes a change: read it and answer") == len(Section.Kind)
    assert page.count("Your proposal, waiting for") == len(Section.Kind)


def test_accepting_a_goals_proposal_in_an_amendment_keeps_each_goals_progress(
    mentor, mentee, agreement
):
    """A reworded goal stays the same goal: what check-ins said of it, and
    whether it was achieved, stay with it, as a save would keep them."""
    active = make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=60))
    checkin = active.content_in_force.checkins[0]
    goals = list(fresh(active).goals.all())
    fresh(active).write_checkin_record(
        planned_date=checkin.date,
        held_on=checkin.date,
        progress=[(goals[0], "done", ""), (goals[1], "on_track", "")],
        working="yes",
        note="",
        by=mentor,
    )
    fresh(active).start_amendment(by=mentee)
    achieved = fresh(active).achieved_goal_ids()
    assert achieved == {goals[0].pk}

    response = propose(
        make_client(mentee),
        active,
        "goals",
        lambda fields: {"goals-1-description": "Practise coaching, not advising."},
    )
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    make_client(mentor).post(proposal_url(active, proposal, "accept"))

    after = fresh(active)
    assert [goal.pk for goal in after.goals.all()] == [goal.pk for goal in goals]
    assert after.goals.get(pk=goals[1].pk).description == "Practise coaching, not advising."
    assert after.achieved_goal_ids() == achieved
    assert set(after.goal_statuses()) == {goals[0].pk, goals[1].pk}


def test_countering_opens_the_form_filled_in_with_the_proposal(ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    mentor_client = make_client(mentor)

    page = mentor_client.get(proposal_url(ready, proposal)).text
    counter = f"{edit_url(ready, 'schedule')}?counter={proposal.pk}"
    assert counter in page
    form = mentor_client.get(counter).text
    assert 'value="The library"' in form
    # Only a counter-proposal can be sent from it.
    assert "Send the counter-proposal" in form
    assert "Save Meeting schedule" not in form
    # The mentor's own proposal cannot be "countered" by the mentor: the form opens as it is.
    own = propose_location(ready, by=mentor, location="The park")
    assert (
        'value="The park"'
        not in mentor_client.get(f"{edit_url(ready, 'schedule')}?counter={own.pk}").text
    )


def counter(agreement, proposal, *, by, location):
    """``by`` opens the form on ``proposal``, as its page's link does, and
    sends it back with another place."""
    client = make_client(by)
    url = f"{edit_url(agreement, proposal.section.kind)}?counter={proposal.pk}"
    fields = edit_form(client.get(url))
    assert fields["counters"] == str(proposal.pk)
    data = {**fields, "location": location, "propose": "1", "proposal-reason": ""}
    assert client.post(edit_url(agreement, proposal.section.kind), data).status_code == 302
    return Proposal.objects.get(section=proposal.section, author=by, status="open")


def test_a_counter_proposal_answers_the_one_it_counters(ready, mentor, mentee):
    mine = propose_location(ready, by=mentee, location="The library")

    theirs = counter(ready, mine, by=mentor, location="The park")

    mine.refresh_from_db()
    assert (mine.status, mine.decided_by, theirs.counters) == (
        Proposal.Status.COUNTERED,
        mentor,
        mine,
    )
    event = ready.audit_events.get(kind=Event.PROPOSAL_COUNTERED)
    assert event.details == {"section": "schedule", "proposal": theirs.pk, "counters": mine.pk}
    mentee_client = make_client(mentee)
    assert proposal_url(ready, theirs) in mentee_client.get(proposal_url(ready, mine)).text
    assert proposal_url(ready, mine) in mentee_client.get(proposal_url(ready, theirs)).text
    # The countered proposal can no longer be accepted.
    with assert_unchanged(ready):
        make_client(mentor).post(proposal_url(ready, mine, "accept"))
    assert "The park" not in str(fresh(ready).section_data("schedule"))
    assert verify_chain(fresh(ready)) is None


def test_countering_a_proposal_withdrawn_meanwhile_still_proposes(ready, mentor, mentee):
    mine = propose_location(ready, by=mentee, location="The library")
    client = make_client(mentor)
    fields = edit_form(client.get(f"{edit_url(ready, 'schedule')}?counter={mine.pk}"))
    fresh(ready).withdraw_proposal(mine.pk, by=mentee)

    data = {**fields, "location": "The park", "propose": "1", "proposal-reason": ""}
    assert client.post(edit_url(ready, "schedule"), data).status_code == 302

    theirs = Proposal.objects.get(author=mentor, status="open")
    assert theirs.counters is None
    assert ready.audit_events.filter(kind=Event.PROPOSAL_COUNTERED).count() == 0
    mine.refresh_from_db()
    assert mine.status == Proposal.Status.WITHDRAWN


def test_accepting_a_counter_proposal_closes_the_one_it_answered(ready, mentor, mentee):
    mine = propose_location(ready, by=mentee, location="The library")
    theirs = counter(ready, mine, by=mentor, location="The park")

    make_client(mentee).post(proposal_url(ready, theirs, "accept"))

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert (theirs.status, mine.status) == (Proposal.Status.ACCEPTED, Proposal.Status.COUNTERED)
    assert fresh(ready).section_data("schedule")["location"] == "The park"
    page = make_client(mentee).get(reverse("agreements:detail", args=[ready.uuid])).text
    assert "Your proposal, waiting for" not in page


def test_the_home_page_says_whose_answer_a_proposal_waits_for(ready, mentor, mentee):
    propose_location(ready, by=mentee, location="The library")
    mentor_home = make_client(mentor).get(reverse("agreements:home")).text
    mentee_home = make_client(mentee).get(reverse("agreements:home")).text
    assert "Answer the proposal of Milo Mentee on “Meeting schedule”" in mentor_home
    assert "Waiting for Maria Mentor to answer your proposal on “Meeting schedule”" in mentee_home
    assert "The library" not in mentor_home + mentee_home


def test_notice_to_end_lapses_a_proposal_on_the_agreement_in_force(active, mentor, mentee):
    proposal = propose_location(active, by=mentor, location="The park")
    fresh(active).give_notice(by=mentee)
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.LAPSED
    with assert_unchanged(active):
        response = make_client(mentee).post(proposal_url(active, proposal, "accept"))
    assert response.status_code == 302
    assert not fresh(active).is_amending


def test_a_counter_proposal_that_changes_nothing_is_refused(ready, mentor, mentee):
    mine = propose_location(ready, by=mentee, location="The library")
    client = make_client(mentor)
    fields = edit_form(client.get(f"{edit_url(ready, 'schedule')}?counter={mine.pk}"))

    with assert_unchanged(ready):
        response = client.post(
            edit_url(ready, "schedule"), {**fields, "propose": "1", "proposal-reason": ""}
        )

    assert response.status_code == 200
    assert "Your counter-proposal says what theirs says: accept theirs instead." in response.text
    mine.refresh_from_db()
    assert mine.status == Proposal.Status.OPEN


def test_the_home_page_lists_a_proposal_on_the_agreement_in_force(active, mentor, mentee):
    propose_location(active, by=mentee, location="The library")
    mentor_home = make_client(mentor).get(reverse("agreements:home")).text
    assert "Answer the proposal of Milo Mentee on “Meeting schedule”" in mentor_home


def test_the_signature_block_warns_that_signing_lapses_open_proposals(ready, mentor, mentee):
    page = make_client(mentor).get(detail_url(ready)).text
    assert "still open" not in page
    propose_location(ready, by=mentee, location="The library")
    page = make_client(mentor).get(detail_url(ready)).text
    warning = "A proposal is still open: once you have both signed, it can no longer be accepted."
    assert warning in page
