"""Effects: promised in the move's transaction, done once, retried with a
growing delay, marked failed with their reason, and shown to operators."""

import datetime

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django_q.models import OrmQ, Schedule

from agreements import tasks
from agreements.models import Effect
from agreements.models.effects import retry_delay
from tests.helpers import invite_newcomers

# Long enough ago that every clock, the database's too, agrees the lease is over.
LEASE_RAN_OUT = datetime.timedelta(seconds=5)


@pytest.fixture(autouse=True)
def queued(settings):
    """Promises go to django-q2's queue in the database, as in production."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}


@pytest.fixture
def superuser(outsider):
    outsider.is_staff = outsider.is_superuser = True
    outsider.save()
    return outsider


def test_a_move_promises_each_email_once_with_its_queue_entry(program, program_admin):
    agreement = invite_newcomers(program, program_admin)

    keys = sorted(Effect.objects.values_list("key", flat=True))
    assert keys == sorted(
        f"email:pairing_created:agreement:{agreement.pk}:user:{user.pk}"
        for user in (agreement.mentor, agreement.mentee)
    )
    # Written in the move's transaction, not after it: it has not committed here.
    assert OrmQ.objects.count() == 2
    # Promised again (a retry of the move's caller, a second worker): nothing new.
    agreement.tell_both("pairing_created", about=f"agreement:{agreement.pk}", agreement_id=0)
    assert (Effect.objects.count(), OrmQ.objects.count()) == (2, 2)


def test_a_move_that_rolls_back_promises_nothing(program, program_admin):
    with pytest.raises(RuntimeError), transaction.atomic():
        invite_newcomers(program, program_admin)
        raise RuntimeError("The request failed after the move.")

    assert not Effect.objects.exists()
    assert not OrmQ.objects.exists()


def test_each_failure_is_kept_and_the_last_marks_it_failed(
    program, program_admin, settings, mailoutbox
):
    settings.EFFECT_MAX_ATTEMPTS = 3
    settings.EMAIL_BACKEND = "tests.test_canary.RefusingBackend"
    invite_newcomers(program, program_admin)
    effect = Effect.objects.order_by("pk").first()

    assert [tasks.run_effect(effect.pk) for _ in range(3)] == ["will retry", "will retry", "failed"]

    effect.refresh_from_db()
    assert (effect.state, effect.attempts) == (Effect.State.FAILED, 3)
    assert effect.last_error == "The mail server is down."
    assert effect.next_attempt_at is None
    assert tasks.run_effect(effect.pk) == "nothing to do"
    assert mailoutbox == []


def test_an_effect_whose_worker_dies_every_time_is_marked_failed(program, program_admin, settings):
    settings.EFFECT_MAX_ATTEMPTS = 2
    invite_newcomers(program, program_admin)
    effect = Effect.objects.order_by("pk").first()
    # Two workers claimed it and died: their leases ran out.
    for _ in range(2):
        assert effect.claim()
        Effect.objects.filter(pk=effect.pk).update(running_until=timezone.now() - LEASE_RAN_OUT)

    assert tasks.run_effect(effect.pk) == "nothing to do"

    effect.refresh_from_db()
    assert effect.state == Effect.State.FAILED
    assert effect.last_error == "Stopped before it finished, on every attempt."


def test_the_delay_doubles_up_to_an_hour(settings):
    settings.EFFECT_RETRY_DELAY = 60
    delays = [retry_delay(attempts).total_seconds() for attempts in range(1, 10)]
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]


def test_operators_see_what_is_pending_or_failed_and_try_it_again(
    client, program, program_admin, superuser, settings, mailoutbox
):
    settings.EFFECT_MAX_ATTEMPTS = 1
    invite_newcomers(program, program_admin, 1)
    failing = Effect.objects.order_by("pk").first()
    settings.EMAIL_BACKEND = "tests.test_canary.RefusingBackend"
    assert tasks.run_effect(failing.pk) == "failed"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    done = Effect.objects.order_by("pk").last()
    assert tasks.run_effect(done.pk) == "done"
    client.force_login(superuser)
    changelist = reverse("admin:agreements_effect_changelist")

    page = client.get(changelist)

    assert page.status_code == 200
    assert failing.key in page.text
    assert "The mail server is down." in page.text
    assert done.key not in page.text  # done: listed under "All" only
    assert done.key in client.get(changelist, {"state": "all"}).text

    response = client.post(
        changelist,
        {"action": "try_again", "_selected_action": [failing.pk, done.pk]},
        follow=True,
    )
    assert "1 effect queued again" in response.text
    failing.refresh_from_db()
    assert (failing.state, failing.attempts) == (Effect.State.PENDING, 0)
    assert tasks.run_effect(failing.pk) == "done"
    assert len(mailoutbox) == 2


def test_the_effects_admin_is_for_superusers_only(client, program_admin):
    program_admin.is_staff = True
    program_admin.save()
    client.force_login(program_admin)
    assert client.get(reverse("admin:agreements_effect_changelist")).status_code == 403


def test_a_retry_is_scheduled_for_the_worker_after_the_delay(program, program_admin, settings):
    settings.EMAIL_BACKEND = "tests.test_canary.RefusingBackend"
    invite_newcomers(program, program_admin)
    effect = Effect.objects.order_by("pk").first()
    before = timezone.now()

    tasks.run_effect(effect.pk)

    (retry,) = Schedule.objects.filter(func="agreements.tasks.run_effect")
    assert retry.name == f"effect:{effect.pk}"
    assert retry.schedule_type == Schedule.ONCE
    effect.refresh_from_db()
    assert retry.next_run == effect.next_attempt_at
    assert retry.next_run - before >= datetime.timedelta(seconds=settings.EFFECT_RETRY_DELAY)


def test_the_sweep_queues_again_only_what_nothing_would_run(program, program_admin, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "retry": 60}
    invite_newcomers(program, program_admin)
    lost, waiting = Effect.objects.order_by("pk")
    OrmQ.objects.all().delete()  # an operator deleted the queue's entries
    an_hour_ago = timezone.now() - datetime.timedelta(hours=1)
    Effect.objects.filter(pk=lost.pk).update(created_at=an_hour_ago)

    assert tasks.queue_stalled_effects() == 1
    assert OrmQ.objects.count() == 1
    # The other is young (its entry may still be on its way); a held one is running.
    Effect.objects.filter(pk=waiting.pk).update(
        created_at=an_hour_ago, running_until=timezone.now() + datetime.timedelta(minutes=5)
    )
    assert tasks.run_effect(lost.pk) == "done"
    assert tasks.queue_stalled_effects() == 0


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_carries_over_what_the_old_queue_had_not_finished(
    ready, django_capture_on_commit_callbacks
):
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from agreements import demo

    demo.sign_as(ready, ready.mentor)
    demo.sign_as(ready, ready.mentee)  # signed, not sealed: nothing ran
    Effect.objects.all().delete()
    executor = MigrationExecutor(connection)
    executor.migrate([("agreements", "0004_program_administration")])
    try:
        executor.loader.build_graph()
        executor.migrate([("agreements", "0006_text_line_limit")])
        promised = set(Effect.objects.values_list("key", flat=True))
    finally:
        call_command("migrate", "agreements", verbosity=0)
    version = ready.versions.get()
    assert promised == {f"seal:version:{version.pk}"}
    assert Effect.objects.get().state == Effect.State.PENDING
