"""Reminder emails (``manage.py send_reminders``) and the automatic end
(``manage.py end_agreements``), both run daily from cron.

The ``active`` agreement started 60 days ago: check-ins on days 60 (today)
and 120, exit on day 182, 14 days' notice.
"""

import datetime
import io
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import demo, tasks
from agreements.models import (
    Agreement,
    AuditEvent,
    CheckInRecord,
    Effect,
    GoalProgress,
    Reminder,
)
from agreements.reminders import due_reminders
from agreements.services import pairing_create
from tests.helpers import START, fresh, make_active, make_user
from tests.test_concurrency import run_at_once

Kind = Reminder.Kind


def day(agreement, number):
    """The date ``number`` days after the agreement's start."""
    return agreement.content_in_force.term.start_date + datetime.timedelta(days=number)


def send(today=None):
    """Run the command; the emails it queues are sent once it commits."""
    out = io.StringIO()
    args = ["--date", today.isoformat()] if today else []
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


def end(today=None):
    out = io.StringIO()
    args = ["--date", today.isoformat()] if today else []
    call_command("end_agreements", *args, stdout=out)
    return out.getvalue()


def record(agreement, planned_date):
    """A check-in held on its day, as the check-in form stores it."""
    return CheckInRecord.objects.create(
        agreement=agreement,
        planned_date=planned_date,
        held_on=planned_date,
        recorded_by=agreement.mentor,
    )


def sent(kind):
    return sorted(
        (r.recipient.email, r.about) for r in Reminder.objects.filter(kind=kind).order_by("pk")
    )


# Which reminders are due -------------------------------------------------------


def test_checkin_reminder_goes_to_both_parties_once(settings, active, mentor, mentee, mailoutbox):
    checkin = day(active, 60)

    assert send(checkin - datetime.timedelta(days=4)) == "Queued 0 reminders to send.\n"
    assert send(checkin - datetime.timedelta(days=3)) == "Queued 2 reminders to send.\n"
    assert send(checkin - datetime.timedelta(days=3)) == "Queued 0 reminders to send.\n"
    assert send(checkin - datetime.timedelta(days=1)) == "Queued 0 reminders to send.\n"

    assert sorted(m.to[0] for m in mailoutbox) == [mentee.email, mentor.email]
    assert sent(Kind.CHECKIN_SOON) == [(mentee.email, checkin), (mentor.email, checkin)]
    to_mentee = next(m for m in mailoutbox if m.to == [mentee.email])
    assert (
        to_mentee.subject
        == f"Check-in with Maria Mentor on {checkin:%A} {checkin.day} {checkin:%B}"
    )
    assert f"{checkin:%A} {checkin.day} {checkin:%B %Y}, in 3 days." in to_mentee.body
    assert "Test Programme" in to_mentee.body
    url = settings.SITE_URL + reverse("agreements:checkins", args=[active.uuid])
    assert f"\n{url}\n" in to_mentee.body


def test_a_missed_run_still_sends_the_checkin_reminder(active, mailoutbox):
    checkin = day(active, 60)

    assert send(checkin - datetime.timedelta(days=1)) == "Queued 2 reminders to send.\n"
    assert "tomorrow." in mailoutbox[0].body


def test_verbose_run_lists_each_reminder_sent(active):
    out = io.StringIO()
    call_command("send_reminders", "--date", f"{day(active, 57)}", verbosity=2, stdout=out)

    lines = out.getvalue().splitlines()
    assert lines == [
        f"Check-in coming up ({day(active, 60)}): agreement {active.uuid}, mentor.",
        f"Check-in coming up ({day(active, 60)}): agreement {active.uuid}, mentee.",
        "Queued 2 reminders to send.",
    ]


def test_overdue_checkin_is_reminded_once(active, mentor, mentee, mailoutbox):
    checkin = day(active, 60)

    # Due on its day, and for the few days of grace after.
    assert send(checkin) == "Queued 0 reminders to send.\n"
    assert send(checkin + datetime.timedelta(days=3)) == "Queued 0 reminders to send.\n"
    assert send(checkin + datetime.timedelta(days=4)) == "Queued 2 reminders to send.\n"
    assert send(checkin + datetime.timedelta(days=5)) == "Queued 0 reminders to send.\n"

    assert sent(Kind.CHECKIN_OVERDUE) == [(mentee.email, checkin), (mentor.email, checkin)]
    assert {m.to[0] for m in mailoutbox} == {mentor.email, mentee.email}
    assert all("not recorded yet" in m.subject for m in mailoutbox)


def test_recorded_checkin_gets_no_overdue_reminder(active, mailoutbox):
    record(active, day(active, 60))

    assert send(day(active, 64)) == "Queued 0 reminders to send.\n"
    assert mailoutbox == []


