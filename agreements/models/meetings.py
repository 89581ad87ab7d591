"""Meetings: the log of the meetings the pair held, and how they keep the
rhythm they signed.

Either party logs a meeting; it counts once the other confirms it, or after
``MEETING_OBJECTION_DAYS`` without an objection (the other may correct it or
say it did not happen). The rhythm's meetings are counted from the start of
the term, less those a pause left out (``agreements.models.pauses``).

What the pair writes here (their notes) is private to the pair; the trail
and the emails carry dates and minutes only. ``MeetingsMixin`` is a concern
of ``Agreement``.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import TYPE_CHECKING

from dateutil import rrule
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from agreements.exceptions import MeetingInvalid

from .audit import AuditEvent
from .ending import runs_on
from .parties import Party
from .pauses import Pause
from .sections import MeetingSchedule
from .text import long_text

Event = AuditEvent.Kind
Frequency = MeetingSchedule.Frequency

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User


def rhythm_rule(frequency: str, first: datetime.date) -> dict | None:
    """The RRULE parts (RFC 5545 names) of meetings every ``frequency`` from
    ``first``, or None for a rhythm of the pair's own words or none at all."""
    if frequency == Frequency.WEEKLY:
        return {"FREQ": "WEEKLY"}
    if frequency == Frequency.FORTNIGHTLY:
        return {"FREQ": "WEEKLY", "INTERVAL": 2}
    if frequency == Frequency.MONTHLY:
        if first.day >= 29:
            # "Every 31st" means the month's last day in a shorter month: the
            # last of the days 28 to 31 that the month has.
            return {"FREQ": "MONTHLY", "BYMONTHDAY": list(range(28, first.day + 1)), "BYSETPOS": -1}
        return {"FREQ": "MONTHLY", "BYMONTHDAY": first.day}
    return None


