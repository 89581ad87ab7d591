"""Reminder emails before each check-in and the exit date, and when a check-in
is overdue: which are due, and sending each exactly once.

``manage.py send_reminders`` runs this daily from cron. Due is a window, not
a single day, so a run missed by cron is made up the next day; the
``Reminder`` row, claimed in the transaction that promises the email, stops
every later or concurrent run from sending it again.
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
    Party,
    Reminder,
)

Kind = Reminder.Kind


def due_reminders(*, agreement, user, today):
    """[(kind, date it is about)] due for one party of an Active agreement on
    ``today``, their own date."""
    if agreement.status != Agreement.Status.ACTIVE or agreement.party_of(user) is None:
        return []
    soon = datetime.timedelta(days=settings.REMINDER_DAYS_BEFORE_CHECKIN)
    end = agreement.end_date
    due = []
    for checkin, _record, state in agreement.checkin_timeline(today):
        if state == CheckInState.UPCOMING and checkin.date - today <= soon:
            due.append((Kind.CHECKIN_SOON, checkin.date))
        elif state == CheckInState.OVERDUE:
            due.append((Kind.CHECKIN_OVERDUE, checkin.date))
    if end and today < end <= today + datetime.timedelta(days=settings.REMINDER_DAYS_BEFORE_EXIT):
        due.append((Kind.EXIT_SOON, end))
    return due


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
            # The dates only: what the pair wrote at a check-in is never loaded here.
            models.Prefetch(
                "checkin_records",
                queryset=CheckInRecord.objects.only("agreement_id", "planned_date"),
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
