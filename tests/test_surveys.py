"""Pulse surveys at the midpoint and the end of the term, and the outcomes the
program's page reads, kept by the moves that change them."""

import json

import pytest
from django.core import mail
from django.core.management import call_command
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from agreements import emails
from agreements.charts import promises_chart
from agreements.exceptions import SurveyClosed
from agreements.models import Agreement, AuditEvent, MonthlyOutcome, SurveyResponse
from agreements.models.outcomes import month_of
from tests.helpers import assert_unchanged, fresh, make_active
from tests.test_meetings import day, loaded, log

pytestmark = pytest.mark.django_db

Moment = SurveyResponse.Moment
CANARY = "canary-survey-comment-77ab"


def answer(agreement, by, moment=Moment.MIDPOINT, **scores):
    return fresh(agreement).answer_survey(
        moment=moment,
        satisfaction=scores.get("satisfaction", 4),
        growth=scores.get("growth", 5),
        recommend=scores.get("recommend", 9),
        comment=scores.get("comment", ""),
        by=by,
    )


# Surveys -------------------------------------------------------------------------------


def test_the_midpoint_survey_opens_halfway_through_the_term(agreement, mentor):
    active = make_active(agreement, start=day(-90))  # 182 days: the midpoint is day 1
    assert fresh(active).survey_opens_on(Moment.MIDPOINT) == day(1)
    assert loaded(active).surveys_to_answer(mentor, day(0)) == []
    with pytest.raises(SurveyClosed, match="not open"), assert_unchanged(active):
        answer(active, mentor)
    assert loaded(active).surveys_to_answer(mentor, day(1)) == [Moment.MIDPOINT]


def test_each_party_answers_once_and_the_trail_says_only_that_they_did(agreement, mentor, mentee):
    active = make_active(agreement, start=day(-100))
    assert "Answer the short midpoint survey (three questions)" in loaded(active).todo_for(mentee)
    answer(active, mentee, comment=CANARY, satisfaction=2)
    event = active.audit_events.order_by("sequence").last()
    assert event.kind == AuditEvent.Kind.SURVEY_ANSWERED
    assert event.details == {"moment": "midpoint", "party": "mentee"}
    assert CANARY not in json.dumps(list(active.audit_events.values_list("details", flat=True)))

    with pytest.raises(SurveyClosed, match="already answered"), assert_unchanged(active):
        answer(active, mentee)
    again = loaded(active)
    assert again.survey_answer_of(mentee, Moment.MIDPOINT).satisfaction == 2
    # The mentor neither sees the mentee's answer nor is spared their own.
    assert again.survey_answer_of(mentor, Moment.MIDPOINT) is None
    assert again.surveys_to_answer(mentor, day(0)) == [Moment.MIDPOINT]
    assert again.surveys_to_answer(mentee, day(0)) == []


def test_the_end_survey_opens_two_weeks_before_the_end(agreement, mentor):
    active = make_active(agreement, start=day(-170))  # ends on day 12
    assert fresh(active).end_date == day(12)
    assert loaded(active).surveys_to_answer(mentor, day(-3)) == [Moment.MIDPOINT]
    assert loaded(active).surveys_to_answer(mentor, day(-2)) == [Moment.MIDPOINT, Moment.END]
    assert answer(active, mentor, Moment.END).moment == Moment.END


def test_the_end_survey_stays_open_after_the_end_and_the_midpoint_does_not(agreement, mentor):
    active = make_active(agreement, start=day(-170))
    ended = loaded(active)
    assert ended.survey_is_open(Moment.END, day(12 + 60))
    assert not ended.survey_is_open(Moment.END, day(12 + 61))
    assert not ended.survey_is_open(Moment.MIDPOINT, day(12))


def test_an_early_end_before_the_midpoint_leaves_only_the_end_survey(agreement, mentor):
    active = make_active(agreement, start=day(-10))
    fresh(active).give_notice(by=mentor)  # 14 days' notice: ends long before the midpoint
    assert fresh(active).survey_opens_on(Moment.MIDPOINT) is None
    assert fresh(active).survey_opens_on(Moment.END) == day(0)
    assert loaded(active).surveys_to_answer(mentor, day(0)) == [Moment.END]


# Outcomes kept -------------------------------------------------------------------------


def months(agreement):
    return {
        row["month"]: row
        for row in MonthlyOutcome.objects.filter(agreement=agreement).values(
            "month", "meetings_promised", "meetings_held", "checkins_missed", "checkins_late"
        )
    }