def test_exit_reminder_invites_the_closing_conversation(
    settings, active, mentor, mentee, mailoutbox
):
    exit_date = day(active, 182)
    record(active, day(active, 60))
    record(active, day(active, 120))

    assert send(exit_date - datetime.timedelta(days=15)) == "Queued 0 reminders to send.\n"
    assert send(exit_date - datetime.timedelta(days=14)) == "Queued 2 reminders to send.\n"
    assert send(exit_date - datetime.timedelta(days=1)) == "Queued 0 reminders to send.\n"
    assert send(exit_date) == "Queued 0 reminders to send.\n"

    assert sent(Kind.EXIT_SOON) == [(mentee.email, exit_date), (mentor.email, exit_date)]
    body = mailoutbox[0].body
    assert "closing conversation" in body
    assert "closing note" in body
    assert "start an amendment" in body
    assert "in 14 days" in body
    url = settings.SITE_URL + reverse("agreements:detail", args=[active.uuid])
    assert f"\n{url}\n" in body


def test_exit_reminder_follows_a_notice(active, mentor, mentee, mailoutbox):
    ends_on = active.give_notice(by=mentor)
    mailoutbox.clear()  # the notice's own email

    assert send(ends_on - datetime.timedelta(days=14)) == "Queued 2 reminders to send.\n"

    assert sent(Kind.EXIT_SOON) == [(mentee.email, ends_on), (mentor.email, ends_on)]
    assert "the notice given to end it has run" in mailoutbox[0].body
    assert "start an amendment" not in mailoutbox[0].body


def test_checkin_on_the_end_date_gets_no_reminder(agreement, mentor, mentee, mailoutbox):
    # The agreement ends that morning: the check-in could not be recorded.
    start = timezone.localdate() - datetime.timedelta(days=60)
    exit_date = start + datetime.timedelta(days=182)
    demo.write_all(agreement, by=mentor, start=start)
    agreement.checkins.filter(date=start + datetime.timedelta(days=120)).update(date=exit_date)
    demo.agree_all(agreement)
    demo.sign_as(agreement, mentor)
    demo.sign_as(agreement, mentee)
    record(agreement, start + datetime.timedelta(days=60))

    assert send(exit_date - datetime.timedelta(days=3)) == "Queued 2 reminders to send.\n"

    assert set(Reminder.objects.values_list("kind", flat=True)) == {Kind.EXIT_SOON}


def test_each_party_is_reminded_on_their_own_date(agreement, mentor, mentee, monkeypatch):
    # Kiritimati (UTC+14) is a day or two ahead of Pago Pago (UTC-11).
    mentor.time_zone, mentee.time_zone = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    mentor.save()
    mentee.save()
    now = datetime.datetime(2027, 3, 1, 12, tzinfo=datetime.UTC)
    checkin = datetime.date(2027, 3, 5)
    active = make_active(agreement, start=checkin - datetime.timedelta(days=60))
    assert day(active, 60) == checkin
    monkeypatch.setattr(timezone, "now", lambda: now)
    assert (mentor.today(), mentee.today()) == (
        datetime.date(2027, 3, 2),
        datetime.date(2027, 3, 1),
    )

    assert send() == "Queued 1 reminder to send.\n"
    assert sent(Kind.CHECKIN_SOON) == [(mentor.email, checkin)]

    now += datetime.timedelta(days=1)
    assert send() == "Queued 1 reminder to send.\n"
    assert sent(Kind.CHECKIN_SOON) == [(mentee.email, checkin), (mentor.email, checkin)]


def test_no_reminders_for_agreements_not_active(program, mentor, ready, mailoutbox):
    # All three share the dates of `ready`, which awaits signatures.
    def pairing(email, name):
        mentee = make_user(email, name)
        return pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=mentor)

    draft = pairing("dan@example.com", "Dan Draft")
    demo.write_all(draft, by=mentor, start=START)
    ended = make_active(pairing("eve@example.com", "Eve Ended"), start=START)
    assert ended.end_if_due(day(ended, 182))
    statuses = Agreement.objects.values_list("status", flat=True)
    assert sorted(statuses) == ["awaiting", "draft", "ended"]

    for offset in (57, 64, 117, 124, 170):
        assert send(day(ended, offset)) == "Queued 0 reminders to send.\n"
    assert mailoutbox == []
    assert not Reminder.objects.exists()


