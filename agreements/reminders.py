"""Reminder emails before each check-in and the exit date, when a check-in is
overdue, when a meeting the rhythm planned was not logged, and when a survey
opens for a party who has not answered it: which are due, and sending each
exactly once.

``manage.py send_reminders`` runs this daily from cron. Due is a window, not
a single day, so a run missed by cron is made up the next day; the
``Reminder`` row, claimed in the transaction that promises the email, stops
every later or concurrent run from sending it again. While the meetings are
paused, the check-in and meeting reminders wait: what is still due when the
pause ends goes out then, once. The survey invitations do not wait: they ask
how the relationship goes, pauses included, and a pause to the end of the
term would leave them unasked.
"""

import datetime

from django.conf import settings
from django.db import IntegrityError, models, transaction

from agreements.models import (
    Agreement,
    AgreementVersion,
    CheckInRecord,
    CheckInState,
    Effect,
    Meeting,
    Party,
    Pause,
    Reminder,
    SurveyResponse,
    meeting_days,
    runs_on,
)

Kind = Reminder.Kind
SURVEY_KINDS = {
    SurveyResponse.Moment.MIDPOINT: Kind.SURVEY_MIDPOINT,
    SurveyResponse.Moment.END: Kind.SURVEY_END,
}

# A planned meeting nobody logged is asked about from this many days after
# its day (time enough to log it unprompted)...
MEETING_LOG_AFTER_DAYS = 3
# ...until this many: the window makes up a missed cron run, and a reminder
# weeks late would nag about what nobody remembers.
MEETING_LOG_UNTIL_DAYS = 10
# A meeting logged this many days either side of a planned day stands for it:
# pairs move a meeting a day or two.
MEETING_LOG_NEAR_DAYS = 3


def due_reminders(*, agreement, user, today):
    """[(kind, date it is about)] due for one party of an Active agreement on
    ``today``, their own date."""
    if agreement.status != Agreement.Status.ACTIVE or agreement.party_of(user) is None:
        return []
    soon = datetime.timedelta(days=settings.REMINDER_DAYS_BEFORE_CHECKIN)
    end = agreement.end_date
    due = []
    # A pause holds back the reminders of the meetings and check-ins, not the
    # exit's: the agreement ends on its day, paused or not.
    if agreement.paused_on(today) is None:
        # Check-ins inside a pause are PAUSED: never coming up nor overdue.
        for checkin, _record, state in agreement.checkin_timeline(today):
            if state == CheckInState.UPCOMING and checkin.date - today <= soon:
                due.append((Kind.CHECKIN_SOON, checkin.date))
            elif state == CheckInState.OVERDUE:
                due.append((Kind.CHECKIN_OVERDUE, checkin.date))
        due += [(Kind.MEETING_LOG, day) for day in _meetings_to_log(agreement, user, today)]
    due += _surveys_to_answer(agreement, user, today)
    if end and today < end <= today + datetime.timedelta(days=settings.REMINDER_DAYS_BEFORE_EXIT):
        due.append((Kind.EXIT_SOON, end))
    return due


def _meetings_to_log(agreement, user, today):
    """The days the signed rhythm planned a meeting, outside any pause,
    ``MEETING_LOG_AFTER_DAYS`` to ``MEETING_LOG_UNTIL_DAYS`` ago, with no
    meeting in the log near them; none for a rhythm of the pair's own words."""
    plan = agreement.content_in_force
    if plan is None or plan.term.start_date is None:
        return []
    # Only the days since the pair signed this rhythm: a term that started
    # before the signatures asks nothing about the weeks before them.
    signed = agreement.version_in_force.in_force_at.astimezone(user.zone).date()
    first = max(signed, today - datetime.timedelta(days=MEETING_LOG_UNTIL_DAYS))
    last = today - datetime.timedelta(days=MEETING_LOG_AFTER_DAYS)
    logged = [
        meeting.held_on
        for meeting in agreement.meetings.all()
        if meeting.status != Meeting.Status.DECLINED
    ]
    near = datetime.timedelta(days=MEETING_LOG_NEAR_DAYS)
    return [
        day
        for day in meeting_days(plan.schedule.frequency, plan.term.start_date, last)
        if first <= day
        and runs_on(day, agreement.end_date)
        and agreement.paused_on(day) is None
        and not any(abs(held - day) <= near for held in logged)
    ]


def _surveys_to_answer(agreement, user, today):
    """Each survey open on ``today`` that the user has not answered, as of the
    day it opened: one invitation per party and survey."""
    return [
        (SURVEY_KINDS[moment], agreement.survey_opens_on(moment))
        for moment in agreement.surveys_to_answer(user, today)
    ]


def send_due_reminders(*, today=None, stdout=None):
    """Promise every reminder due and not claimed yet; returns how many.

    ``today`` runs as of that date for everyone; by default each party's
    date is the one where they are.
    """
    sent = 0
    for agreement in _active_agreements():
        # Known to be sent already: skip without a claim (the claim still
        # decides for those a concurrent sender is sending right now).
        done = {(r.recipient_id, r.kind, r.about) for r in agreement.reminders.all()}
        for party in Party.values:
            user = agreement.user_for(party)
            local_today = today or user.today()
            for kind, about in due_reminders(agreement=agreement, user=user, today=local_today):
                if (user.pk, kind, about) in done:
                    continue
                if claim(agreement, user, kind, about, today=local_today.isoformat()):
                    sent += 1
                    if stdout:
                        stdout.write(
                            f"{kind.label} ({about}): agreement {agreement.uuid}, {party}."
                        )
    return sent


def _active_agreements():
    """Active agreements with what the reminders read, in a fixed number of queries."""
    return (
        Agreement.objects.filter(status=Agreement.Status.ACTIVE)
        .select_related("mentor", "mentee", "program")
        .prefetch_related(
            models.Prefetch(
                "versions",
                queryset=AgreementVersion.objects.filter(status=AgreementVersion.Status.IN_FORCE),
            ),
            # The dates only: what the pair wrote at a check-in, at a meeting
            # or about a pause is never loaded here.
            models.Prefetch(
                "checkin_records",
                queryset=CheckInRecord.objects.only("agreement_id", "planned_date"),
            ),
            models.Prefetch(
                "meetings", queryset=Meeting.objects.only("agreement_id", "held_on", "status")
            ),
            models.Prefetch(
                "pauses",
                queryset=Pause.objects.only("agreement_id", "starts_on", "until", "cancelled_at"),
            ),
            # Who answered which survey, never what.
            models.Prefetch(
                "survey_responses",
                queryset=SurveyResponse.objects.only("agreement_id", "party", "moment"),
            ),
            # The kinds sent here: the digests (``digests.py``) add a row a day.
            models.Prefetch("reminders", queryset=Reminder.objects.exclude(kind=Kind.DIGEST)),
        )
        .order_by("pk")
    )


def claim(agreement, user, kind, about, *, email="reminder", **args):
    """Insert the reminder's row and promise its email (``email``, a function
    of ``agreements.emails``, given the row and ``args``) in one transaction;
    False if another run has it.

    A concurrent sender's insert waits on the unique index until this
    transaction ends, then fails. The email itself goes out from the task
    worker, tried again until the mail server takes it.
    """
    try:
        with transaction.atomic():
            reminder = Reminder.objects.create(
                agreement=agreement, recipient=user, kind=kind, about=about
            )
            Effect.objects.promise_email(
                email,
                to=user,
                about=f"reminder:{reminder.pk}",
                reminder_id=reminder.pk,
                **args,
            )
    except IntegrityError:
        return False
    return True
