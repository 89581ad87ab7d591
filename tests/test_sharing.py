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