def test_due_reminders_lists_each_kind_with_its_date(active, mentor, outsider):
    assert due_reminders(agreement=active, user=mentor, today=day(active, 170)) == [
        (Kind.CHECKIN_OVERDUE, day(active, 60)),
        (Kind.CHECKIN_OVERDUE, day(active, 120)),
        (Kind.EXIT_SOON, day(active, 182)),
    ]
    assert due_reminders(agreement=active, user=mentor, today=day(active, 57)) == [
        (Kind.CHECKIN_SOON, day(active, 60))
    ]
    assert due_reminders(agreement=active, user=outsider, today=day(active, 57)) == []


# Sending ------------------------------------------------------------------------


def test_failed_send_is_tried_again_by_the_worker_not_queued_twice(
    active, mentor, mentee, monkeypatch, caplog
):
    deliver = EmailBackend.send_messages

    def refuse_mentee(self, messages):
        if any(mentee.email in m.to for m in messages):
            raise OSError("Connection refused")
        return deliver(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_mentee)
    assert send(day(active, 57)) == "Queued 2 reminders to send.\n"
    assert [m.to for m in mail.outbox] == [[mentor.email]]
    (waiting,) = Effect.objects.outstanding().filter(key__startswith="email:reminder:")
    assert waiting.key.endswith(f":user:{mentee.pk}")
    assert (waiting.attempts, waiting.last_error) == (1, "Connection refused")
    assert "Connection refused" in caplog.text

    monkeypatch.setattr(EmailBackend, "send_messages", deliver)
    # The next cron run queues nothing new: the worker's retry sends it.
    assert send(day(active, 58)) == "Queued 0 reminders to send.\n"
    assert tasks.run_effect(waiting.pk) == "done"
    assert tasks.run_effect(waiting.pk) == "nothing to do"
    assert [m.to for m in mail.outbox] == [[mentor.email], [mentee.email]]
    assert len(sent(Kind.CHECKIN_SOON)) == 2


def test_reminder_emails_hold_nothing_the_pair_wrote(agreement, mentor, mentee, mailoutbox):
    canary = "CANARY-7f3a"
    # The goal and the check-in focus go into the signed version.
    start = timezone.localdate() - datetime.timedelta(days=60)
    demo.write_all(agreement, by=mentor, start=start)
    agreement.goals.update(description=f"Goal {canary}", success_measure=f"Measure {canary}")
    agreement.checkins.update(focus=f"Focus {canary}")
    demo.agree_all(agreement)
    demo.sign_as(agreement, mentor)
    demo.sign_as(agreement, mentee)
    active = fresh(agreement)
    assert canary in active.version_in_force.canonical_json
    active.write_checkin_record(
        planned_date=day(active, 60),
        held_on=day(active, 60),
        progress=[
            (goal, GoalProgress.Status.ON_TRACK, f"Progress {canary}")
            for goal in active.goals_in_force()
        ],
        working="yes",
        note=f"Note {canary}",
        by=mentor,
    )
    active.answer_checkin(
        planned_date=day(active, 60), working="yes", note=f"Answer {canary}", by=mentee
    )
    active.write_closing_note(
        by=mentee, achieved=f"Achieved {canary}", stay_in_touch="yes", how_to_reach=canary
    )
    active.add_off_limits_topic(topic=f"Topic {canary}", rule="never", by=mentor)
    mailoutbox.clear()

    send(day(active, 117))  # the second check-in is coming up
    send(day(active, 170))  # it is overdue, and the exit is near

    kinds = set(Reminder.objects.values_list("kind", flat=True))
    # Every reminder the daily run sends; the digests have a test of their own
    # (tests/test_discussion_emails.py).
    assert kinds == set(Kind.values) - {Kind.DIGEST}
    assert len(mailoutbox) == 6
    for message in mailoutbox:
        assert canary not in message.subject
        assert canary not in message.body
        assert "Focus" not in message.body


def test_query_count_does_not_grow_with_the_agreements(program, mentor, active):
    def queries(today):
        # The command's own queries: the worker sends the emails later.
        with CaptureQueriesContext(connection) as context:
            call_command("send_reminders", "--date", today.isoformat(), stdout=io.StringIO())
        return len(context)

    quiet = queries(day(active, 30))
    for index in range(2):
        make_active(
            pairing_create(
                program=program,
                mentor=mentor,
                mentee=make_user(f"mentee{index}@example.com", f"Mentee {index}"),
                created_by=mentor,
            ),
            start=day(active, 0),
        )
    assert queries(day(active, 31)) == quiet

    # Each reminder costs its claim (3 with its savepoint) and its email's
    # effect (6: looked up, then inserted, inside savepoints).
    assert queries(day(active, 57)) <= quiet + 6 * 9


