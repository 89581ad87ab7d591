"""Drafting: the pair writes the working copy section by section, and each
party agrees each section.

``DraftingMixin`` is a concern of ``Agreement`` (see ``agreement.py``); its
moves lock the row, check the state, keep the revision, and end through
``Agreement._finish``, all in one transaction.
"""

from __future__ import annotations

import datetime
import itertools
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements import content
from agreements.exceptions import (
    AgreementSigned,
    SectionChanged,
    SectionConflict,
    SectionIncomplete,
    SectionInvalid,
)

from .audit import AuditEvent
from .changes import describe_changes, record_changes
from .ending import runs_on
from .parties import Party
from .text import untranslated

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from collections.abc import Callable

    from .agreement import Agreement
    from .audit import Origin
    from .users import User


class DraftingMixin(models.Model):
    # The program's template clauses locked when the pairing was created
    # (see ``Program.policy``): the pair cannot change them.
    policy = models.JSONField(default=dict, blank=True)

    class Meta:
        abstract = True

    @property
    def is_editable(self):
        """The working copy can change: a draft, or an amendment of an Active agreement."""
        return (
            self.status in {self.Status.DRAFT, self.Status.AWAITING_SIGNATURES} or self.is_amending
        )

    def all_sections_agreed(self):
        return all(section.is_agreed for section in self.sections_by_kind.values())

    def section_is_complete(self: Agreement, kind: str) -> bool:
        Kind = Section.Kind
        if kind == Kind.CONTACT:
            return all(p.is_complete() for p in self.contact_preferences.all())
        if kind == Kind.SCHEDULE:
            return self.schedule.is_complete()
        if kind == Kind.GOALS:
            return bool(self.goals.all())
        if kind == Kind.CHECKINS:
            return bool(self.checkins.all()) and not self.checkin_gaps()
        if kind == Kind.CONFIDENTIALITY:
            return self.confidentiality.is_complete()
        if kind == Kind.OFF_LIMITS:
            return True  # "no off-limits topics" is a valid answer
        if kind == Kind.TERM:
            return self.term.is_complete()
        if kind == Kind.LANGUAGE:
            return True  # it always has one
        raise ValueError(kind)

    def dates_outside(self, start, exit_):
        """(check-in dates, goal target dates) that a term from start to exit_ leaves out."""
        return (
            [
                c.date
                for c in self.checkins.all()
                if not (start <= c.date and runs_on(c.date, exit_))
            ],
            [g.target_date for g in self.goals.all() if not start <= g.target_date <= exit_],
        )

    def date_problems(self: Agreement) -> list[str]:
        """Check-ins and goal dates that fall outside the term."""
        term = self.term
        if not (term.start_date and term.exit_date):
            if self.checkins.all():
                return [_("Check-ins need a start and an exit date under Term and exit.")]
            return []
        span = {"start": f"{term.start_date:%Y-%m-%d}", "exit": f"{term.exit_date:%Y-%m-%d}"}
        checkins, goals = self.dates_outside(term.start_date, term.exit_date)
        return [
            _(
                "The check-in on %(date)s is outside the term (%(start)s to %(exit)s): "
                "check-ins come before the exit date."
            )
            % {"date": f"{d:%Y-%m-%d}", **span}
            for d in checkins
        ] + [
            _("The goal due %(date)s is outside the term (%(start)s to %(exit)s).")
            % {"date": f"{d:%Y-%m-%d}", **span}
            for d in goals
        ]

    def checkin_gaps(self: Agreement) -> list[str]:
        """Stretches of the term longer than the program's locked check-in
        rhythm allows without a check-in, in words. A term change may open
        one; the check-ins section then counts as unfinished, and signing
        waits until check-ins fill it."""
        weeks, term = self.policy.get("checkin_every_weeks"), self.term
        dates = [checkin.date for checkin in self.checkins.all()]
        if not (weeks and dates and term.start_date and term.exit_date):
            return []
        return checkin_gaps(term.start_date, term.exit_date, dates, weeks)

    def _drafting_todo(self, user):
        """What the working copy asks of the user: sections to agree, signatures."""
        party = self.party_of(user)
        other = Party(party).other
        sections = list(self.sections.all())
        todo = []
        mine = sum(1 for section in sections if not section.agreed_by(party))
        theirs = sum(1 for section in sections if not section.agreed_by(other))
        if mine:
            todo.append(
                ngettext("Agree %(count)s section", "Agree %(count)s sections", mine)
                % {"count": mine}
            )
        if theirs:
            todo.append(
                ngettext(
                    "Waiting for %(name)s to agree %(count)s section",
                    "Waiting for %(name)s to agree %(count)s sections",
                    theirs,
                )
                % {"name": self.user_for(other).full_name, "count": theirs}
            )
        if self.is_amending and not any(
            section.updated_at and section.updated_at > self.amending_since for section in sections
        ):
            todo.append(_("Change what the amendment is for, or withdraw it"))
        elif self.awaiting_signatures:
            pending = self.pending_version
            signed = {
                s.party
                for s in self.signatures.all()
                if pending and s.version_id == pending.pk and s.voided_at is None
            }
            if party not in signed:
                todo.append(
                    _("Sign the amendment") if self.is_amending else _("Sign the agreement")
                )
            if other not in signed:
                todo.append(
                    _("Waiting for %(name)s to sign") % {"name": self.user_for(other).full_name}
                )
        return todo

    def _proposals_todo(self, user):
        """The open proposals, from the prefetched sections' ``proposals``
        (open ones): those waiting for the user's answer, and theirs."""
        party = self.party_of(user)
        name = self.user_for(Party(party).other).full_name
        todo = []
        for section in self.sections.all():
            for proposal in section.proposals.all():
                if proposal.status != "open":
                    continue
                words = {"section": section.get_kind_display(), "name": name}
                if proposal.party == party:
                    # Translators: a section's name, such as "Goals".
                    todo.append(
                        _("Waiting for %(name)s to answer your proposal on “%(section)s”") % words
                    )
                else:
                    # Translators: a section's name, such as "Goals".
                    todo.append(_("Answer the proposal of %(name)s on “%(section)s”") % words)
        return todo

    # Moves ------------------------------------------------------------------

    def save_section(
        self: Agreement,
        kind: str,
        *,
        by: User,
        expected_revision: int,
        save: Callable[[], object],
        origin: Origin | None = None,
    ) -> bool:
        """Run ``save()`` (the form's) unless someone else saved the section first.

        Returns True when the content changed. A real change clears both
        "agreed" marks on the section and voids every signature on the
        working copy.
        """
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.is_editable:
                raise AgreementSigned(_("This agreement is signed and can no longer be edited."))
            section = agreement.sections_by_kind[kind]
            agreement._refuse_if_saved_since(section, expected_revision)
            before = agreement.section_data(kind)
            try:
                with transaction.atomic():
                    save()
            except IntegrityError:
                raise SectionInvalid(
                    _(
                        "These changes clash with each other (two check-ins on one day?). "
                        "Nothing was saved: make the change in two steps."
                    )
                ) from None
            agreement = agreement._reload()
            # The forms checked dates against the term they loaded; check again
            # under the lock, in case the other party changed it meanwhile.
            problems = agreement.date_problems()
            if problems:
                raise SectionInvalid(" ".join([*problems, _("Nothing was saved.")]))
            after = content.normalise(agreement.section_data(kind))
            if after == content.normalise(before):
                return False
            now = timezone.now()
            agreement._keep_revision(kind, after, by=by, at=now)
            agreement._finish(
                Event.SECTION_EDITED,
                by=by,
                origin=origin,
                at=now,
                details={"section": kind, "changes": record_changes(before, after)},
            )
            agreement._void_working_signatures(
                now,
                f"{untranslated(Section.Kind(kind).label)} was changed by {by.full_name} "
                "after signing.",
                origin=origin,
            )
            agreement._settle(now)
            return True

    def _refuse_if_saved_since(self, section, expected_revision):
        """Raise ``SectionConflict``, with what changed, when the section was
        saved since the form that carries ``expected_revision`` was opened."""
        if section.revision == expected_revision:
            return
        seen = section.revisions.filter(revision=expected_revision).first()
        changes = describe_changes(seen.data if seen else {}, self.section_data(section.kind))
        if section.updated_by:
            message = _(
                "%(name)s saved this section while you were editing it. Nothing of "
                "yours was saved: check their changes below, then save again to "
                "replace them."
            ) % {"name": section.updated_by.full_name}
        else:
            message = _(
                "Someone saved this section while you were editing it. Nothing of "
                "yours was saved: check their changes below, then save again to "
                "replace them."
            )
        raise SectionConflict(message, section=section, changes=changes)

    def _keep_revision(self, kind, data, *, by, at, agreed=False, proposal=None):
        """Bump the section's revision, the token its edit form carries, and
        keep ``data`` as that revision (applied by ``proposal``, if accepted).

        ``agreed`` sets both "agreed" marks (True), clears them (False) or,
        for a change that only narrows what both agreed to, keeps them (None).
        """
        section = self.sections_by_kind[kind]
        section.revision += 1
        section.updated_by = by
        section.updated_at = at
        if agreed is not None:
            section.mentor_agreed_at = section.mentee_agreed_at = at if agreed else None
        section.save()
        section.revisions.create(
            revision=section.revision, data=data, edited_by=by, proposal=proposal
        )

    def agree_section(
        self: Agreement, kind: str, *, by: User, seen_revision: int, origin: Origin | None = None
    ) -> None:
        """Agree to the revision of the section the party was shown."""
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.is_editable:
                raise AgreementSigned(_("This agreement is signed and can no longer be changed."))
            party = agreement.party_of(by)
            section = agreement.sections_by_kind[kind]
            if section.revision != seen_revision:
                raise SectionChanged(
                    # Translators: %(section)s is a section's name, e.g. "Meeting schedule".
                    _("%(section)s changed since you opened the page. Read it again, then agree.")
                    % {"section": section.get_kind_display()}
                )
            if not agreement.section_is_complete(kind):
                raise SectionIncomplete(
                    # Translators: %(section)s is a section's name, e.g. "Meeting schedule".
                    _("%(section)s is not complete yet: fill it in before agreeing to it.")
                    % {"section": section.get_kind_display()}
                )
            now = timezone.now()
            setattr(section, f"{party}_agreed_at", now)
            section.save(update_fields=[f"{party}_agreed_at"])
            agreement._finish(
                Event.SECTION_AGREED,
                by=by,
                origin=origin,
                at=now,
                details={"section": kind, "section_revision": section.revision, "party": party},
            )
            agreement._settle(now)


