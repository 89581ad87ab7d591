"""The pair's side of sharing sections with the program: consents, withdrawing,
the emails, and the record of each time an admin read what was shared."""

import pytest
from django.core import mail
from django.urls import reverse

from agreements.models import AuditEvent, SharingConsent
from agreements.services import pairing_create
from tests.helpers import assert_unchanged, client_for, fresh, make_user

CANARY = "canary-5e1d-goal-text-stays-with-the-pair"
Kind = AuditEvent.Kind


def url(name, agreement, *args):
    return reverse(f"agreements:{name}", args=[agreement.uuid, *args])


def share(client, agreement, kind="goals"):
    return client.post(url("sharing_share", agreement, kind))


def withdraw(client, agreement, kind="goals"):
    return client.post(url("sharing_withdraw", agreement, kind))


def page(client, agreement):
    response = client.get(url("sharing", agreement))
    assert response.status_code == 200
    return response.text


def flash(response):
    """The message this request added (unread ones from earlier requests come first)."""
    return [str(message) for message in response.wsgi_request._messages][-1]


def record_admin_view(agreement, admin, sections=("Goals",)):
    agreement.audit_access(
        Kind.VIEWED,
        actor=admin,
        origin=None,
        details={"by": "program admin", "sections": list(sections)},
    )


def sharing_events(agreement):
    return list(
        agreement.audit_events.filter(
            kind__in=[Kind.SHARING_CONSENTED, Kind.SHARING_WITHDRAWN]
        ).order_by("sequence")
    )


# Consenting and withdrawing ------------------------------------------------------


def test_one_consent_does_not_share(client, agreement, mentor, mentee):
    client_for(client, mentor)
    response = share(client, agreement)
    assert response.status_code == 302
    assert response["Location"] == url("sharing", agreement) + "#sharing-goals"
    assert flash(response) == "You agreed to share Goals; it is shared once Milo Mentee agrees too."
    assert fresh(agreement).shared_kinds() == []
    assert "You agreed to share it — waiting for Milo Mentee" in page(client, agreement)
    client_for(client, mentee)
    assert "Maria Mentor agreed to share it — waiting for you" in page(client, agreement)


def test_both_consents_share_the_section(client, agreement, mentor, mentee):
    share(client_for(client, mentor), agreement)
    response = share(client_for(client, mentee), agreement)
    assert flash(response).startswith("Goals is now shared with Test Programme.")
    assert fresh(agreement).shared_kinds() == ["goals"]
    text = page(client, agreement)
    assert "Shared with the program since" in text
    assert "Stop sharing Goals" in text
    # The other sections stay private.
    assert text.count("Private to the two of you") == 6
    [first, second] = sharing_events(agreement)
    assert first.details == {"section": "Goals", "shared": False}
    assert second.details == {"section": "Goals", "shared": True}
    assert second.actor == mentee


def test_consenting_twice_changes_nothing(client, agreement, mentor):
    client_for(client, mentor)
    share(client, agreement)
    response = share(client, agreement)
    assert flash(response) == "You had already agreed to share Goals; nothing changed."
    assert SharingConsent.objects.filter(agreement=agreement).count() == 1
    assert len(sharing_events(agreement)) == 1


@pytest.mark.parametrize("by", ["mentor", "mentee"])
def test_withdrawing_by_either_clears_both_consents(client, agreement, by, request):
    share(client_for(client, agreement.mentor), agreement)
    share(client_for(client, agreement.mentee), agreement)
    client_for(client, request.getfixturevalue(by))
    response = withdraw(client, agreement)
    assert response.status_code == 302
    assert flash(response).startswith("Goals is no longer shared with Test Programme")
    assert not SharingConsent.objects.filter(agreement=agreement).exists()
    assert fresh(agreement).shared_kinds() == []
    text = page(client, agreement)
    assert "Shared with the program since" not in text
    assert text.count("Private to the two of you") == 7
    assert sharing_events(agreement)[-1].kind == Kind.SHARING_WITHDRAWN


def test_sharing_again_after_a_withdrawal_needs_both_again(client, agreement, mentor, mentee):
    share(client_for(client, mentor), agreement)
    share(client_for(client, mentee), agreement)
    withdraw(client, agreement)
    share(client_for(client, mentor), agreement)
    assert fresh(agreement).shared_kinds() == []