def meeting_days(frequency: str, first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """The days of the meetings every ``frequency`` from ``first`` to ``last``
    inclusive: [] for a rhythm of the pair's own words, or none."""
    parts = rhythm_rule(frequency, first)
    if parts is None or last < first:
        return []
    rule = rrule.rrule(
        rrule.WEEKLY if parts["FREQ"] == "WEEKLY" else rrule.MONTHLY,
        interval=parts.get("INTERVAL", 1),
        bymonthday=parts.get("BYMONTHDAY"),
        bysetpos=parts.get("BYSETPOS"),
        dtstart=datetime.datetime.combine(first, datetime.time()),
        until=datetime.datetime.combine(last, datetime.time()),
    )
    return [start.date() for start in rule]


@dataclasses.dataclass(frozen=True)
class MeetingsKept:
    """How the pair keeps its rhythm, from the start of the term to a day."""

    since: datetime.date
    held: int  # meetings that count, held since ``since``
    # The meetings the signed rhythm promises since then, less those a pause
    # left out; None when the rhythm is the pair's own words or none.
    promised: int | None
    paused_days: int

    def sentence(self):
        """Where the pair stands, in one sentence."""
        since = date_format(self.since, "YEAR_MONTH_FORMAT")
        if self.promised is None:
            return _("%(held)s meetings held since %(since)s.") % {
                "held": self.held,
                "since": since,
            }
        return _("%(held)s of %(promised)s agreed meetings held since %(since)s.") % {
            "held": self.held,
            "promised": self.promised,
            "since": since,
        }


@dataclasses.dataclass(frozen=True)
class Promise:
    """The meetings promised and held from ``first``, the start of the term,
    to ``last``, the last day counted: what ``MeetingsKept`` and the
    program's outcomes count."""

    first: datetime.date
    last: datetime.date
    # The signed rhythm is counted: not the pair's own words, nor none.
    rhythm: bool
    promised: list[datetime.date]  # the rhythm's meeting days no pause left out
    held: list[datetime.date]  # the days of the meetings that count
    pauses: list[Pause]  # those not called off (``pauses_kept``)

    @property
    def paused_days(self) -> int:
        return sum(pause.days_between(self.first, self.last) for pause in self.pauses)


class MeetingsMixin(models.Model):
    class Meta:
        abstract = True

    # Reading (from the prefetched ``meetings`` and ``pauses``) ---------------

    def last_counted_day(self: Agreement, today: datetime.date) -> datetime.date:
        """The last day the promise is counted to: ``today``, or the last day
        the agreement ran if it ended (or will end) before."""
        end = self.end_date
        return today if runs_on(today, end) else end - datetime.timedelta(days=1)

    def meetings_to_confirm(self: Agreement, user: User, now: datetime.datetime) -> list[Meeting]:
        """The meetings the other party logged that wait for the user's word."""
        party = self.party_of(user)
        return [
            meeting
            for meeting in self.meetings.all()
            if meeting.status == Meeting.Status.PENDING
            and meeting.awaits == party
            and not meeting.counts(now)
        ]

    def _promise(self: Agreement, today: datetime.date, now: datetime.datetime) -> Promise | None:
        """The meetings promised and held as ``meetings_kept`` and the
        program's outcomes count them; None when ``meetings_kept`` is."""
        plan = self.content_in_force
        if plan is None or plan.term.start_date is None:
            return None
        first = plan.term.start_date
        last = self.last_counted_day(today)
        if first > last:
            return None
        pauses = self.pauses_kept()
        frequency = plan.schedule.frequency
        return Promise(
            first=first,
            last=last,
            rhythm=bool(frequency) and frequency != Frequency.CUSTOM,
            promised=[
                day
                for day in meeting_days(frequency, first, last)
                if not any(pause.covers(day) for pause in pauses)
            ],
            held=[
                meeting.held_on
                for meeting in self.meetings.all()
                if meeting.counts(now) and first <= meeting.held_on <= last
            ],
            pauses=pauses,
        )

    def meetings_kept(
        self: Agreement, today: datetime.date, now: datetime.datetime
    ) -> MeetingsKept | None:
        """Meetings held against the rhythm the version in force promises,
        from the start of the term to ``today``; None before it is in force,
        before the term starts, or if it ended before its term started."""
        promise = self._promise(today, now)
        if promise is None:
            return None
        return MeetingsKept(
            since=promise.first,
            held=len(promise.held),
            promised=len(promise.promised) if promise.rhythm else None,
            paused_days=promise.paused_days,
        )

    def _meetings_todo(self: Agreement, user: User) -> list[str]:
        now = timezone.now()
        return [
            # Translators: the other party's name and the day they said the meeting was held.
            _("Confirm the meeting %(name)s logged on %(date)s")
            % {
                "name": self.other_person(user).full_name,
                "date": date_format(meeting.held_on, "SHORT_DATE_FORMAT"),
            }
            for meeting in self.meetings_to_confirm(user, now)
        ]

    # Moves ------------------------------------------------------------------

    def _check_meeting_day(self: Agreement, held_on: datetime.date, today: datetime.date) -> None:
        term = self.content_in_force.term
        if held_on > today:
            raise MeetingInvalid(_("A meeting is logged once it was held: not a future date."))
        if term.start_date and held_on < term.start_date:
            raise MeetingInvalid(_("The agreement’s term had not started on that date."))
        if not runs_on(held_on, self.end_date):
            raise MeetingInvalid(_("The agreement had ended by that date."))

    def _meeting(self: Agreement, number: int) -> Meeting:
        meeting = self.meetings.filter(pk=number).first()
        if meeting is None:
            raise MeetingInvalid(_("This meeting is not in the log."))
        return meeting

    def log_meeting(
        self: Agreement,
        *,
        held_on: datetime.date,
        duration_minutes: int,
        format: str,
        note: str,
        by: User,
        origin: Origin | None = None,
    ) -> Meeting:
        """Log a meeting the pair held; the other party is asked to confirm it."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Meetings are logged only on an Active agreement."))
            agreement._check_meeting_day(held_on, by.today())
            if agreement.meetings.logged_on(held_on).exists():
                raise MeetingInvalid(_("A meeting on that day is already in the log."))
            party = agreement.party_of(by)
            now = timezone.now()
            meeting = Meeting.objects.create(
                agreement=agreement,
                held_on=held_on,
                duration_minutes=duration_minutes,
                format=format,
                awaits=party.other,
                proposed_at=now,
                **{f"{party}_note": note},
            )
            event = agreement._finish(
                Event.MEETING_LOGGED, by=by, origin=origin, at=now, details=meeting.facts(party)
            )
            agreement.tell_other_party("meeting_logged", by=by, event=event, meeting_id=meeting.pk)
            return meeting

    def confirm_meeting(
        self: Agreement, *, number: int, by: User, origin: Origin | None = None
    ) -> Meeting:
        """The other party agrees the meeting was held as logged."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Meetings are confirmed only on an Active agreement."))
            meeting = agreement._meeting(number)
            party = agreement.party_of(by)
            if meeting.status != Meeting.Status.PENDING or meeting.awaits != party:
                raise MeetingInvalid(_("This meeting does not wait for your confirmation."))
            now = timezone.now()
            meeting.status = Meeting.Status.AGREED
            meeting.agreed_at = now
            meeting.save(update_fields=["status", "agreed_at"])
            agreement._finish(
                Event.MEETING_CONFIRMED, by=by, origin=origin, at=now, details=meeting.facts(party)
            )
            return meeting

    def correct_meeting(
        self: Agreement,
        *,
        number: int,
        held_on: datetime.date,
        duration_minutes: int,
        format: str,
        note: str,
        by: User,
        origin: Origin | None = None,
    ) -> Meeting:
        """Either party corrects a meeting not agreed yet; the other is asked
        to confirm the corrected one (the objection period starts again)."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Meetings are corrected only on an Active agreement."))
            meeting = agreement._meeting(number)
            now = timezone.now()
            if meeting.status != Meeting.Status.PENDING or meeting.counts(now):
                raise MeetingInvalid(_("This meeting is agreed: it can no longer be changed."))
            agreement._check_meeting_day(held_on, by.today())
            if agreement.meetings.logged_on(held_on).exclude(pk=meeting.pk).exists():
                raise MeetingInvalid(_("A meeting on that day is already in the log."))
            party = agreement.party_of(by)
            meeting.held_on = held_on
            meeting.duration_minutes = duration_minutes
            meeting.format = format
            meeting.awaits = party.other
            meeting.proposed_at = now
            setattr(meeting, f"{party}_note", note)
            meeting.save()
            event = agreement._finish(
                Event.MEETING_CORRECTED, by=by, origin=origin, at=now, details=meeting.facts(party)
            )
            agreement.tell_other_party("meeting_logged", by=by, event=event, meeting_id=meeting.pk)
            return meeting

    def decline_meeting(
        self: Agreement, *, number: int, by: User, origin: Origin | None = None
    ) -> Meeting:
        """Either party takes a meeting not agreed yet out of the count: the
        other saying it did not happen, or the one who logged it withdrawing it.
        It stays in the log, struck out."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Meetings are changed only on an Active agreement."))
            meeting = agreement._meeting(number)
            now = timezone.now()
            if meeting.status != Meeting.Status.PENDING or meeting.counts(now):
                raise MeetingInvalid(_("This meeting is agreed: it can no longer be changed."))
            party = agreement.party_of(by)
            meeting.status = Meeting.Status.DECLINED
            meeting.declined_by = party
            meeting.save(update_fields=["status", "declined_by"])
            event = agreement._finish(
                Event.MEETING_DECLINED, by=by, origin=origin, at=now, details=meeting.facts(party)
            )
            if meeting.awaits == party:  # the logger learns it was not confirmed
                agreement.tell_other_party(
                    "meeting_declined", by=by, event=event, meeting_id=meeting.pk
                )
            return meeting


