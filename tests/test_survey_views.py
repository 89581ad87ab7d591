"""The survey page of a party: the short form while the survey is open, then
their own answers, never the other party's; and what the agreement page
offers of it."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from agreements.models import Agreement, AuditEvent, SurveyResponse
from tests.helpers import assert_unchanged, client_for, fresh, make_active
from tests.test_concurrency import make_client, run_at_once

pytestmark = pytest.mark.django_db

Moment = SurveyResponse.Moment
CANARY = "canary-survey-page-5e1f"
PRIVACY = (
    "The program sees answers only added up over at least 5 people, never your comment, "
    "and never who answered what."
)


def day(n):
    return timezone.localdate() + datetime.timedelta(days=n)


def url(agreement, moment=Moment.MIDPOINT):
    return reverse("agreements:survey", args=[agreement.uuid, moment])


def detail(agreement):
    return reverse("agreements:detail", args=[agreement.uuid])


def answers(satisfaction=4, growth=5, recommend=9, comment=""):
    return {
        "satisfaction": satisfaction,
        "growth": growth,
        "recommend": recommend,
        "comment": comment,
    }


def shown(response):
    return [str(message) for message in response.context["messages"]]


def halfway(agreement):
    """In force since 100 days ago: the midpoint survey (day 91 of 182) is
    open, the end-of-term one (from day 168) not yet."""
    return make_active(agreement, start=day(-100))


def ended(agreement, on):
    """In force since 100 days ago, ended on ``on`` after the mentee's notice."""
    active = halfway(agreement)
    active.give_notice(by=active.mentee)
    Agreement.objects.filter(pk=active.pk).update(ends_on=on)
    assert fresh(active).end_if_due(timezone.localdate())
    return fresh(active)


# Answering ----------------------------------------------------------------------


def test_a_party_answers_once_and_then_sees_their_answers(client, agreement, mentor):
    active = halfway(agreement)
    client_for(client, mentor)
    assert "Answer the midpoint survey" in client.get(detail(active)).text
    page = client.get(url(active)).text
    assert "Three questions, about two minutes." in page
    assert PRIVACY in page
    assert "<legend" in page and "How satisfied are you with the mentoring so far?" in page
    assert "1 = not at all · 5 = very much" in page
    assert "0 = not at all likely · 10 = extremely likely" in page
    assert page.count('name="recommend"') == 11

    response = client.post(url(active), answers(comment=CANARY), follow=True)

    assert shown(response) == ["Thank you! Your answers are saved."]
    answer = SurveyResponse.objects.get(agreement=active)
    assert (answer.party, answer.moment) == ("mentor", "midpoint")
    assert (answer.satisfaction, answer.growth, answer.recommend) == (4, 5, 9)
    assert answer.comment == CANARY
    event = active.audit_events.order_by("sequence").last()
    assert (event.kind, event.actor) == (AuditEvent.Kind.SURVEY_ANSWERED, mentor)
    page = response.text
    assert "Your answers" in page and CANARY in page and PRIVACY in page
    assert 'name="satisfaction"' not in page
    page = client.get(detail(active)).text
    assert "Your answers to the midpoint survey" in page
    assert "Answer the midpoint survey" not in page


def test_a_second_answer_is_refused(client, agreement, mentor):
    active = halfway(agreement)
    client_for(client, mentor)
    client.post(url(active), answers(satisfaction=2), follow=True)

    with assert_unchanged(active):
        response = client.post(url(active), answers(satisfaction=5), follow=True)

    assert shown(response) == ["You already answered this survey: here are your answers."]
    assert SurveyResponse.objects.get(agreement=active).satisfaction == 2


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (answers(satisfaction=0), "Choose a number from 1 to 5."),
        (answers(growth=6), "Choose a number from 1 to 5."),
        (answers(recommend=11), "Choose a number from 0 to 10."),
        (answers(recommend="ten"), "Choose a number from 0 to 10."),
        ({"satisfaction": 4, "recommend": 9}, "Choose a number from 1 to 5."),
        ({}, "Choose a number from 0 to 10."),
        (answers(comment="Null\x00byte"), "Null characters are not allowed."),
        (answers(comment="x" * 2001), "Ensure this value has at most 2000 characters"),
        (answers(comment="line\n" * 51), "Keep this to at most 50 lines"),
    ],
)
def test_a_wrong_answer_changes_nothing_and_says_what_is_wrong(
    client, agreement, mentor, data, error
):
    active = halfway(agreement)
    client_for(client, mentor)

    with assert_unchanged(active):
        response = client.post(url(active), data)

    assert response.status_code == 200
    assert "error-summary" in response.text
    assert error in response.text
    assert not SurveyResponse.objects.exists()