class Section(models.Model):
    """Who last changed one section of an agreement, and who agreed to it."""

    class Kind(models.TextChoices):
        CONTACT = "contact", gettext_lazy("Contact preferences")
        SCHEDULE = "schedule", gettext_lazy("Meeting schedule")
        GOALS = "goals", gettext_lazy("Goals")
        CHECKINS = "checkins", gettext_lazy("Check-in dates")
        CONFIDENTIALITY = "confidentiality", gettext_lazy("Confidentiality")
        OFF_LIMITS = "off_limits", gettext_lazy("Off-limits topics")
        TERM = "term", gettext_lazy("Term and exit")
        LANGUAGE = "language", gettext_lazy("Language")

    agreement = models.ForeignKey("Agreement", on_delete=models.CASCADE, related_name="sections")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Bumped by every saved change. The edit form carries it; a save with an
    # older one is refused.
    revision = models.PositiveIntegerField(default=0)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(null=True, blank=True)
    mentor_agreed_at = models.DateTimeField(null=True, blank=True)
    mentee_agreed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "kind"], name="agreements_section_one_per_kind"
            ),
        ]

    def __str__(self):
        return self.get_kind_display()

    @property
    def is_agreed(self):
        return bool(self.mentor_agreed_at and self.mentee_agreed_at)

    def agreed_by(self, party):
        return bool(getattr(self, f"{party}_agreed_at"))