def test_declining_the_other_partys_request_keeps_it_private(client, agreement, mentor, mentee):
    share(client_for(client, mentor), agreement)
    response = withdraw(client_for(client, mentee), agreement)
    assert (
        flash(response) == "Goals stays private: you declined Maria Mentor's request to share it."
    )
    assert not SharingConsent.objects.filter(agreement=agreement).exists()


def test_withdrawing_what_was_not_shared_changes_nothing(client, agreement, mentor):
    response = withdraw(client_for(client, mentor), agreement)
    assert flash(response) == "Goals was not shared; nothing changed."
    assert sharing_events(agreement) == []


# Refusals ------------------------------------------------------------------------


@pytest.mark.parametrize("move", ["sharing_share", "sharing_withdraw"])
def test_share_and_withdraw_refuse_get(client, agreement, mentor, mentee, move):
    share(client_for(client, mentee), agreement)
    client_for(client, mentor)
    with assert_unchanged(agreement):
        assert client.get(url(move, agreement, "goals")).status_code == 405
    assert SharingConsent.objects.filter(agreement=agreement).count() == 1
    assert len(sharing_events(agreement)) == 1


def test_share_needs_the_csrf_token(agreement, mentor):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(mentor)
    with assert_unchanged(agreement):
        assert share(client, agreement).status_code == 403
    assert not SharingConsent.objects.filter(agreement=agreement).exists()


@pytest.fixture
def other_pair_mentor(program, program_admin):
    """The mentor of another pairing in the same program."""
    mentor = make_user("other-mentor@example.com", "Oscar Othermentor")
    mentee = make_user("other-mentee@example.com", "Ola Othermentee")
    pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=program_admin)
    return mentor


@pytest.mark.parametrize("who", ["outsider", "program_admin", "other_pair_mentor"])
def test_only_the_two_parties_reach_sharing(client, agreement, mentee, who, request):
    share(client_for(client, mentee), agreement)
    client_for(client, request.getfixturevalue(who))
    with assert_unchanged(agreement):
        assert client.get(url("sharing", agreement)).status_code == 404
        assert share(client, agreement).status_code == 404
        assert withdraw(client, agreement).status_code == 404
    assert list(
        SharingConsent.objects.filter(agreement=agreement).values_list("party", flat=True)
    ) == ["mentee"]
    assert len(sharing_events(agreement)) == 1


def test_anonymous_users_are_sent_to_log_in(client, agreement):
    with assert_unchanged(agreement):
        responses = (client.get(url("sharing", agreement)), share(client, agreement))
    for response in responses:
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")
    assert not SharingConsent.objects.filter(agreement=agreement).exists()


def test_an_unknown_section_is_404(client, agreement, mentor):
    client_for(client, mentor)
    path = f"/agreements/{agreement.uuid}/sharing/secrets/share/"
    with assert_unchanged(agreement):
        assert client.post(path).status_code == 404
    assert not SharingConsent.objects.filter(agreement=agreement).exists()


def test_an_ended_agreement_takes_no_new_consent(client, agreement, mentor, program_admin):
    agreement.end_by_program(by=program_admin, note="The mentee left the company.")
    client_for(client, mentor)
    text = page(client, agreement)
    assert "This agreement has ended, so no more sections can be shared" in text
    assert url("sharing_share", agreement, "goals") not in text
    with assert_unchanged(agreement):
        response = share(client, agreement)
    assert response.status_code == 302
    assert flash(response) == (
        "Goals was not shared. The agreement has ended: no more sections can be shared. "
        "You can still stop sharing."
    )
    assert not SharingConsent.objects.filter(agreement=agreement).exists()


def test_an_ended_agreement_can_still_stop_sharing(
    client, agreement, mentor, mentee, program_admin
):
    share(client_for(client, mentor), agreement)
    share(client_for(client, mentee), agreement)
    agreement.end_by_program(by=program_admin, note="")
    assert "Stop sharing Goals" in page(client, agreement)
    withdraw(client, agreement)
    assert fresh(agreement).shared_kinds() == []


# Emails --------------------------------------------------------------------------


