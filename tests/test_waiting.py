"""The menu's count of what waits for the person: the open proposals the
other party made for them to answer and the comments they have not read. One
query, made only when a page shows the menu to someone signed in; the home
page lists what it counts."""

import re

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse

from agreements import content, sign_on
from agreements.context_processors import waiting
from agreements.models import Program, Proposal, Section
from tests.helpers import client_for, fresh, make_agreement, make_user
from tests.test_concurrency import make_client
from tests.test_proposals import proposal_url, propose_location

pytestmark = pytest.mark.django_db

HOME = reverse("agreements:home")


def discussion_url(agreement, kind):
    return reverse("agreements:section_discussion", args=[agreement.uuid, kind])


def count_for(user, sign_on_session=None):
    """The menu's count for ``user`` in a session that logged in with the
    SocialApp ``sign_on_session``, or another way."""
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    if sign_on_session:
        request.session[sign_on.SESSION_KEY] = {
            "app": sign_on_session.pk,
            "provider": sign_on_session.name,
            "auth_time": None,
        }
    return waiting(request)["waiting"].count


def menu_link(page):
    """The menu's link to the home page, count included."""
    return re.search(r'<a class="nav-link" href="/">(.*?)</a>', page, re.DOTALL).group(1).strip()


def open_proposal(agreement, kind, *, by):
    """``by``'s open proposal on a section, made as it stands (what it says
    does not matter to the count)."""
    section = agreement.sections.get(kind=kind)
    return Proposal.objects.create(
        section=section,
        author=by,
        party=agreement.party_of(by),
        base_revision=section.revision,
        data=content.normalise(fresh(agreement).section_data(kind)),
    )


def test_it_counts_the_proposals_to_answer_and_the_comments_not_read(ready, mentor, mentee):
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    ready.comment_on("goals", by=mentee, text="Or June.")
    ready.comment_on("term", by=mentee, text="A month longer?")
    propose_location(ready, by=mentee, location="The library")

    assert count_for(mentor) == 4
    # Their own comments and their own proposal wait for nobody but the mentor.
    assert count_for(mentee) == 0


def test_the_menu_says_how_many_in_words_and_links_to_the_home_page(ready, mentor, mentee):
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    link = menu_link(make_client(mentor).get(reverse("agreements:calendar")).text)
    assert link.startswith("My agreements")
    assert '<span class="badge rounded-pill text-bg-danger" aria-hidden="true">1</span>' in link
    assert '<span class="visually-hidden">(1 thing waits for you)</span>' in link

    ready.comment_on("term", by=mentee, text="A month longer?")
    link = menu_link(make_client(mentor).get(reverse("agreements:calendar")).text)
    assert '<span class="visually-hidden">(2 things wait for you)</span>' in link
    # Nothing waits for the mentee: no badge, no words.
    assert menu_link(make_client(mentee).get(HOME).text) == "My agreements"


def test_reading_a_discussion_clears_its_count(client, ready, mentor, mentee):
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    ready.comment_on("term", by=mentee, text="A month longer?")
    client_for(client, mentor)

    client.get(discussion_url(ready, "goals"))
    assert count_for(mentor) == 1
    # Whatever comes after they read it is new again.
    ready.comment_on("goals", by=mentee, text="Or June.")
    assert count_for(mentor) == 2
    client.get(discussion_url(ready, "goals"))
    client.get(discussion_url(ready, "term"))
    assert count_for(mentor) == 0


def test_a_reply_of_ones_own_does_not_count_but_marks_the_thread_read(ready, mentor, mentee):
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    fresh(ready).comment_on("goals", by=mentor, text="May it is.")
    assert count_for(mentor) == 0
    assert count_for(mentee) == 1


def test_an_answered_proposal_no_longer_counts(client, ready, mentor, mentee):
    proposal = propose_location(ready, by=mentee, location="The library")
    assert count_for(mentor) == 1
    client_for(client, mentor).post(proposal_url(ready, proposal, "accept"))
    assert Proposal.objects.get(pk=proposal.pk).status == Proposal.Status.ACCEPTED
    assert count_for(mentor) == 0

    declined = propose_location(ready, by=mentee, location="The park")
    assert count_for(mentor) == 1
    fresh(ready).decline_proposal(declined.pk, by=mentor)
    assert count_for(mentor) == 0

    withdrawn = propose_location(ready, by=mentee, location="The garden")
    fresh(ready).withdraw_proposal(withdrawn.pk, by=mentee)
    assert count_for(mentor) == 0


