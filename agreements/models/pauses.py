"""Pauses in the meetings.

Either party may pause the meetings from a day, until a day or until one of
them resumes them, within the term; no reason is asked. A pause moves nothing
the pair signed: while it lasts, the calendar cancels the meetings and
check-ins inside it, reminders wait, and nobody is counted against for a
meeting the pause left out (``Agreement.meetings_kept``).

The pause's note is private to the pair; the trail and the emails carry dates
only, the program sees that a pair is paused and until when. ``PausesMixin``
is a concern of ``Agreement``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements.exceptions import PauseInvalid

from .audit import AuditEvent
from .ending import runs_on
from .parties import Party
from .text import long_text

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User


class PausesMixin(models.Model):
    class Meta:
        abstract = True

    # Reading (from the prefetched ``pauses``) --------------------------------

    def pauses_kept(self: Agreement):
        """The pauses that were not called off before they began, by start."""
        return sorted(
            (pause for pause in self.pauses.all() if pause.cancelled_at is None),
            key=lambda pause: pause.starts_on,
        )

    def paused_on(self: Agreement, day: datetime.date) -> Pause | None:
        """The pause that covers ``day``, if one does."""
        return next((pause for pause in self.pauses_kept() if pause.covers(day)), None)

    def pause_to_come(self: Agreement, today: datetime.date) -> Pause | None:
        """The pause under way on ``today`` or planned after it: one at a time."""
        return next(
            (pause for pause in self.pauses_kept() if pause.until is None or pause.until >= today),
            None,
        )

    # Moves ------------------------------------------------------------------

    def pause_meetings(
        self: Agreement,
        *,
        starts_on: datetime.date,
        until: datetime.date | None,
        note: str,
        by: User,
        origin: Origin | None = None,
    ) -> Pause:
        """Pause the meetings from ``starts_on`` to ``until`` (inclusive; None:
        until resumed or the end). No reason asked; the other party is told."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Meetings are paused only on an Active agreement."))
            today = by.today()
            under_way = agreement.pause_to_come(today)
            if under_way is not None:
                raise PauseInvalid(
                    _("The meetings are already paused from %(date)s. Resume them first.")
                    % {"date": date_format(under_way.starts_on)}
                )
            if starts_on < today:
                raise PauseInvalid(_("A pause starts today or later, not in the past."))
            end = agreement.end_date
            if not runs_on(starts_on, end):
                raise PauseInvalid(_("The agreement ends before that date."))
            if until is not None and until < starts_on:
                raise PauseInvalid(_("The pause cannot end before it starts."))
            if until is not None and not runs_on(until, end):
                raise PauseInvalid(
                    _("A pause cannot outlast the agreement: its last day is %(date)s.")
                    % {"date": date_format(end - datetime.timedelta(days=1))}
                )
            longest = agreement.content_in_force.term.pause_max_days
            if longest is not None:
                last_day = starts_on + datetime.timedelta(days=longest - 1)
                if until is None or until > last_day:
                    raise PauseInvalid(
                        ngettext(
                            "Your agreement allows a pause of at most %(days)s day: "
                            "choose an end on or before %(date)s.",
                            "Your agreement allows a pause of at most %(days)s days: "
                            "choose an end on or before %(date)s.",
                            longest,
                        )
                        % {"days": longest, "date": date_format(last_day)}
                    )
            party = agreement.party_of(by)
            now = timezone.now()
            pause = Pause.objects.create(
                agreement=agreement,
                starts_on=starts_on,
                until=until,
                paused_by=party,
                paused_at=now,
                note=note,
            )
            event = agreement._finish(
                Event.MEETINGS_PAUSED, by=by, origin=origin, at=now, details=pause.facts(party)
            )
            agreement.tell_other_party("meetings_paused", by=by, event=event, pause_id=pause.pk)
            return pause

    def resume_meetings(self: Agreement, *, by: User, origin: Origin | None = None) -> Pause:
        """Either party ends the pause today, or calls off one not begun."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Meetings are resumed only on an Active agreement."))
            today = by.today()
            pause = agreement.pause_to_come(today)
            if pause is None:
                raise PauseInvalid(_("The meetings are not paused."))
            party = agreement.party_of(by)
            now = timezone.now()
            pause.resumed_by = party
            pause.resumed_at = now
            if pause.starts_on >= today:
                pause.cancelled_at = now  # nothing of it took place
            else:
                pause.until = today - datetime.timedelta(days=1)
            pause.save(update_fields=["resumed_by", "resumed_at", "cancelled_at", "until"])
            event = agreement._finish(
                Event.MEETINGS_RESUMED, by=by, origin=origin, at=now, details=pause.facts(party)
            )
            agreement.tell_other_party("meetings_resumed", by=by, event=event, pause_id=pause.pk)
            return pause


class Pause(models.Model):
    """A pause in the meetings, from ``starts_on`` to ``until`` inclusive (no
    ``until``: until resumed or the end of the agreement)."""

    agreement = models.ForeignKey("Agreement", on_delete=models.CASCADE, related_name="pauses")
    starts_on = models.DateField(gettext_lazy("from"))
    until = models.DateField(gettext_lazy("until"), null=True, blank=True)
    paused_by = models.CharField(max_length=6, choices=Party.choices)
    paused_at = models.DateTimeField(default=timezone.now)
    note = long_text(blank=True)
    resumed_by = models.CharField(max_length=6, choices=Party.choices, blank=True)
    resumed_at = models.DateTimeField(null=True, blank=True)
    # Resumed before it began: it never took place.
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=models.F("starts_on")),
                name="agreements_pause_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        # The note never goes into __str__: the Django admin and logs show it.
        return _("Pause from %(date)s") % {"date": f"{self.starts_on:%Y-%m-%d}"}

    def covers(self, day: datetime.date) -> bool:
        return (
            self.cancelled_at is None
            and self.starts_on <= day
            and (self.until is None or day <= self.until)
        )

    def days_between(self, first: datetime.date, last: datetime.date) -> int:
        """How many days from ``first`` to ``last`` inclusive it covers."""
        if self.cancelled_at is not None:
            return 0
        start = max(first, self.starts_on)
        stop = min(last, self.until) if self.until else last
        return max(0, (stop - start).days + 1)

    def facts(self, party):
        """What the trail records of a move on it: no note."""
        return {"starts_on": self.starts_on, "until": self.until, "party": party}