# Each party's own ---------------------------------------------------------------


def test_the_other_party_never_sees_the_answers(client, agreement, mentor, mentee):
    active = halfway(agreement)
    client_for(client, mentee)
    client.post(url(active), answers(satisfaction=1, comment=CANARY), follow=True)

    client_for(client, mentor)
    page = client.get(url(active)).text
    # The mentor's own form, empty: nothing of the mentee's answers.
    assert 'name="satisfaction"' in page
    assert "checked" not in page
    assert CANARY not in page
    assert "Your answers" not in page
    page = client.get(detail(active)).text
    assert "Answer the midpoint survey" in page
    assert CANARY not in page
    assert CANARY not in client.get(reverse("agreements:trail", args=[active.uuid])).text


def test_outsiders_and_the_program_get_404(client, agreement, mentee, outsider, program_admin):
    active = halfway(agreement)
    client_for(client, mentee)
    client.post(url(active), answers(comment=CANARY))
    for person in (outsider, program_admin):
        client_for(client, person)
        assert client.get(url(active)).status_code == 404
        with assert_unchanged(active):
            assert client.post(url(active), answers()).status_code == 404


# Open and closed ------------------------------------------------------------------


def test_a_survey_not_open_is_404(client, agreement, mentor):
    active = halfway(agreement)  # its end-of-term survey opens in 68 days
    client_for(client, mentor)
    assert client.get(url(active, Moment.END)).status_code == 404
    with assert_unchanged(active):
        assert client.post(url(active, Moment.END), answers()).status_code == 404
    assert "end-of-term survey" not in client.get(detail(active)).text
    assert client.get(f"/agreements/{active.uuid}/survey/quarter/").status_code == 404


def test_before_the_midpoint_there_is_no_survey(client, active, mentor):
    client_for(client, mentor)  # 60 days into 182
    assert client.get(url(active)).status_code == 404
    assert 'id="surveys"' not in client.get(detail(active)).text


def test_the_end_survey_stays_open_after_the_end(client, agreement, mentor, mentee):
    over = ended(agreement, on=day(0))
    client_for(client, mentee)
    page = client.get(detail(over)).text
    assert "This agreement has ended" in page
    assert "Answer the end-of-term survey" in page
    assert "Answer the midpoint survey" not in page

    response = client.post(url(over, Moment.END), answers(recommend=0), follow=True)

    assert shown(response) == ["Thank you! Your answers are saved."]
    assert SurveyResponse.objects.get(agreement=over).moment == Moment.END
    assert "Your answers to the end-of-term survey" in client.get(detail(over)).text


def test_sixty_days_after_the_end_the_survey_is_closed(client, agreement, mentor):
    over = ended(agreement, on=day(-61))
    client_for(client, mentor)
    assert client.get(url(over, Moment.END)).status_code == 404
    assert 'id="surveys"' not in client.get(detail(over)).text


def test_answers_stay_readable_once_the_survey_closed(client, agreement, mentor):
    active = halfway(agreement)
    client_for(client, mentor)
    client.post(url(active), answers(growth=3, comment=CANARY))
    active.give_notice(by=mentor)
    Agreement.objects.filter(pk=active.pk).update(ends_on=day(0))
    fresh(active).end_if_due(timezone.localdate())

    page = client.get(url(active)).text

    assert "Your answers" in page and CANARY in page
    assert "Your answers to the midpoint survey" in client.get(detail(active)).text


# Cost -------------------------------------------------------------------------------


def test_the_survey_page_reads_a_fixed_number_of_rows(
    client, agreement, mentor, mentee, django_assert_max_num_queries
):
    active = halfway(agreement)
    client_for(client, mentee)
    client.post(url(active), answers())
    client_for(client, mentor)
    with django_assert_max_num_queries(6):
        assert client.get(url(active)).status_code == 200
    client.post(url(active), answers())
    with django_assert_max_num_queries(6):
        assert "Your answers" in client.get(url(active)).text


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The agreement's row lock decides this race as in production: set DATABASE_URL "
    "to a PostgreSQL server.",
)
def test_two_answers_at_once_keep_one(agreement, mentor):
    active = halfway(agreement)
    first, second = make_client(mentor), make_client(mentor)

    responses = run_at_once(
        lambda: first.post(url(active), answers(satisfaction=1)),
        lambda: second.post(url(active), answers(satisfaction=5)),
    )

    assert [response.status_code for response in responses] == [302, 302]
    assert SurveyResponse.objects.filter(agreement=active).count() == 1
    assert active.audit_events.filter(kind=AuditEvent.Kind.SURVEY_ANSWERED).count() == 1