# Each kind of section's place in the agreement, to list sections in its order.
SECTION_ORDER = {kind: index for index, kind in enumerate(Section.Kind.values)}


class SectionRevision(models.Model):
    """Every saved state of a section, so any change stays visible."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="revisions")
    revision = models.PositiveIntegerField()
    data = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)
    # The accepted proposal this revision applied, if it came through one.
    proposal = models.ForeignKey(
        "Proposal", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["section", "revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "revision"], name="agreements_sectionrevision_unique_revision"
            ),
        ]

    def __str__(self):
        return _("%(section)s revision %(revision)s") % {
            "section": self.section,
            "revision": self.revision,
        }


def checkin_gaps(
    start: datetime.date, exit_: datetime.date, dates: list[datetime.date], weeks: int
) -> list[str]:
    """Each stretch of a term from ``start`` to ``exit_`` that goes more than
    ``weeks`` weeks without a check-in, in words."""
    bounds = [("start", start), *(("checkin", day) for day in sorted(dates)), ("exit", exit_)]
    gaps = []
    for (first, since), (second, to) in itertools.pairwise(bounds):
        days = (to - since).days
        if days > 7 * weeks:
            words = _gap_words(first, second, days)
            gaps.append(
                words
                % {
                    "days": days,
                    "since": date_format(since, "SHORT_DATE_FORMAT"),
                    "to": date_format(to, "SHORT_DATE_FORMAT"),
                }
            )
    return gaps


def _gap_words(first, second, days):
    """The words for a stretch without a check-in, by what starts and ends it.
    Whole phrases, so that each language can order them its own way; the
    comma after a date set off by commas is part of the phrase."""
    if first == "start" and second == "exit":
        return ngettext(
            "%(days)s day from the start date, %(since)s, to the exit date, %(to)s,",
            "%(days)s days from the start date, %(since)s, to the exit date, %(to)s,",
            days,
        )
    if first == "start":
        return ngettext(
            "%(days)s day from the start date, %(since)s, to the check-in on %(to)s",
            "%(days)s days from the start date, %(since)s, to the check-in on %(to)s",
            days,
        )
    if second == "exit":
        return ngettext(
            "%(days)s day from the check-in on %(since)s to the exit date, %(to)s,",
            "%(days)s days from the check-in on %(since)s to the exit date, %(to)s,",
            days,
        )
    return ngettext(
        "%(days)s day from the check-in on %(since)s to the check-in on %(to)s",
        "%(days)s days from the check-in on %(since)s to the check-in on %(to)s",
        days,
    )
