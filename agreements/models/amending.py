"""Amending: changing an agreement in force.

An amendment opens the working copy of an Active agreement while its
version stays in force; both sign again, or either withdraws it and the
sections are restored. An off-limits topic can be added without one: it only
narrows what both agreed to. ``AmendingMixin`` is a concern of ``Agreement``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agreements import content
from agreements.exceptions import NoAmendment, NotAmendable, TopicAlreadyOffLimits

from .audit import AuditEvent
from .changes import record_changes
from .checkins import GoalProgress
from .confidentiality import Confidentiality, OffLimitsTopic
from .drafting import Section
from .sections import CheckIn, ContactPreference, Goal, MeetingSchedule, Term

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User


class AmendingMixin(models.Model):
    # Set while an Active agreement is being amended: its version in force
    # stays in force until both sign the amendment.
    amending_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_amending(self):
        return self.status == self.Status.ACTIVE and self.amending_since is not None

    @property
    def is_amendable(self):
        """An amendment can start: the agreement is Active, not being amended,
        and nobody gave notice to end it."""
        return (
            self.status == self.Status.ACTIVE
            and not self.is_amending
            and self.notice_given_at is None
        )

    def amended_sections(self):
        """The sections of an amendment that differ from the version in force."""
        in_force = self.version_in_force
        if not self.is_amending or in_force is None:
            return []
        signed = in_force.as_content()
        return [
            section
            for section in self.ordered_sections()
            if content.normalise(self.section_data(section.kind))
            != content.normalise(signed.section_data(section.kind))
        ]

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

    def start_amendment(self: Agreement, *, by: User, origin: Origin | None = None) -> None:
        """Open the Active agreement for changes; its version stays in force."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.status != self.Status.ACTIVE or agreement.is_amending:
                raise NotAmendable(_("Only an Active agreement that is not being amended can be."))
            if agreement.notice_given_at:
                raise NotAmendable(
                    _("Notice to end this agreement was given, so it can no longer be amended.")
                )
            now = timezone.now()
            agreement.amending_since = now
            agreement._finish(
                Event.AMENDMENT_STARTED,
                by=by,
                origin=origin,
                at=now,
                details={"version_in_force": agreement.version_in_force.number},
                changed=["amending_since"],
            )

    def withdraw_amendment(self: Agreement, *, by: User, origin: Origin | None = None) -> None:
        """Drop the amendment: the content returns to the version in force."""
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.is_amending:
                raise NoAmendment(_("There is no amendment to withdraw."))
            agreement._drop_amendment(
                timezone.now(), f"{by.full_name} withdrew the amendment.", by=by, origin=origin
            )

    def add_off_limits_topic(
        self: Agreement, *, topic: str, rule: str, by: User, origin: Origin | None = None
    ) -> None:
        """Add a topic to an Active agreement. It only narrows what may be
        discussed, so nobody signs again; the other party is told."""
        kind = Section.Kind.OFF_LIMITS
        with transaction.atomic():
            agreement = self._lock()
            agreement._require_active(_("Topics are added this way only on an Active agreement."))
            wanted = content.normalise_text(topic).casefold()
            if any(
                content.normalise_text(t.topic).casefold() == wanted
                for t in agreement.off_limits_topics.all()
            ):
                raise TopicAlreadyOffLimits(_("That topic is already off limits."))
            before = agreement.section_data(kind)
            now = timezone.now()
            agreement.off_limits_topics.create(topic=topic, rule=rule, added_by=by, added_at=now)
            agreement = agreement._reload()
            after = content.normalise(agreement.section_data(kind))
            # A new revision, so a form opened before this addition cannot undo
            # it; the agreed marks stay: both agreed to the section this only narrows.
            agreement._keep_revision(kind, after, by=by, at=now, agreed=None)
            event = agreement._finish(
                Event.OFF_LIMITS_ADDED,
                by=by,
                origin=origin,
                at=now,
                details={"section": kind, "changes": record_changes(before, after)},
            )
            if agreement.is_amending:
                agreement._void_working_signatures(
                    now, f"{by.full_name} added an off-limits topic.", origin=origin
                )
            agreement.tell_other_party("off_limits_added", by=by, event=event)

    def _drop_amendment(self, now, reason, *, by=None, origin=None):
        """Write the version in force back over the amendment's sections, keeping
        off-limits topics added since it was signed; void the amendment's signatures."""
        in_force = self.version_in_force
        signed = in_force.as_content()
        additions = self.added_off_limits()
        added = [content.normalise(topic.as_data()) for topic in additions]
        for section in self.amended_sections():
            kind = section.kind
            before = self.section_data(kind)
            data = content.normalise(signed.section_data(kind))
            if kind == Section.Kind.OFF_LIMITS:
                data = data + [topic for topic in added if topic not in data]
            self._restore_section(kind, data)
            if kind == Section.Kind.OFF_LIMITS:
                self._mark_additions(additions)
            if kind == Section.Kind.GOALS:
                self._relink_goal_progress()
            # Both signed exactly this content, or added to it alone: agreed.
            self._keep_revision(kind, data, by=by, at=now, agreed=True)
            self.audit(
                Event.SECTION_EDITED,
                actor=by,
                origin=origin,
                at=now,
                details={"section": kind, "changes": record_changes(before, data)},
            )
        self._void_working_signatures(now, reason, origin=origin)
        self._lapse_open_proposals(now)
        self.amending_since = None
        self._finish(
            Event.AMENDMENT_WITHDRAWN,
            by=by,
            origin=origin,
            at=now,
            details={"version_in_force": in_force.number, "reason": reason},
            changed=["amending_since"],
        )

    def _relink_goal_progress(self):
        """Restored goal rows are new rows: point what check-ins said about the
        same goals at them again, so achieved goals stay achieved."""
        for goal in Goal.objects.filter(agreement=self):
            GoalProgress.objects.filter(
                record__agreement=self, goal=None, goal_description=goal.description
            ).update(goal=goal)

    def _mark_additions(self, additions):
        """Restored rows of topics added after signing keep their "added" mark."""
        marks = {(t.topic, t.rule): (t.added_by_id, t.added_at) for t in additions}
        for row in OffLimitsTopic.objects.filter(agreement=self):
            mark = marks.get((row.topic, row.rule))
            if mark:
                row.added_by_id, row.added_at = mark
                row.save(update_fields=["added_by", "added_at"])

    def _restore_section(self, kind, data):
        """Write a section back from its canonical data."""
        Kind = Section.Kind
        if kind == Kind.CONTACT:
            for row in self.contact_preferences.all():
                _copy_fields(ContactPreference.from_data(row.party, data[row.party]), row)
        elif kind == Kind.SCHEDULE:
            _copy_fields(MeetingSchedule.from_data(data), self.schedule)
        elif kind == Kind.CONFIDENTIALITY:
            _copy_fields(Confidentiality.from_data(data), self.confidentiality)
        elif kind == Kind.TERM:
            _copy_fields(Term.from_data(data), self.term)
        elif kind == Kind.LANGUAGE:
            self.language, self.second_language = data["language"], data["second_language"]
            self.save(update_fields=["language", "second_language"])
        else:
            model, related = {
                Kind.GOALS: (Goal, self.goals),
                Kind.CHECKINS: (CheckIn, self.checkins),
                Kind.OFF_LIMITS: (OffLimitsTopic, self.off_limits_topics),
            }[kind]
            related.all().delete()
            rows = [model.from_data(item) for item in data]
            for row in rows:
                row.agreement = self
            model.objects.bulk_create(rows)


def _field_values(instance):
    """The content fields of a section row: not its id, agreement or party."""
    return {
        field.name: getattr(instance, field.name)
        for field in instance._meta.concrete_fields
        if not (field.primary_key or field.is_relation or field.name == "party")
    }


def _copy_fields(source, target):
    values = _field_values(source)
    for name, value in values.items():
        setattr(target, name, value)
    target.save(update_fields=list(values))
