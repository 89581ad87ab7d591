"""Ending: how a mentoring relationship closes.

Either party may give notice without a reason (the no-fault exit); the
agreement ends once the notice has run or on its exit date, or when a
program admin ends the pairing. Each party may leave a closing note, and an
agreement that was in force gets a sealed final record. ``EndingMixin`` is a
concern of ``Agreement``.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.exceptions import AlreadyEnded, NoticeAlreadyGiven
from agreements.storage import remove_leftovers

from .audit import AuditEvent
from .effects import Effect
from .parties import Party
from .text import long_text, untranslated

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User


def runs_on(day: datetime.date, end: datetime.date | None) -> bool:
    """Whether an agreement ending on ``end`` (None: no end yet) still runs on
    ``day``. It ends on the morning of its end date, so no check-in falls on
    that day: the forms refuse one, the timeline cancels it, no reminder is
    sent and the calendar leaves it out."""
    return end is None or day < end


def _final_pdf_path(agreement, filename):
    return f"agreements/{agreement.uuid}/final-{filename}"


class EndingMixin(models.Model):
    class EndReason(models.TextChoices):
        COMPLETED = "completed", gettext_lazy("Completed on the exit date")
        EARLY_EXIT = "early_exit", gettext_lazy("Ended early: no-fault exit")
        BY_PROGRAM = "program", gettext_lazy("Ended by the program")

    ended_at = models.DateTimeField(null=True, blank=True)
    # The no-fault exit: who gave notice, when, and the day it takes effect.
    notice_given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notice_given_at = models.DateTimeField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    # Why a program admin ended the pairing; shown to the pair.
    end_note = models.TextField(blank=True)
    # The final record of an ended agreement: the version in force, how it
    # ended and the closing notes, sealed like a signed version.
    final_pdf = models.FileField(upload_to=_final_pdf_path, blank=True)
    final_pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    final_sealed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    # Reading ----------------------------------------------------------------

    @property
    def is_ended(self):
        return self.status == self.Status.ENDED

    @property
    def is_ending(self):
        """Notice was given and the agreement has not ended yet."""
        return self.notice_given_at is not None and not self.is_ended

    @property
    def _exit_date_in_force(self):
        in_force = self.content_in_force
        return in_force.term.exit_date if in_force else None

    @property
    def ends_early(self):
        """Notice takes effect before the exit date in force (or there is none)."""
        exit_date = self._exit_date_in_force
        return self.ends_on is not None and (exit_date is None or self.ends_on < exit_date)

    @property
    def ended_on(self):
        """The day an ended agreement ended: its exit date, or the day its
        notice took effect (the end itself may be recorded a little later)."""
        if not self.is_ended:
            return None
        if self.end_reason == self.EndReason.EARLY_EXIT:
            return self.ends_on
        if self.end_reason == self.EndReason.COMPLETED and self.content_in_force:
            return self._exit_date_in_force
        return timezone.localdate(self.ended_at)

    @property
    def end_date(self):
        """The day the relationship ends as things stand (see ``runs_on``):
        the exit date in force, or the day a notice takes effect, whichever
        comes first."""
        if self.is_ended:
            return self.ended_on
        return min(filter(None, [self._exit_date_in_force, self.ends_on]), default=None)

    def notice_end_date(self, today):
        """The day a notice given ``today`` takes effect: after the agreed
        notice, or on the exit date if that comes first."""
        term = self.content_in_force.term
        ends_on = today + datetime.timedelta(days=term.notice_days)
        return min(ends_on, term.exit_date) if term.exit_date else ends_on

    def closing_note_of(self, party):
        return next((note for note in self.closing_notes.all() if note.party == party), None)

    def _ending_todo(self, user):
        """A closing note, while the agreement is ending."""
        if self.is_ending and self.closing_note_of(self.party_of(user)) is None:
            return [
                _("Write your closing note before %(date)s")
                % {"date": date_format(self.ends_on, "SHORT_DATE_FORMAT")}
            ]
        return []

    @property
    def final_seal_key(self):
        return f"seal:final:{self.pk}"

    @cached_property
    def final_seal_failed(self):
        """Sealing the final record was tried ``EFFECT_MAX_ATTEMPTS`` times and failed."""
        failed = Effect.objects.filter(key=self.final_seal_key, state=Effect.State.FAILED)
        return not self.final_sealed_at and failed.exists()

    # Moves ------------------------------------------------------------------

    def write_closing_note(
        self: Agreement,
        *,
        by: User,
        achieved: str,
        stay_in_touch: str,
        how_to_reach: str,
        origin: Origin | None = None,
    ) -> None:
        """Write or rewrite one's closing note, until the agreement ends."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Closing notes are written only on an Active agreement."))
            agreement._write_closing_note(
                by=by,
                achieved=achieved,
                stay_in_touch=stay_in_touch,
                how_to_reach=how_to_reach,
                origin=origin,
            )

    def _write_closing_note(self, *, by, achieved, stay_in_touch, how_to_reach, origin):
        party = self.party_of(by)
        now = timezone.now()
        note, created = ClosingNote.objects.update_or_create(
            agreement=self,
            party=party,
            defaults={
                "achieved": achieved,
                "stay_in_touch": stay_in_touch,
                "how_to_reach": how_to_reach,
                "author": by,
                "written_at": now,
            },
        )
        if note.is_empty():
            note.delete()
            if created:
                return  # nothing written, nothing to record
        self._finish(Event.CLOSING_NOTE, by=by, origin=origin, at=now, details={"party": party})

    def give_notice(
        self: Agreement,
        *,
        by: User,
        closing_note: dict[str, str] | None = None,
        origin: Origin | None = None,
    ) -> datetime.date:
        """The no-fault exit: no reason asked. The agreement ends once the
        agreed notice has run (or on the exit date, if that comes first)."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Notice can be given only on an Active agreement."))
            if agreement.notice_given_at:
                raise NoticeAlreadyGiven(_("Notice to end this agreement was already given."))
            today = by.today()
            term = agreement.content_in_force.term
            ends_on = agreement.notice_end_date(today)
            now = timezone.now()
            if agreement.is_amending:
                # Nothing unsigned outlives the notice: the terms in force stand.
                agreement._drop_amendment(
                    now, f"{by.full_name} gave notice to end the agreement.", by=by, origin=origin
                )
            # Nor does a proposal, which could only start one.
            agreement._lapse_open_proposals(now)
            agreement.notice_given_by, agreement.notice_given_at = by, now
            agreement.ends_on = ends_on
            event = agreement._finish(
                Event.NOTICE_GIVEN,
                by=by,
                origin=origin,
                at=now,
                details={"notice_days": term.notice_days, "ends_on": ends_on},
                changed=["notice_given_by", "notice_given_at", "ends_on"],
            )
            if closing_note and any(closing_note.values()):
                agreement._write_closing_note(by=by, origin=origin, **closing_note)
            agreement.tell_other_party("notice_given", by=by, event=event)
            if not runs_on(today, ends_on):
                agreement = agreement._reload()
                agreement._end(now, origin=origin)
            return ends_on

    def end_if_due(self: Agreement, today: datetime.date) -> bool:
        """End the agreement if its end date has come; returns True if it ended."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.status != self.Status.ACTIVE:
                return False
            if runs_on(today, agreement.end_date):
                return False
            agreement._end(timezone.now())
            return True

    def end_by_program(
        self: Agreement, *, by: User, note: str, origin: Origin | None = None
    ) -> Agreement:
        """A program admin ends the pairing, in any state but ended, saying why.
        The pair sees the reason; a signed agreement gets its final record."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.is_ended:
                raise AlreadyEnded(_("This pairing has already ended."))
            agreement.end_note = note
            agreement._end(timezone.now(), reason=self.EndReason.BY_PROGRAM, by=by, origin=origin)
            return agreement

    def _end(self, now, *, reason=None, by=None, origin=None):
        """Close the agreement; an unsigned amendment is dropped first."""
        if reason is None:
            reason = self.EndReason.EARLY_EXIT if self.ends_early else self.EndReason.COMPLETED
        if self.is_amending:
            self._drop_amendment(now, "The agreement ended before the amendment was signed.")
        elif not self.version_in_force:
            # Ended before both signed: a half-signed version signs nothing.
            self._void_working_signatures(
                now, "The pairing ended before both had signed.", origin=origin
            )
        # A proposal left open can no longer be answered.
        self._lapse_open_proposals(now)
        self.status = self.Status.ENDED
        self.end_reason = reason
        self.ended_at = now
        details = {"reason": untranslated(self.EndReason(reason).label)}
        if reason == self.EndReason.EARLY_EXIT:
            details["notice_given_by"] = self.notice_given_by.full_name
        if reason == self.EndReason.BY_PROGRAM:
            details["note"] = self.end_note
        self._finish(
            Event.ENDED,
            by=by,
            origin=origin,
            at=now,
            details=details,
            changed=["status", "end_reason", "end_note", "ended_at", "amending_since"],
        )
        if self.version_in_force:
            # A pairing ended before anything was signed has no record to seal.
            Effect.objects.promise(
                Effect.Kind.SEAL_FINAL, self.final_seal_key, agreement_id=self.pk
            )
        self.tell_both("agreement_ended", about=f"agreement:{self.pk}", agreement_id=self.pk)

    def store_final_pdf(self: Agreement, sealed: bytes) -> Agreement:
        """Keep the sealed final record of the ended agreement, and audit it; once."""
        with transaction.atomic():
            agreement = type(self).objects.select_for_update().get(pk=self.pk)
            if agreement.final_sealed_at:
                return agreement
            digest = hashlib.sha256(sealed).hexdigest()
            remove_leftovers(agreement.final_pdf.storage, _final_pdf_path(agreement, "sealed-"))
            # The storage writes the whole file or nothing under this name.
            agreement.final_pdf.save(f"sealed-{digest[:12]}.pdf", ContentFile(sealed), save=False)
            agreement.final_pdf_sha256 = digest
            agreement.final_sealed_at = timezone.now()
            agreement.save(update_fields=["final_pdf", "final_pdf_sha256", "final_sealed_at"])
            agreement.audit(
                Event.PDF_SEALED,
                details={"file": "final", "pdf_sha256": digest},
                at=agreement.final_sealed_at,
            )
            return agreement


class ClosingNote(models.Model):
    class StayInTouch(models.TextChoices):
        YES = "yes", gettext_lazy("Yes, I'd like to stay in touch")
        MAYBE = "maybe", gettext_lazy("Maybe, now and then")
        NO = "no", gettext_lazy("No, this is a good place to stop")

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="closing_notes"
    )
    party = models.CharField(max_length=6, choices=Party.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    achieved = long_text(gettext_lazy("what we achieved"), blank=True)
    stay_in_touch = models.CharField(
        gettext_lazy("stay in touch?"), max_length=5, choices=StayInTouch.choices, blank=True
    )
    how_to_reach = long_text(
        gettext_lazy("how to stay in touch"),
        blank=True,
        help_text=gettext_lazy("Optional: a personal email, a profile, a yearly coffee."),
    )
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-party"]  # the mentor's first
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"], name="agreements_closingnote_one_per_party"
            ),
        ]

    def __str__(self):
        if self.party == Party.MENTOR:
            return _("Closing note of the mentor")
        return _("Closing note of the mentee")

    def is_empty(self):
        return not (self.achieved or self.stay_in_touch or self.how_to_reach)