def test_the_other_party_is_emailed_without_any_content(
    client, agreement, mentor, mentee, django_capture_on_commit_callbacks
):
    agreement.goals.create(
        owner="mentee", description=CANARY, success_measure=CANARY, target_date="2027-03-01"
    )
    client_for(client, mentor)
    with django_capture_on_commit_callbacks(execute=True):
        share(client, agreement)
    assert [m.to for m in mail.outbox] == [[mentee.email]]
    message = mail.outbox[0]
    assert "Maria Mentor would like to share “Goals” with Test Programme" in message.subject
    assert url("sharing", agreement) in message.body
    client_for(client, mentee)
    with django_capture_on_commit_callbacks(execute=True):
        share(client, agreement)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw(client, agreement)
    assert [m.to for m in mail.outbox] == [[mentee.email], [mentor.email], [mentor.email]]
    assert "is now shared" in mail.outbox[1].subject
    assert "stopped sharing" in mail.outbox[2].subject
    for message in mail.outbox:
        assert CANARY not in message.subject + message.body


def test_a_refused_consent_sends_no_email(
    client, agreement, mentor, program_admin, django_capture_on_commit_callbacks
):
    agreement.end_by_program(by=program_admin, note="")
    client_for(client, mentor)
    with django_capture_on_commit_callbacks(execute=True):
        share(client, agreement)
    assert mail.outbox == []


# What the pair sees of the program's reading -------------------------------------


def test_admin_views_of_shared_content_are_listed_newest_first(
    client, agreement, mentor, mentee, program_admin, other_admin
):
    share(client_for(client, mentor), agreement)
    share(client_for(client, mentee), agreement)
    record_admin_view(agreement, program_admin, ["Goals"])
    record_admin_view(agreement, other_admin, ["Goals", "Term and exit"])
    # A site admin opening the pairing is in the trail, not in this list.
    agreement.audit_access(
        Kind.VIEWED, actor=program_admin, origin=None, details={"where": "site administration"}
    )
    text = page(client, agreement)
    listed = text[text.index('id="admin-views"') :]
    assert "No program admin has read" not in listed
    assert listed.index("Otto Otheradmin") < listed.index("Ada Admin")
    assert "Goals, Term and exit" in listed
    assert listed.count("an admin of Test Programme") == 2


def test_no_admin_views_yet(client, agreement, mentor):
    assert "No program admin has read shared content" in page(client_for(client, mentor), agreement)


