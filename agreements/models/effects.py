"""What the app promised to do once a move commits: send an email, seal a PDF,
render a draft. This module is the only door from the models to the task
worker.

A move calls ``Effect.objects.promise(...)`` inside its transaction. That
writes the ``Effect`` row and the worker's queue entry (django-q2's ORM
broker, in the same database) in the same transaction, so both commit with
the move or neither does: a crash between commit and queueing cannot lose
the promise. The task is named by its dotted path, so the models never
import the task layer and the task layer may import the models.

Each effect is keyed by what it is for ("seal:version:12",
"email:agreement_signed:version:12:user:3"): promising it again is a no-op,
so a retry, a re-queue or a second worker never sends or seals twice.
"""

import datetime
import logging

from django.conf import settings
from django.db import models, transaction
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy, pgettext_lazy
from django_q.models import Schedule
from django_q.tasks import async_task, schedule

logger = logging.getLogger(__name__)

TASK = "agreements.tasks.run_effect"
ERROR_LIMIT = 2000


class EffectQuerySet(models.QuerySet):
    def promise(self, kind, key, **args):
        """Record the effect, once per key, and queue it with the current
        transaction. Returns the effect."""
        with transaction.atomic():
            effect, created = self.get_or_create(key=key, defaults={"kind": kind, "args": args})
            if created:
                effect.queue()
            return effect

    def renew(self, kind, key, **args):
        """Promise the effect, or try a failed or waiting one again now."""
        effect = self.filter(key=key).first()
        if effect is None:
            return self.promise(kind, key, **args)
        effect.retry()
        return effect

    def promise_email(self, name, *, to, about, **args):
        """The email ``name`` (a function of ``agreements.emails``) to ``to``,
        once for ``about`` (what it is for: "version:12", "audit:345")."""
        key = f"email:{name}:{about}:user:{to.pk}"
        return self.promise(Effect.Kind.EMAIL, key, email=name, to=to.pk, **args)

    def outstanding(self):
        return self.exclude(state=Effect.State.DONE)

    def stalled(self):
        """Pending effects that should have run by now, held by no worker:
        their queue entry was lost (deleted by hand, or refused after
        SECRET_KEY changed), or they were carried over from an upgrade."""
        late = Now() - datetime.timedelta(seconds=2 * settings.Q_CLUSTER["retry"])
        return (
            self.filter(state=Effect.State.PENDING)
            .filter(models.Q(running_until__isnull=True) | models.Q(running_until__lt=Now()))
            .filter(
                models.Q(next_attempt_at__isnull=True, created_at__lt=late)
                | models.Q(next_attempt_at__lt=late)
            )
        )


