"""The agreement after it is signed: check-ins, added off-limits topics, the
no-fault exit and the end.

``LivingAgreement`` is a mixin of ``Agreement``; its moves follow the same
rules as the drafting moves there: lock the row, check the state, write the
audit entry, all in one transaction, side effects after commit.
"""

import datetime
import hashlib

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property

from agreements import content
from agreements.exceptions import CheckInInvalid, NotEditable

from .audit import AuditEvent
from .checkins import CheckInRecord, GoalProgress
from .effects import Effect
from .ending import ClosingNote
from .sections import Party

# A program admin reminds a pair at most this often.
PROGRAM_REMINDER_INTERVAL = datetime.timedelta(hours=24)

Event = AuditEvent.Kind


class CheckInState:
    UPCOMING = "upcoming"
    DUE = "due"  # its day has come: it can be recorded
    OVERDUE = "overdue"
    HELD = "held"
    CANCELLED = "cancelled"  # not held, and now it cannot be: the agreement ends first


class LivingAgreement:
    # Reading ----------------------------------------------------------------

    @property
    def is_ended(self):
        return self.status == self.Status.ENDED

    @property
    def is_ending(self):
        """Notice was given and the agreement has not ended yet."""
        return self.notice_given_at is not None and not self.is_ended

    @cached_property
    def plan(self):
        """The content in force (an ``AgreementContent``), or None before both
        signed: what the calendar, the check-ins and the reminders follow."""
        version = self.version_in_force
        return version.as_content() if version else None

    @property
    def ended_on(self):
        """The day an ended agreement ended: its exit date, or the day its
        notice took effect (the end itself may be recorded a little later)."""
        if not self.is_ended:
            return None
        if self.end_reason == self.EndReason.EARLY_EXIT:
            return self.ends_on
        if self.end_reason == self.EndReason.COMPLETED and self.plan:
            return self.plan.term.exit_date
        return timezone.localdate(self.ended_at)

    @property
    def end_date(self):
        """The day the relationship ends as things stand (it ends that
        morning): the exit date in force, or the day a notice takes effect,
        whichever comes first."""
        if self.is_ended:
            return self.ended_on
        exit_date = self.plan.term.exit_date if self.plan else None
        return min(filter(None, [exit_date, self.ends_on]), default=None)

    def other_party(self, party):
        return Party.MENTEE if party == Party.MENTOR else Party.MENTOR

    def other_person(self, user):
        """The other party of the agreement, for one of its parties."""
        return self.user_for(self.other_party(self.party_of(user)))

    def notice_end_date(self, today):
        """The day a notice given ``today`` takes effect: after the agreed
        notice, or on the exit date if that comes first."""
        term = self.plan.term
        ends_on = today + datetime.timedelta(days=term.notice_days)
        return min(ends_on, term.exit_date) if term.exit_date else ends_on

    def goals_in_force(self):
        """The goal rows both signed: during an amendment, draft goals are left out."""
        goals = list(self.goals.all())
        if not self.is_amending:
            return goals
        signed = [content.normalise(goal.as_data()) for goal in self.plan.goals]
        return [goal for goal in goals if content.normalise(goal.as_data()) in signed]

    def goal_statuses(self):
        """{goal id: latest GoalProgress} from the prefetched check-in records."""
        latest = {}
        for record in sorted(self.checkin_records.all(), key=lambda r: r.held_on):
            for progress in record.progress.all():
                if progress.goal_id:
                    latest[progress.goal_id] = progress
        return latest

    def achieved_goal_ids(self):
        """The goals whose latest check-in marked them done."""
        return {
            goal_id
            for goal_id, progress in self.goal_statuses().items()
            if progress.status == GoalProgress.Status.DONE
        }

    def checkin_timeline(self, today):
        """[(check-in, record or None, state)] for the check-ins in force."""
        if self.plan is None:
            return []
        records = {record.planned_date: record for record in self.checkin_records.all()}
        grace = datetime.timedelta(days=settings.CHECKIN_OVERDUE_AFTER_DAYS)
        end = self.end_date
        timeline = []
        for checkin in self.plan.checkins:
            record = records.get(checkin.date)
            if record:
                state = CheckInState.HELD
            elif self.is_ended or (end and checkin.date >= end):
                # The agreement ends on the morning of its end date.
                state = CheckInState.CANCELLED
            elif checkin.date > today:
                state = CheckInState.UPCOMING
            elif today > checkin.date + grace:
                state = CheckInState.OVERDUE
            else:
                state = CheckInState.DUE
            timeline.append((checkin, record, state))
        return timeline

    def checkin_summary(self, today):
        """(held, overdue) counts: all a program admin learns of the check-ins."""
        states = [state for _checkin, _record, state in self.checkin_timeline(today)]
        return states.count(CheckInState.HELD), states.count(CheckInState.OVERDUE)

    def checkins_to_record(self, today):
        if self.status != self.Status.ACTIVE:
            return []
        return [
            checkin
            for checkin, _record, state in self.checkin_timeline(today)
            if state in {CheckInState.DUE, CheckInState.OVERDUE}
        ]

    def next_checkin_date(self, today):
        return next(
            (
                checkin.date
                for checkin, _record, state in self.checkin_timeline(today)
                if state == CheckInState.UPCOMING
            ),
            None,
        )

    def living_todo_for(self, user):
        """What an agreement in force asks of the user: check-ins to record or
        answer, and a closing note while it is ending."""
        if self.status != self.Status.ACTIVE or self.plan is None:
            return []
        today, party = user.today(), self.party_of(user)
        todo = []
        for checkin, record, state in self.checkin_timeline(today):
            when = date_format(checkin.date, "j M Y")
            if state == CheckInState.OVERDUE:
                todo.append(f"Record the check-in of {when} (overdue)")
            elif state == CheckInState.DUE:
                todo.append(f"Record the check-in of {when}")
            elif record and not record.answer_of(party)[0]:
                todo.append(f"Answer “still working for you?” for the check-in of {when}")
        if self.is_ending and self.closing_note_of(party) is None:
            todo.append(f"Write your closing note before {date_format(self.ends_on, 'j M Y')}")
        return todo

    def closing_note_of(self, party):
        return next((note for note in self.closing_notes.all() if note.party == party), None)

    def added_off_limits(self):
        """Topics one party added since the version in force was signed."""
        in_force = self.version_in_force
        if in_force is None:
            return []
        return [
            topic
            for topic in self.off_limits_topics.all()
            if topic.added_at and topic.added_at > in_force.in_force_at
        ]

    # Moves ------------------------------------------------------------------

    def _require_active(self, what):
        if self.status != self.Status.ACTIVE:
            raise NotEditable(f"{what} only on an Active agreement.")

    def add_off_limits_topic(self, *, topic, rule, by, origin=None):
        """Add a topic to an Active agreement. It only narrows what may be
        discussed, so nobody signs again; the other party is told."""
        from agreements.models import Section

        kind = Section.Kind.OFF_LIMITS
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active("Topics are added this way")
            wanted = content.normalise_text(topic).casefold()
            if any(
                content.normalise_text(t.topic).casefold() == wanted
                for t in agreement.off_limits_topics.all()
            ):
                raise NotEditable("That topic is already off limits.")
            before = agreement.section_data(kind)
            now = timezone.now()
            agreement.off_limits_topics.create(topic=topic, rule=rule, added_by=by, added_at=now)
            agreement = agreement._reload()
            after = content.normalise(agreement.section_data(kind))
            # A new token, so a form opened before this addition cannot undo it;
            # the agreed marks stay: both agreed to the section this only narrows.
            event = agreement._record_section_change(
                kind,
                before=before,
                after=after,
                by=by,
                origin=origin,
                at=now,
                agreed=None,
                event=Event.OFF_LIMITS_ADDED,
            )
            if agreement.is_amending:
                agreement._void_working_signatures(
                    now, f"{by.full_name} added an off-limits topic.", origin=origin
                )
            agreement.last_activity_at = now
            agreement.save(update_fields=["last_activity_at"])
            agreement.tell_other_party("off_limits_added", by=by, event=event)

    def record_checkin(self, *, planned_date, held_on, progress, working, note, by, origin=None):
        """Record a check-in held on or after its date.

        ``progress`` is [(goal, status, note)] for the goals in force; the
        recorder also gives their own answer to "still working for you?".
        """
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active("Check-ins are recorded")
            today = by.today()
            dates = {checkin.date for checkin in agreement.plan.checkins}
            if planned_date not in dates:
                raise CheckInInvalid("The agreement has no check-in on that date.")
            if planned_date > today:
                raise CheckInInvalid("A check-in can be recorded on or after its date, not before.")
            if held_on > today:
                raise CheckInInvalid("The date it was held cannot be in the future.")
            if agreement.checkin_records.filter(planned_date=planned_date).exists():
                raise CheckInInvalid("This check-in was already recorded.")
            goals = {goal.pk for goal in agreement.goals_in_force()}
            if {goal.pk for goal, _status, _note in progress} != goals:
                raise CheckInInvalid(
                    "The goals changed while you were filling in the form. Open it again."
                )
            party = agreement.party_of(by)
            now = timezone.now()
            record = CheckInRecord.objects.create(
                agreement=agreement,
                planned_date=planned_date,
                held_on=held_on,
                recorded_by=by,
                recorded_at=now,
                **{
                    f"{party}_working": working,
                    f"{party}_note": note,
                    f"{party}_answered_at": now,
                },
            )
            GoalProgress.objects.bulk_create(
                GoalProgress(
                    record=record,
                    goal=goal,
                    goal_description=goal.description,
                    status=status,
                    note=goal_note,
                )
                for goal, status, goal_note in progress
            )
            # Dates only: what the pair wrote stays out of the trail's details.
            agreement.record(
                Event.CHECKIN_RECORDED,
                actor=by,
                origin=origin,
                at=now,
                details={"planned_date": planned_date, "held_on": held_on, "party": party},
            )
            agreement.last_activity_at = now
            agreement.save(update_fields=["last_activity_at"])
            return record

    def answer_checkin(self, *, planned_date, working, note, by, origin=None):
        """A party's own answer to "is this agreement still working for you?"."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active("Check-ins are answered")
            record = agreement.checkin_records.filter(planned_date=planned_date).first()
            if record is None:
                raise CheckInInvalid("This check-in has not been recorded yet.")
            party = agreement.party_of(by)
            now = timezone.now()
            setattr(record, f"{party}_working", working)
            setattr(record, f"{party}_note", note)
            setattr(record, f"{party}_answered_at", now)
            record.save(update_fields=[f"{party}_working", f"{party}_note", f"{party}_answered_at"])
            agreement.record(
                Event.CHECKIN_ANSWERED,
                actor=by,
                origin=origin,
                at=now,
                details={"planned_date": planned_date, "party": party},
            )
            agreement.last_activity_at = now
            agreement.save(update_fields=["last_activity_at"])

    def write_closing_note(self, *, by, achieved, stay_in_touch, how_to_reach, origin=None):
        """Write or rewrite one's closing note, until the agreement ends."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active("Closing notes are written")
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
            if created:
                note.delete()
                return  # nothing written, nothing to record
            note.delete()
        self.record(Event.CLOSING_NOTE, actor=by, origin=origin, at=now, details={"party": party})

    def give_notice(self, *, by, closing_note=None, origin=None):
        """The no-fault exit: no reason asked. The agreement ends once the
        agreed notice has run (or on the exit date, if that comes first)."""
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active("Notice can be given")
            if agreement.notice_given_at:
                raise NotEditable("Notice to end this agreement was already given.")
            today = by.today()
            term = agreement.plan.term
            ends_on = agreement.notice_end_date(today)
            now = timezone.now()
            if agreement.is_amending:
                # Nothing unsigned outlives the notice: the terms in force stand.
                agreement._drop_amendment(
                    now, f"{by.full_name} gave notice to end the agreement.", by=by, origin=origin
                )
            agreement.notice_given_by, agreement.notice_given_at = by, now
            agreement.ends_on = ends_on
            agreement.last_activity_at = now
            agreement.save(
                update_fields=["notice_given_by", "notice_given_at", "ends_on", "last_activity_at"]
            )
            event = agreement.record(
                Event.NOTICE_GIVEN,
                actor=by,
                origin=origin,
                at=now,
                details={"notice_days": term.notice_days, "ends_on": ends_on},
            )
            if closing_note and any(closing_note.values()):
                agreement._write_closing_note(by=by, origin=origin, **closing_note)
            agreement.tell_other_party("notice_given", by=by, event=event)
            if ends_on <= today:
                agreement = agreement._reload()
                agreement._end(now, origin=origin)
            return ends_on

    def end_if_due(self, today):
        """End the agreement if its end date has come; returns True if it ended."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.status != self.Status.ACTIVE:
                return False
            end = agreement.end_date
            if end is None or end > today:
                return False
            agreement._end(timezone.now())
            return True

    def end_by_program(self, *, by, note, origin=None):
        """A program admin ends the pairing, in any state but ended, saying why.
        The pair sees the reason; a signed agreement gets its final record."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.is_ended:
                raise NotEditable("This pairing has already ended.")
            agreement.end_note = note
            agreement._end(timezone.now(), reason=self.EndReason.BY_PROGRAM, by=by, origin=origin)
            return agreement

    def _end(self, now, *, reason=None, by=None, origin=None):
        """Close the agreement; an unsigned amendment is dropped first."""
        if reason is None:
            exit_date = self.plan.term.exit_date
            early = self.ends_on is not None and (exit_date is None or self.ends_on < exit_date)
            reason = self.EndReason.EARLY_EXIT if early else self.EndReason.COMPLETED
        if self.is_amending:
            self._drop_amendment(now, "The agreement ended before the amendment was signed.")
        elif not self.version_in_force:
            # Ended before both signed: a half-signed version signs nothing.
            self._void_working_signatures(
                now, "The pairing ended before both had signed.", origin=origin
            )
        self.status = self.Status.ENDED
        self.end_reason = reason
        self.ended_at = now
        self.last_activity_at = now
        self.save(
            update_fields=[
                "status",
                "end_reason",
                "end_note",
                "ended_at",
                "amending_since",
                "last_activity_at",
            ]
        )
        details = {"reason": self.get_end_reason_display()}
        if reason == self.EndReason.EARLY_EXIT:
            details["notice_given_by"] = self.notice_given_by.full_name
        if reason == self.EndReason.BY_PROGRAM:
            details["note"] = self.end_note
        self.record(Event.ENDED, actor=by, origin=origin, at=now, details=details)
        if self.version_in_force:
            # A pairing ended before anything was signed has no record to seal.
            Effect.objects.promise(
                Effect.Kind.SEAL_FINAL, self.final_seal_key, agreement_id=self.pk
            )
        self.tell_both("agreement_ended", about=f"agreement:{self.pk}", agreement_id=self.pk)

    @property
    def final_seal_key(self):
        return f"seal:final:{self.pk}"

    @cached_property
    def final_seal_failed(self):
        """Sealing the final record was tried ``EFFECT_MAX_ATTEMPTS`` times and failed."""
        failed = Effect.objects.filter(key=self.final_seal_key, state=Effect.State.FAILED)
        return not self.final_sealed_at and failed.exists()

    def store_final_pdf(self, sealed):
        """Keep the sealed final record of the ended agreement and record it; once."""
        with transaction.atomic():
            agreement = type(self).objects.select_for_update().get(pk=self.pk)
            if agreement.final_sealed_at:
                return agreement
            digest = hashlib.sha256(sealed).hexdigest()
            # The storage writes the whole file or nothing under this name.
            agreement.final_pdf.save(f"sealed-{digest[:12]}.pdf", ContentFile(sealed), save=False)
            agreement.final_pdf_sha256 = digest
            agreement.final_sealed_at = timezone.now()
            agreement.save(update_fields=["final_pdf", "final_pdf_sha256", "final_sealed_at"])
            agreement.record(
                Event.PDF_SEALED,
                details={"file": "final", "pdf_sha256": digest},
                at=agreement.final_sealed_at,
            )
            return agreement

    def tell_both(self, name, *, about, **args):
        """Promise each party the email ``name``, once for ``about``."""
        for user in (self.mentor, self.mentee):
            Effect.objects.promise_email(name, to=user, about=about, **args)

    def tell_other_party(self, name, *, by, event, **args):
        """Promise the other party the email ``name`` about what ``by`` just
        did, once for the trail's ``event``."""
        Effect.objects.promise_email(
            name,
            to=self.other_person(by),
            about=f"audit:{event.pk}",
            agreement_id=self.pk,
            actor_id=by.pk,
            **args,
        )

    def reminded_recently(self, now):
        """A program admin reminded the pair less than a day ago."""
        last = self.program_reminded_at
        return last is not None and now - last < PROGRAM_REMINDER_INTERVAL

    def remind_by_program(self, *, by, origin=None):
        """A program admin nudges the pair: each gets what waits for them."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.is_ended:
                raise NotEditable("This pairing has ended: there is nothing to remind them of.")
            now = timezone.now()
            if agreement.reminded_recently(now):
                raise NotEditable(
                    "A reminder already went to this pair in the last 24 hours. "
                    "Give them a little time."
                )
            agreement.program_reminded_at = now
            agreement.save(update_fields=["program_reminded_at"])
            event = agreement.record(Event.PROGRAM_REMINDER, actor=by, origin=origin, at=now)
            agreement.tell_both(
                "program_reminder", about=f"audit:{event.pk}", agreement_id=agreement.pk
            )
            return agreement