class MeetingQuerySet(models.QuerySet):
    def logged_on(self, day):
        """The meetings in the log (not taken out) held on ``day``."""
        return self.filter(held_on=day).exclude(status=Meeting.Status.DECLINED)


class Meeting(models.Model):
    """A meeting the pair held, as one of them logged it."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("meeting", "Waiting for confirmation")
        AGREED = "agreed", pgettext_lazy("meeting", "Confirmed")
        DECLINED = "declined", pgettext_lazy("meeting", "Taken out of the log")

    agreement = models.ForeignKey("Agreement", on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField(gettext_lazy("date"))
    duration_minutes = models.PositiveSmallIntegerField(
        gettext_lazy("how long (minutes)"),
        validators=[MinValueValidator(5), MaxValueValidator(600)],
    )
    format = models.CharField(
        gettext_lazy("how"), max_length=10, choices=MeetingSchedule.Format.choices, blank=True
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    # The party whose word it waits for: the other of whoever logged or last
    # corrected it. It counts when they confirm, or when they let
    # MEETING_OBJECTION_DAYS pass from ``proposed_at``.
    awaits = models.CharField(max_length=6, choices=Party.choices)
    proposed_at = models.DateTimeField(default=timezone.now)
    agreed_at = models.DateTimeField(null=True, blank=True)
    declined_by = models.CharField(max_length=6, choices=Party.choices, blank=True)
    mentor_note = long_text(blank=True)
    mentee_note = long_text(blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "held_on"],
                condition=~Q(status="declined"),
                name="agreements_meeting_one_per_day",
            ),
        ]

    def __str__(self):
        # Notes never go into __str__: the Django admin and logs show it.
        return _("Meeting of %(date)s") % {"date": f"{self.held_on:%Y-%m-%d}"}

    @property
    def logged_by(self):
        """The party who logged it or last corrected it."""
        return Party(self.awaits).other

    def counts(self, now: datetime.datetime) -> bool:
        """Both agree it was held: confirmed, or not objected to in time."""
        if self.status == self.Status.AGREED:
            return True
        objection = datetime.timedelta(days=settings.MEETING_OBJECTION_DAYS)
        return self.status == self.Status.PENDING and now - self.proposed_at >= objection

    def counts_from(self) -> datetime.datetime:
        """When a pending meeting counts without a word from the other party."""
        return self.proposed_at + datetime.timedelta(days=settings.MEETING_OBJECTION_DAYS)

    def note_of(self, party):
        return getattr(self, f"{party}_note")

    def facts(self, party):
        """What the trail records of a move on it: no note."""
        return {
            "held_on": self.held_on,
            "minutes": self.duration_minutes,
            "format": self.format,
            "party": party,
        }