class Effect(models.Model):
    class Kind(models.TextChoices):
        EMAIL = "email", gettext_lazy("Email")
        SEAL_VERSION = "seal_version", gettext_lazy("Seal a signed version")
        SEAL_FINAL = "seal_final", gettext_lazy("Seal the final record")
        RENDER_DRAFT = "render_draft", gettext_lazy("Render a draft PDF")

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("an email or seal to do", "Pending")
        DONE = "done", pgettext_lazy("an email or seal to do", "Done")
        FAILED = "failed", pgettext_lazy("an email or seal to do", "Failed")

    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Ids and names only: what the task needs to find its objects again.
    args = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # A worker holds the effect until then; one that died lets go when it passes.
    running_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    done_at = models.DateTimeField(null=True, blank=True)

    objects = EffectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "created_at"], name="agreements_effect_state")]

    def __str__(self):
        return self.key

    @property
    def schedule_name(self):
        return f"effect:{self.pk}"

    def queue(self, *, at=None):
        """Hand the effect to the worker, now or at ``at``, with the current
        transaction."""
        if at is not None:
            # django-q2's scheduler (in the worker, about every 30 s) queues it then.
            schedule(
                TASK, self.pk, name=self.schedule_name, schedule_type=Schedule.ONCE, next_run=at
            )
        elif settings.Q_CLUSTER.get("sync"):
            # Tests run tasks in-process: only once the move has committed.
            transaction.on_commit(lambda: async_task(TASK, self.pk, sync=True))
        else:
            async_task(TASK, self.pk, sync=False)

    def claim(self):
        """Take the effect for this worker; False if it is done, failed, or
        another worker holds it right now.

        The lease runs on the database's clock, so workers on machines whose
        clocks differ agree on it. It ends halfway between the task timeout
        (django-q2 has stopped the task by then) and ``TASK_RETRY`` (when the
        task of a worker that died is delivered again, to take it over).
        """
        cluster = settings.Q_CLUSTER
        lease = datetime.timedelta(seconds=(cluster["timeout"] + cluster["retry"]) / 2)
        claimed = (
            Effect.objects.filter(pk=self.pk, state=self.State.PENDING)
            .filter(models.Q(running_until__isnull=True) | models.Q(running_until__lt=Now()))
            .update(
                running_until=models.ExpressionWrapper(
                    Now() + lease, output_field=models.DateTimeField()
                ),
                attempts=models.F("attempts") + 1,
            )
        )
        if not claimed:
            return False
        self.refresh_from_db()
        if self.attempts > settings.EFFECT_MAX_ATTEMPTS:
            # Every attempt so far died with its worker (killed, out of memory,
            # over the task timeout): stop instead of taking the worker down again.
            self.failed(RuntimeError("Stopped before it finished, on every attempt."))
            return False
        return True

    @property
    def is_held(self):
        """Pending, and a live worker holds it right now."""
        return (
            self.state == self.State.PENDING
            and self.running_until is not None
            and self.running_until > timezone.now()
        )

    def _mine(self):
        """This worker's claim, as long as nobody has taken the effect over
        (the attempt number is the claim's token)."""
        return Effect.objects.filter(pk=self.pk, state=self.State.PENDING, attempts=self.attempts)

    def succeeded(self):
        self._mine().update(
            state=self.State.DONE, done_at=timezone.now(), running_until=None, last_error=""
        )

    def failed(self, error):
        """An attempt failed: try again after a growing delay, or give up
        after ``EFFECT_MAX_ATTEMPTS`` and keep the reason."""
        now = timezone.now()
        with transaction.atomic():
            effect = self._mine().select_for_update().first()
            if effect is None:
                # Taken over after this worker's lease ran out: not ours to plan.
                return Effect.objects.get(pk=self.pk)
            effect.last_error = str(error)[:ERROR_LIMIT] or type(error).__name__
            effect.running_until = None
            if effect.attempts >= settings.EFFECT_MAX_ATTEMPTS:
                effect.state = self.State.FAILED
                effect.next_attempt_at = None
                effect.forget_planned_retry()
                logger.error("Gave up on %s after %s attempts.", effect.key, effect.attempts)
            else:
                effect.next_attempt_at = now + retry_delay(effect.attempts)
                effect.forget_planned_retry()
                effect.queue(at=effect.next_attempt_at)
            effect.save(update_fields=["last_error", "running_until", "state", "next_attempt_at"])
        return effect

    def retry(self, *, done_too=False):
        """An operator's "try again": a failed or waiting effect is tried now
        (a failed one afresh, its attempts counted from zero). One being done
        by a worker right now is left alone, and so is one done, unless
        ``done_too`` (its result was lost since)."""
        with transaction.atomic():
            effect = Effect.objects.select_for_update().get(pk=self.pk)
            if effect.is_held or (effect.state == self.State.DONE and not done_too):
                return False
            if effect.state != self.State.PENDING:
                effect.state = self.State.PENDING
                effect.attempts = 0
            effect.running_until = None
            effect.next_attempt_at = None
            effect.save(update_fields=["state", "attempts", "running_until", "next_attempt_at"])
            effect.forget_planned_retry()
            effect.queue()
            return True

    def forget_planned_retry(self):
        """Drop the retry planned with django-q2's scheduler, so that one chain
        of attempts runs at a time."""
        Schedule.objects.filter(name=self.schedule_name).delete()


def retry_delay(attempts):
    """1, 2, 4 ... times ``EFFECT_RETRY_DELAY`` seconds, at most an hour."""
    seconds = settings.EFFECT_RETRY_DELAY * 2 ** max(attempts - 1, 0)
    return datetime.timedelta(seconds=min(seconds, 3600))