def test_sharing_page_runs_a_constant_number_of_queries(
    client, agreement, mentor, mentee, program_admin, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client_for(client, mentor)
    with CaptureQueriesContext(connection) as few:
        page(client, agreement)
    # Counted now: the next request resets the connection's query log.
    expected = len(few)
    for kind in ("goals", "term", "contact"):
        share(client_for(client, mentor), agreement, kind)
        share(client_for(client, mentee), agreement, kind)
    for _ in range(10):
        record_admin_view(agreement, program_admin, ["Goals", "Term and exit"])
    with django_assert_max_num_queries(expected):
        text = page(client, agreement)
    assert text.count("Ada Admin") == 10


# The agreement page and the trail ------------------------------------------------


def test_the_agreement_page_marks_shared_sections(client, agreement, mentor, mentee):
    client_for(client, mentor)
    detail = client.get(url("detail", agreement)).text
    assert url("sharing", agreement) in detail
    assert "Shared with the program</a>" not in detail
    share(client, agreement)
    assert "waiting for Milo Mentee" in client.get(url("detail", agreement)).text
    client_for(client, mentee)
    assert "waiting for your consent" in client.get(url("detail", agreement)).text
    share(client, agreement)
    detail = client.get(url("detail", agreement)).text
    assert detail.count("Shared with the program</a>") == 1
    goals = detail[detail.index('id="section-goals"') :]
    goals = goals[: goals.index("</section>")]
    assert "Shared with the program</a>" in goals
    assert "Sharing (1 shared)" in detail


def test_the_agreement_page_query_count_does_not_grow_with_sharing(
    client, agreement, mentor, mentee, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client_for(client, mentor)
    with CaptureQueriesContext(connection) as before:
        client.get(url("detail", agreement))
    expected = len(before)
    for kind in ("goals", "term", "contact", "schedule"):
        share(client_for(client, mentor), agreement, kind)
        share(client_for(client, mentee), agreement, kind)
    share(client_for(client, mentor), agreement, "checkins")
    with django_assert_max_num_queries(expected):
        detail = client.get(url("detail", agreement)).text
    assert detail.count("Shared with the program</a>") == 4


def test_the_trail_reads_well_for_sharing_and_admin_views(
    client, agreement, mentor, mentee, program_admin
):
    share(client_for(client, mentor), agreement)
    share(client_for(client, mentee), agreement)
    record_admin_view(agreement, program_admin, ["Goals"])
    fresh(agreement).remind_by_program(by=program_admin)
    withdraw(client, agreement)
    text = client.get(url("trail", agreement)).text
    assert "Agreed to share a section with the program" in text
    assert "Not shared until the other party agrees too." in text
    assert "Both agreed: the program's admins can now read this section." in text
    assert "An admin of the program read the shared sections: Goals." in text
    assert "Reminder sent by the program" in text
    assert "Sharing with the program withdrawn" in text


# A section's discussion ----------------------------------------------------------

COMMENT_CANARY = "canary-9c2b-comment-stays-with-the-pair"


def share_discussion(client, agreement, kind="goals"):
    return client.post(url("sharing_share_discussion", agreement, kind))


def withdraw_discussion(client, agreement, kind="goals"):
    return client.post(url("sharing_withdraw_discussion", agreement, kind))


def share_both(client, agreement, *, discussion=False, kind="goals"):
    """Both parties share the section, and its discussion if asked."""
    moves = [share, share_discussion] if discussion else [share]
    for move in moves:
        for person in (agreement.mentor, agreement.mentee):
            assert move(client_for(client, person), agreement, kind).status_code == 302


def discussion_consents(agreement):
    return SharingConsent.objects.filter(agreement=agreement, scope="discussion")


def test_a_discussion_is_shared_once_both_consent(client, agreement, mentor, mentee):
    share_both(client, agreement)
    client_for(client, mentor)
    assert url("sharing_share_discussion", agreement, "goals") in page(client, agreement)
    response = share_discussion(client, agreement)
    assert response["Location"] == url("sharing", agreement) + "#sharing-goals-discussion"
    assert flash(response) == (
        "You agreed to share the discussion of Goals; it is shared once Milo Mentee agrees too."
    )
    assert fresh(agreement).shared_discussions() == []
    assert "You agreed to share the discussion — waiting for Milo Mentee" in page(client, agreement)
    client_for(client, mentee)
    assert "Maria Mentor agreed to share the discussion — waiting for you" in page(
        client, agreement
    )
    response = share_discussion(client, agreement)
    assert flash(response).startswith("The discussion of Goals is now shared with Test Programme.")
    assert fresh(agreement).shared_discussions() == ["goals"]
    # The section itself is as shared as before, and the only one.
    assert fresh(agreement).shared_kinds() == ["goals"]
    text = page(client, agreement)
    assert "its admins can read the comments" in text
    assert "Stop sharing the discussion" in text
    first, second = sharing_events(agreement)[-2:]
    assert first.details == {"section": "Goals", "discussion": True, "shared": False}
    assert second.details == {"section": "Goals", "discussion": True, "shared": True}


def test_a_discussion_is_shared_only_along_with_its_section(client, agreement, mentor, mentee):
    share(client_for(client, mentor), agreement)
    # Not offered before both share the section...
    assert url("sharing_share_discussion", agreement, "goals") not in page(client, agreement)
    # ...and refused when asked for anyway.
    with assert_unchanged(agreement):
        response = share_discussion(client, agreement)
    assert response.status_code == 302
    assert flash(response) == (
        "The discussion of Goals was not shared. The section is not shared with the program: "
        "its discussion can be shared only along with it."
    )
    assert not discussion_consents(agreement).exists()
    assert len(sharing_events(agreement)) == 1


def test_reads_count_only_the_consents_of_their_scope(agreement):
    # Two consents to the goals' discussion, one to the goals: nothing is shared.
    SharingConsent.objects.create(agreement=agreement, kind="goals", party="mentor")
    for party in ("mentor", "mentee"):
        SharingConsent.objects.create(
            agreement=agreement, kind="goals", scope="discussion", party=party
        )
    current = fresh(agreement)
    assert current.shared_kinds() == []
    assert current.shared_discussions() == []
    assert list(current.consents_by_kind()["goals"]) == ["mentor"]


@pytest.mark.parametrize("by", ["mentor", "mentee"])
def test_stopping_the_discussion_leaves_the_section_shared(client, agreement, by, request):
    share_both(client, agreement, discussion=True)
    client_for(client, request.getfixturevalue(by))
    response = withdraw_discussion(client, agreement)
    assert flash(response) == (
        "The discussion of Goals is no longer shared with Test Programme, from now on; "
        "Goals itself stays shared."
    )
    assert not discussion_consents(agreement).exists()
    assert fresh(agreement).shared_kinds() == ["goals"]
    assert fresh(agreement).shared_discussions() == []
    last = sharing_events(agreement)[-1]
    assert (last.kind, last.details) == (
        Kind.SHARING_WITHDRAWN,
        {"section": "Goals", "discussion": True},
    )
    assert "The discussion stays private to the two of you" in page(client, agreement)


def test_stopping_the_section_stops_its_discussion_too(client, agreement, mentee):
    share_both(client, agreement, discussion=True)
    response = withdraw(client_for(client, mentee), agreement)
    assert flash(response).startswith("Goals is no longer shared with Test Programme")
    assert not SharingConsent.objects.filter(agreement=agreement).exists()
    assert fresh(agreement).shared_discussions() == []
    last = sharing_events(agreement)[-1]
    assert last.details == {"section": "Goals", "discussion_too": True}
    # Sharing the section again does not bring its discussion back.
    share_both(client, agreement)
    assert fresh(agreement).shared_discussions() == []


def test_withdrawing_or_declining_a_discussion_request(client, agreement, mentor, mentee):
    share_both(client, agreement)
    share_discussion(client_for(client, mentor), agreement)
    response = withdraw_discussion(client, agreement)
    assert flash(response) == "You withdrew your consent: the discussion of Goals stays private."
    share_discussion(client, agreement)
    response = withdraw_discussion(client_for(client, mentee), agreement)
    assert flash(response) == (
        "The discussion of Goals stays private: you declined Maria Mentor's request to share it."
    )
    assert not discussion_consents(agreement).exists()
    response = withdraw_discussion(client, agreement)
    assert flash(response) == "The discussion of Goals was not shared; nothing changed."
    assert fresh(agreement).shared_kinds() == ["goals"]


def test_consenting_twice_to_a_discussion_changes_nothing(client, agreement, mentor):
    share_both(client, agreement)
    client_for(client, mentor)
    share_discussion(client, agreement)
    events = len(sharing_events(agreement))
    response = share_discussion(client, agreement)
    assert flash(response) == (
        "You had already agreed to share the discussion of Goals; nothing changed."
    )
    assert discussion_consents(agreement).count() == 1
    assert len(sharing_events(agreement)) == events


@pytest.mark.parametrize("move", ["sharing_share_discussion", "sharing_withdraw_discussion"])
def test_discussion_moves_refuse_get(client, agreement, mentor, mentee, move):
    share_both(client, agreement)
    share_discussion(client_for(client, mentee), agreement)
    client_for(client, mentor)
    events = len(sharing_events(agreement))
    with assert_unchanged(agreement):
        assert client.get(url(move, agreement, "goals")).status_code == 405
    assert discussion_consents(agreement).count() == 1
    assert len(sharing_events(agreement)) == events


@pytest.mark.parametrize("who", ["outsider", "program_admin", "other_pair_mentor"])
def test_only_the_two_parties_reach_discussion_sharing(client, agreement, who, request):
    share_both(client, agreement)
    share_discussion(client_for(client, agreement.mentee), agreement)
    events = len(sharing_events(agreement))
    client_for(client, request.getfixturevalue(who))
    with assert_unchanged(agreement):
        assert share_discussion(client, agreement).status_code == 404
        assert withdraw_discussion(client, agreement).status_code == 404
    assert list(discussion_consents(agreement).values_list("party", flat=True)) == ["mentee"]
    assert len(sharing_events(agreement)) == events


def test_the_language_has_no_discussion_to_share(client, agreement, mentor):
    client_for(client, mentor)
    path = f"/agreements/{agreement.uuid}/sharing/language/discussion/share/"
    with assert_unchanged(agreement):
        assert client.post(path).status_code == 404


def test_an_ended_agreement_takes_no_new_discussion_consent(
    client, agreement, mentor, mentee, program_admin
):
    share_both(client, agreement)
    share_discussion(client_for(client, mentee), agreement)
    agreement.end_by_program(by=program_admin, note="")
    client_for(client, mentor)
    text = page(client, agreement)
    assert url("sharing_share_discussion", agreement, "goals") not in text
    assert "Keep the discussion private" in text
    events = len(sharing_events(agreement))
    with assert_unchanged(agreement):
        response = share_discussion(client, agreement)
    assert flash(response) == (
        "The discussion of Goals was not shared. The agreement has ended: no more sections "
        "can be shared. You can still stop sharing."
    )
    assert discussion_consents(agreement).count() == 1
    assert len(sharing_events(agreement)) == events


def test_an_ended_agreement_can_still_stop_sharing_a_discussion(client, agreement, program_admin):
    share_both(client, agreement, discussion=True)
    agreement.end_by_program(by=program_admin, note="")
    assert "Stop sharing the discussion" in page(client, agreement)
    withdraw_discussion(client, agreement)
    assert fresh(agreement).shared_discussions() == []
    assert fresh(agreement).shared_kinds() == ["goals"]


def test_the_other_party_is_emailed_about_the_discussion_without_its_comments(
    client, agreement, mentor, mentee, django_capture_on_commit_callbacks
):
    agreement.comment_on("goals", by=mentee, text=COMMENT_CANARY)
    share_both(client, agreement)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        share_discussion(client_for(client, mentor), agreement)
    with django_capture_on_commit_callbacks(execute=True):
        share_discussion(client_for(client, mentee), agreement)
    with django_capture_on_commit_callbacks(execute=True):
        withdraw_discussion(client, agreement)
    assert [m.to for m in mail.outbox] == [[mentee.email], [mentor.email], [mentor.email]]
    asked, shared, stopped = mail.outbox
    assert asked.subject == (
        "Maria Mentor would like to share the discussion of “Goals” with Test Programme"
    )
    assert "the discussion of the section “Goals”" in asked.body
    assert "not its proposals" in asked.body
    assert shared.subject == "The discussion of “Goals” is now shared with Test Programme"
    assert stopped.subject == (
        "Milo Mentee stopped sharing the discussion of “Goals” with Test Programme"
    )
    assert "the section itself stays as shared as it was" in stopped.body
    for message in mail.outbox:
        assert COMMENT_CANARY not in message.subject + message.body


def test_the_discussion_page_says_whether_the_program_reads_it(client, agreement, mentor):
    share_both(client, agreement)
    client_for(client, mentor)
    discussion = url("section_discussion", agreement, "goals")
    text = client.get(discussion).text
    assert "the program's admins never see it unless you both share it" in text
    assert "Shared with the program:" not in text
    share_both(client, agreement, discussion=True)
    text = client.get(discussion).text
    assert "<strong>Shared with the program:</strong> its admins can read these comments" in text
    assert "never see it" not in text
    # Another section's discussion stays private.
    assert "never see it" in client.get(url("section_discussion", agreement, "term")).text


def test_the_trail_reads_well_for_a_shared_discussion(client, agreement, mentor):
    share_both(client, agreement, discussion=True)
    withdraw_discussion(client_for(client, mentor), agreement)
    text = client.get(url("trail", agreement)).text
    assert "Both agreed: the program's admins can now read this section's discussion." in (text)
    assert "can no longer read this section's discussion" in text


def test_sharing_discussions_keeps_the_sharing_page_query_count(
    client, agreement, mentor, mentee, program_admin, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client_for(client, mentor)
    with CaptureQueriesContext(connection) as few:
        page(client, agreement)
    expected = len(few)
    for kind in ("goals", "term", "contact"):
        share_both(client, agreement, discussion=True, kind=kind)
        agreement.comment_on(kind, by=mentor, text=COMMENT_CANARY)
    client_for(client, mentor)
    with django_assert_max_num_queries(expected):
        text = page(client, agreement)
    assert text.count("Stop sharing the discussion") == 3
    assert COMMENT_CANARY not in text


# What the program reads of a shared discussion -----------------------------------


def pairing_page(client, agreement):
    pairing = reverse("agreements:pairing", args=[agreement.program.uuid, agreement.uuid])
    response = client.get(pairing)
    assert response.status_code == 200
    return response.text


def test_the_admin_reads_a_shared_discussion_under_its_section(
    client, ready, mentor, mentee, program_admin
):
    ready.comment_on("goals", by=mentee, text="Could we aim for <May>?")
    ready.comment_on("term", by=mentor, text=COMMENT_CANARY)
    share_both(client, ready, discussion=True)
    share_both(client, ready, kind="term")
    client_for(client, program_admin)
    text = pairing_page(client, ready)
    goals = text[text.index('id="section-goals"') :]
    goals = goals[: goals.index("</section>")]
    assert 'id="discussion-goals"' in goals
    assert "<bdi>Milo Mentee</bdi>" in goals
    assert "Could we aim for &lt;May&gt;?" in goals
    assert " UTC" in goals
    # The term is shared, its discussion is not: none of it is on the page.
    assert 'id="discussion-term"' not in text
    assert COMMENT_CANARY not in text
    view = ready.audit_events.filter(kind=Kind.VIEWED, actor=program_admin).get()
    assert view.details == {
        "by": "program admin",
        "sections": ["Goals", "Term and exit"],
        "discussions": ["Goals"],
    }
    # The pair see that the admin read the discussion.
    listed = page(client_for(client, mentor), ready)
    assert "read Goals, Term and exit, and the discussion of Goals" in listed


def test_a_discussion_one_party_shares_stays_off_the_pairing_page(
    client, ready, mentor, program_admin
):
    ready.comment_on("goals", by=mentor, text=COMMENT_CANARY)
    share_both(client, ready)
    share_discussion(client_for(client, mentor), ready)
    client_for(client, program_admin)
    text = pairing_page(client, ready)
    assert 'id="section-goals"' in text
    assert 'id="discussion-goals"' not in text
    assert COMMENT_CANARY not in text
    view = ready.audit_events.filter(kind=Kind.VIEWED, actor=program_admin).get()
    assert "discussions" not in view.details


def test_a_redrafted_sections_discussion_is_not_shown(client, ready, mentor, program_admin):
    """The admin reads a discussion only under its section: while the section's
    current text is not agreed, neither shows."""
    from agreements.models import Section

    ready.comment_on("goals", by=mentor, text=COMMENT_CANARY)
    share_both(client, ready, discussion=True)
    Section.objects.filter(agreement=ready, kind="goals").update(mentee_agreed_at=None)
    client_for(client, program_admin)
    text = pairing_page(client, ready)
    assert "is shared, but its current text is not agreed" in text
    assert COMMENT_CANARY not in text


def test_the_pairing_page_costs_the_same_whatever_the_number_of_comments(
    client, ready, mentor, mentee, program_admin, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from agreements.models import SectionComment

    def comment(kind, count, text="Comment"):
        SectionComment.objects.bulk_create(
            SectionComment(
                section=ready.sections.get(kind=kind),
                author=mentor if number % 2 else mentee,
                text=f"{text} {number} on {kind}",
            )
            for number in range(count)
        )

    for kind in ("goals", "term"):
        share_both(client, ready, kind=kind)
    comment("goals", 1)
    client_for(client, program_admin)
    pairing_page(client, ready)  # sessions and caches warm
    with CaptureQueriesContext(connection) as unshared:
        pairing_page(client, ready)
    for kind in ("goals", "term"):
        share_both(client, ready, discussion=True, kind=kind)
    client_for(client, program_admin)
    pairing_page(client, ready)
    with CaptureQueriesContext(connection) as one:
        pairing_page(client, ready)
    # One query for every shared thread's comments, with their authors.
    assert len(one) == len(unshared) + 1
    comment("goals", 60, "More")
    comment("term", 60, "More")
    # An unshared thread's comments are never loaded.
    SectionComment.objects.create(
        section=ready.sections.get(kind="contact"), author=mentor, text=COMMENT_CANARY
    )
    with django_assert_num_queries(len(one)) as many:
        text = pairing_page(client, ready)
    assert text.count("More 59 on") == 2
    assert COMMENT_CANARY not in text
    comments = [
        query["sql"] for query in many if '"agreements_sectioncomment"."text"' in query["sql"]
    ]
    assert len(comments) == 1
    assert "'goals'" in comments[0] and "'contact'" not in comments[0]


def test_stopping_a_section_says_its_discussion_stopped_too(client, agreement, mentor):
    share_both(client, agreement, discussion=True)
    withdraw(client_for(client, mentor), agreement)
    event = sharing_events(agreement)[-1]
    assert event.details == {"section": "Goals", "discussion_too": True}
    trail = client.get(reverse("agreements:trail", args=[agreement.uuid])).text
    assert "This stopped the sharing of its discussion too." in trail


def test_stopping_a_section_without_a_discussion_shared_says_nothing_of_it(
    client, agreement, mentor
):
    share_both(client, agreement)
    withdraw(client_for(client, mentor), agreement)
    assert sharing_events(agreement)[-1].details == {"section": "Goals"}