class SlowBackend(EmailBackend):
    """Holds the claim's transaction open a while, as SMTP would."""

    def send_messages(self, messages):
        time.sleep(0.05)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_reminder_once(settings, active, mailoutbox):
    settings.EMAIL_BACKEND = "tests.test_reminders.SlowBackend"
    today = day(active, 170)  # both check-ins overdue, exit near: 3 reminders each
    mailoutbox.clear()  # the signing's emails, sent as it committed

    outputs = run_at_once(lambda: send(today), lambda: send(today))

    assert sum(int(out.split()[1]) for out in outputs) == 6
    assert len(mail.outbox) == 6
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == 6
    assert Reminder.objects.count() == 6
    assert send(today) == "Queued 0 reminders to send.\n"


def test_bad_date_is_refused():
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_reminders", "--date", "3 March 2027")


# The automatic end --------------------------------------------------------------


def test_agreement_ends_completed_on_its_exit_date(active):
    exit_date = day(active, 182)

    assert end(exit_date - datetime.timedelta(days=1)) == "Ended 0 agreements.\n"
    assert Agreement.objects.get(pk=active.pk).status == Agreement.Status.ACTIVE

    assert end(exit_date) == "Ended 1 agreement.\n"
    ended = Agreement.objects.get(pk=active.pk)
    assert ended.status == Agreement.Status.ENDED
    assert ended.end_reason == Agreement.EndReason.COMPLETED
    assert ended.ended_at is not None
    event = ended.audit_events.get(kind=AuditEvent.Kind.ENDED)
    assert event.details["reason"] == "Completed on the exit date"


def test_agreement_past_its_exit_date_ends_without_a_date_given(agreement):
    active = make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=190))

    assert end() == "Ended 1 agreement.\n"

    assert Agreement.objects.get(pk=active.pk).end_reason == Agreement.EndReason.COMPLETED


def test_agreement_ends_early_once_the_notice_has_run(active, mentor):
    ends_on = active.give_notice(by=mentor)

    assert end(ends_on - datetime.timedelta(days=1)) == "Ended 0 agreements.\n"
    assert end(ends_on) == "Ended 1 agreement.\n"

    ended = Agreement.objects.get(pk=active.pk)
    assert ended.status == Agreement.Status.ENDED
    assert ended.end_reason == Agreement.EndReason.EARLY_EXIT
    assert ended.audit_events.filter(kind=AuditEvent.Kind.ENDED).count() == 1


def test_ending_twice_ends_once_and_tells_both_once(
    active, mentor, mentee, mailoutbox, django_capture_on_commit_callbacks
):
    # Runs the after-commit tasks: the final PDF is sealed and both are told.
    with django_capture_on_commit_callbacks(execute=True):
        assert end(day(active, 200)) == "Ended 1 agreement.\n"
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert end(day(active, 201)) == "Ended 0 agreements.\n"

    assert callbacks == []
    ended = Agreement.objects.get(pk=active.pk)
    assert ended.audit_events.filter(kind=AuditEvent.Kind.ENDED).count() == 1
    assert ended.final_sealed_at is not None
    assert sorted(m.to[0] for m in mailoutbox) == [mentee.email, mentor.email]
    assert all("completed on its exit date" in m.body for m in mailoutbox)


@pytest.mark.django_db(transaction=True)
def test_two_end_runs_at_once_end_the_agreement_once(active, mentor, mentee, mailoutbox):
    mailoutbox.clear()  # the signing's emails, sent as it committed

    outputs = run_at_once(lambda: end(day(active, 182)), lambda: end(day(active, 182)))

    assert sorted(outputs) == ["Ended 0 agreements.\n", "Ended 1 agreement.\n"]
    ended = Agreement.objects.get(pk=active.pk)
    assert ended.audit_events.filter(kind=AuditEvent.Kind.ENDED).count() == 1
    assert sorted(m.to[0] for m in mailoutbox) == [mentee.email, mentor.email]


def test_drafts_and_awaiting_agreements_are_not_ended(ready):
    assert end(datetime.date(2099, 1, 1)) == "Ended 0 agreements.\n"
    assert Agreement.objects.get(pk=ready.pk).status == Agreement.Status.AWAITING_SIGNATURES


def test_end_date_is_the_server_date_in_time_zone(settings, agreement, monkeypatch):
    active = make_active(agreement, start=START)
    exit_date = day(active, 182)
    settings.TIME_ZONE = "Pacific/Kiritimati"
    # 11:00 UTC the day before the exit date is already the exit date in Kiritimati.
    now = datetime.datetime.combine(
        exit_date - datetime.timedelta(days=1), datetime.time(11), tzinfo=datetime.UTC
    )
    monkeypatch.setattr(timezone, "now", lambda: now)
    assert timezone.localdate() == exit_date

    assert end() == "Ended 1 agreement.\n"