def test_the_moves_keep_the_months_and_who_is_fading(agreement, mentor, mentee):
    active = make_active(agreement, start=day(-60))  # fortnightly: days -60, -46, -32, -18, -4
    promised = MonthlyOutcome.objects.filter(agreement=active).aggregate(n=Sum("meetings_promised"))
    assert promised["n"] == 5
    # Five meetings promised in the 60 days before today, none logged.
    assert Agreement.objects.get(pk=active.pk).fading
    first = log(active, mentor, day(-46))
    fresh(active).confirm_meeting(number=first.pk, by=mentee)
    row = Agreement.objects.get(pk=active.pk)
    assert row.fading and row.outcomes_as_of == timezone.localdate()
    assert months(active)[month_of(day(-46))]["meetings_held"] == 1
    # Logged and not denied: the pair says it met three times of five.
    log(active, mentor, day(-32))
    third = log(active, mentor, day(-18))
    assert not Agreement.objects.get(pk=active.pk).fading
    assert sum(m["meetings_held"] for m in months(active).values()) == 1  # two not agreed yet
    fresh(active).decline_meeting(number=third.pk, by=mentee)
    assert Agreement.objects.get(pk=active.pk).fading


def test_a_pair_is_not_fading_on_the_day_of_its_first_meeting(agreement):
    active = make_active(agreement, start=day(0))
    assert MonthlyOutcome.objects.get(agreement=active).meetings_promised == 1
    assert not Agreement.objects.get(pk=active.pk).fading


def test_an_agreement_ended_before_its_term_began_has_no_chart(agreement, program_admin):
    active = make_active(agreement, start=day(0))
    fresh(active).end_by_program(by=program_admin, note="Ended at once.")
    ended = loaded(active)
    assert ended.meetings_kept(day(0), timezone.now()) is None
    assert promises_chart(ended, today=day(0), now=timezone.now()) is None
    assert not MonthlyOutcome.objects.filter(agreement=active).exists()


def test_a_missed_checkin_then_held_late(agreement, mentor):
    active = make_active(agreement, start=day(-70))  # its first check-in was day -10
    call_command("end_agreements", verbosity=0)
    checkin = fresh(active).content_in_force.checkins[0].date
    assert months(active)[month_of(checkin)]["checkins_missed"] == 1
    agreement = loaded(active)
    agreement.write_checkin_record(
        planned_date=checkin,
        held_on=day(0),
        progress=[(goal, "done", "") for goal in agreement.goals_in_force()],
        working="yes",
        note="",
        by=mentor,
    )
    month = months(active)[month_of(checkin)]
    assert (month["checkins_missed"], month["checkins_late"]) == (0, 1)
    row = Agreement.objects.get(pk=active.pk)
    assert (row.goals_total, row.goals_achieved) == (2, 2)


def test_the_daily_run_moves_the_promise_on_and_fills_what_was_never_counted(agreement):
    active = make_active(agreement, start=day(-60))
    Agreement.objects.filter(pk=active.pk).update(outcomes_as_of=None)
    MonthlyOutcome.objects.filter(agreement=active).delete()
    call_command("end_agreements", date=day(14), verbosity=0)
    promised = MonthlyOutcome.objects.filter(agreement=active).aggregate(n=Sum("meetings_promised"))
    assert promised["n"] == 6  # day 10 of the term's rhythm came since
    assert Agreement.objects.get(pk=active.pk).outcomes_as_of == day(14)


def test_a_pause_keeps_a_pair_from_fading(agreement, mentor):
    active = make_active(agreement, start=day(-60))
    assert Agreement.objects.get(pk=active.pk).fading
    pause = fresh(active).pause_meetings(starts_on=day(0), until=None, note="", by=mentor)
    # A pause under way since the start of the window: nothing was promised.
    type(pause).objects.filter(pk=pause.pk).update(starts_on=day(-60))
    fresh(active).refresh_outcomes()
    assert not Agreement.objects.get(pk=active.pk).fading
    assert sum(row["meetings_promised"] for row in months(active).values()) == 0


def test_nothing_is_counted_before_the_term_starts(agreement):
    active = make_active(agreement, start=day(5))
    assert not MonthlyOutcome.objects.filter(agreement=active).exists()
    assert Agreement.objects.get(pk=active.pk).goals_total == 2


def test_the_end_email_invites_the_end_survey_unless_answered(agreement, mentor, mentee, settings):
    settings.SITE_URL = "http://testserver"
    active = make_active(agreement, start=day(-170))  # ends on day 12: the end survey is open
    answer(active, mentee, Moment.END)
    fresh(active).end_by_program(by=agreement.program.admins.get(), note="The program closes.")
    for person in (mentor, mentee):
        emails.agreement_ended(person, agreement_id=active.pk)
    to_mentor, to_mentee = mail.outbox
    survey = "http://testserver" + reverse("agreements:survey", args=[active.uuid, "end"])
    assert survey in to_mentor.body
    assert survey not in to_mentee.body