def test_a_proposal_nobody_can_answer_does_not_count(active, mentor, mentee):
    """Under notice to end, an agreement takes no answer: its proposals
    lapse, and a row left open by other means does not count either."""
    proposal = propose_location(active, by=mentee, location="The park")
    assert count_for(mentor) == 1
    fresh(active).give_notice(by=mentor)
    assert count_for(mentor) == 0
    Proposal.objects.filter(pk=proposal.pk).update(status=Proposal.Status.OPEN)
    assert count_for(mentor) == 0


def test_nothing_on_someone_elses_agreement_counts(ready, mentor, mentee, outsider, program_admin):
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    open_proposal(ready, "goals", by=mentee)
    for user in (outsider, program_admin):
        assert count_for(user) == 0


def provider(name, *programs):
    app = SocialApp.objects.create(provider="openid_connect", provider_id=name, name=name)
    app.programs.set(programs)
    return app


def test_a_program_asking_for_single_sign_on_counts_only_in_a_session_with_it(
    ready, program, mentor, mentee, django_assert_num_queries
):
    """Home leaves such a program's agreements out of a session that did not
    log in with its provider, and so does the count."""
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    open_proposal(ready, "goals", by=mentee)
    own = provider("University", program)
    elsewhere = provider("College", Program.objects.create(name="Elsewhere"))
    installation = provider("Network")
    assert count_for(mentor) == 2
    program.sign_on_required = True
    program.save()

    assert count_for(mentor) == 0
    assert count_for(mentor, elsewhere) == 0
    assert count_for(mentor, installation) == 0  # the program has providers of its own
    with django_assert_num_queries(1):
        assert count_for(mentor, own) == 2
    program.sign_on_providers.clear()  # now the installation's serve it
    assert count_for(mentor, installation) == 2
    assert count_for(mentor, elsewhere) == 0


def test_the_home_page_and_the_count_leave_out_the_same_program(
    client, ready, program, mentor, mentee
):
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    provider("University", program)
    program.sign_on_required = True
    program.save()

    page = client_for(client, mentor).get(HOME).text

    assert "Read 1 new comment" not in page
    assert "wait for you" not in page and "waits for you" not in page
    assert "Log in with University" in page


def test_it_is_one_query_however_much_waits(
    program, program_admin, mentor, django_assert_num_queries
):
    mentees = [make_user(f"mentee{n}@example.com", f"Mentee {n}") for n in range(3)]
    agreements = [make_agreement(program, mentor, mentee, program_admin) for mentee in mentees]
    with django_assert_num_queries(1):
        assert count_for(mentor) == 0

    for agreement, mentee in zip(agreements, mentees, strict=True):
        for kind in Section.Kind.values:
            agreement.comment_on(kind, by=mentee, text="A thought.")
            # Their reply marks the thread read: the thought is read, the next one new.
            agreement.comment_on(kind, by=mentor, text="Mine.")
            agreement.comment_on(kind, by=mentee, text="Another.")
            open_proposal(agreement, kind, by=mentee)
            open_proposal(agreement, kind, by=mentor)
    with django_assert_num_queries(1):
        # Per section: one comment not read, one proposal to answer.
        assert count_for(mentor) == len(agreements) * len(Section.Kind) * 2


def test_it_costs_nothing_until_read_and_nothing_for_a_visitor(mentor, django_assert_num_queries):
    request = RequestFactory().get("/")
    request.user = mentor
    request.session = {}
    with django_assert_num_queries(0):
        counter = waiting(request)["waiting"]
    with django_assert_num_queries(1):
        assert counter.count == 0
        assert counter.count == 0  # read once per request
    request.user = AnonymousUser()
    with django_assert_num_queries(0):
        assert waiting(request)["waiting"].count == 0


def test_a_visitor_sees_no_count(client):
    page = client.get(reverse("login")).text
    assert "wait for you" not in page and "waits for you" not in page


def test_the_home_page_lists_what_the_count_counts(client, ready, mentor, mentee):
    ready.comment_on("goals", by=mentee, text="Could we aim for May?")
    ready.comment_on("goals", by=mentee, text="Or June.")
    ready.comment_on("term", by=mentee, text="A month longer?")
    propose_location(ready, by=mentee, location="The library")
    client_for(client, mentor)

    page = client.get(HOME).text
    goals = f'<a href="{discussion_url(ready, "goals")}">Read 2 new comments on “Goals”</a>'
    term = f'<a href="{discussion_url(ready, "term")}">Read 1 new comment on “Term and exit”</a>'
    assert goals in page and term in page
    assert "Answer the proposal of Milo Mentee on “Meeting schedule”" in page
    assert "(4 things wait for you)" in page
    # What they wrote stays on the discussion's page.
    assert "Could we aim for May?" not in page

    client.get(discussion_url(ready, "goals"))
    page = client.get(HOME).text
    assert goals not in page and term in page
    assert "Read" not in make_client(mentee).get(HOME).text.split("My agreements</h1>")[1]
