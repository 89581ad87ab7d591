import datetime
import hashlib
import json
import uuid

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.functional import cached_property

from agreements import content
from agreements.exceptions import (
    ContentChanged,
    NotEditable,
    NotReadyToSign,
    SectionChanged,
    SectionConflict,
    SectionIncomplete,
    SectionInvalid,
)

from .audit import AuditEvent
from .checkins import CheckInRecord, GoalProgress, PlannedCheckIn
from .effects import Effect
from .ending import ClosingNote
from .living import LivingAgreement
from .sections import (
    CheckIn,
    Confidentiality,
    ContactPreference,
    Goal,
    MeetingSchedule,
    OffLimitsTopic,
    Party,
    Term,
    checkin_gaps,
    describe_changes,
)
from .sharing import SharingAgreement
from .snapshot import AgreementContent
from .versions import AgreementVersion

CONSENT_STATEMENT = (
    "I have read this mentoring agreement in full. I agree to every section and "
    "sign it with the name I typed."
)

# Fixed clauses, part of every agreement and of its canonical content.
STATEMENTS = {
    "pairing_not_secret": (
        "The pairing itself is not secret: the program knows that this mentoring "
        "relationship exists and how it is progressing. Its content is confidential."
    ),
    "no_fault_exit": (
        "Either party may end the relationship before the exit date without giving a "
        "reason, by giving the agreed notice. Ending early is no one's fault."
    ),
}

# How a signer proves who they are, recorded in each signature's evidence.
AUTHENTICATION = "Signed in with email and password; password entered again to sign."

Event = AuditEvent.Kind


def _final_pdf_path(agreement, filename):
    return f"agreements/{agreement.uuid}/final-{filename}"


class AgreementQuerySet(models.QuerySet):
    def for_party(self, user):
        """Agreements in which the user is the mentor or the mentee."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(mentor=user) | Q(mentee=user))

    def with_content(self):
        """Everything the agreement page and the PDF show, in a fixed number of queries."""
        return self.select_related(
            "program", "mentor", "mentee", "schedule", "confidentiality", "term", "notice_given_by"
        ).prefetch_related(
            "contact_preferences",
            "goals",
            "checkins",
            models.Prefetch(
                "off_limits_topics", queryset=OffLimitsTopic.objects.select_related("added_by")
            ),
            "versions",
            models.Prefetch("sections", queryset=Section.objects.select_related("updated_by")),
            models.Prefetch(
                "signatures",
                queryset=Signature.objects.select_related("signer").order_by("signed_at"),
            ),
        )

    def with_next_checkin(self):
        upcoming = CheckIn.objects.filter(
            agreement=OuterRef("pk"), date__gte=timezone.localdate()
        ).order_by("date")
        return self.annotate(next_checkin=Subquery(upcoming.values("date")[:1]))

    def with_life(self):
        """What happened since signing: check-ins with goal progress, closing notes."""
        return self.prefetch_related(
            models.Prefetch(
                "checkin_records",
                queryset=CheckInRecord.objects.select_related("recorded_by").prefetch_related(
                    "progress"
                ),
            ),
            models.Prefetch("closing_notes", queryset=ClosingNote.objects.select_related("author")),
        )


class Agreement(LivingAgreement, SharingAgreement, models.Model):
    """The written agreement of one mentor-mentee pairing in a program.

    Drafting, signing and amending live here; what happens once it is in
    force (check-ins, the exit, the end) in ``living.py``.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_SIGNATURES = "awaiting", "Awaiting signatures"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

    class EndReason(models.TextChoices):
        COMPLETED = "completed", "Completed on the exit date"
        EARLY_EXIT = "early_exit", "Ended early: no-fault exit"
        BY_PROGRAM = "program", "Ended by the program"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey("Program", on_delete=models.PROTECT, related_name="agreements")
    mentor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreements_as_mentor"
    )
    mentee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agreements_as_mentee"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Set while an Active agreement is being amended: its version in force
    # stays in force until both sign the amendment.
    amending_since = models.DateTimeField(null=True, blank=True)
    # The hash of the newest audit entry: removing the newest entries shows.
    audit_head = models.CharField(max_length=64, blank=True, editable=False)
    # The no-fault exit: who gave notice, when, and the day it takes effect.
    notice_given_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    notice_given_at = models.DateTimeField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    end_reason = models.CharField(max_length=10, choices=EndReason.choices, blank=True)
    # Why a program admin ended the pairing; shown to the pair.
    end_note = models.TextField(blank=True)
    # The program's template clauses locked when the pairing was created
    # (see ``Program.policy``): the pair cannot change them.
    policy = models.JSONField(default=dict, blank=True)
    # The last reminder a program admin sent the pair.
    program_reminded_at = models.DateTimeField(null=True, blank=True)
    # The term of the version in force, as metadata for the program's
    # dashboard (with ``PlannedCheckIn``): the ``Term`` row is the working copy.
    start_in_force = models.DateField(null=True, blank=True)
    exit_in_force = models.DateField(null=True, blank=True)
    # The final record of an ended agreement: the version in force, how it
    # ended and the closing notes, sealed like a signed version.
    final_pdf = models.FileField(upload_to=_final_pdf_path, blank=True)
    final_pdf_sha256 = models.CharField(max_length=64, blank=True, db_index=True)
    final_sealed_at = models.DateTimeField(null=True, blank=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-last_activity_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mentor=F("mentee")), name="agreements_agreement_distinct_parties"
            ),
            models.UniqueConstraint(
                fields=["program", "mentor", "mentee"],
                condition=~Q(status="ended"),
                name="agreements_agreement_one_open_per_pairing",
            ),
            models.CheckConstraint(
                condition=Q(amending_since__isnull=True) | Q(status="active"),
                name="agreements_agreement_amend_only_active",
            ),
            models.CheckConstraint(
                condition=~Q(status="ended") | (Q(ended_at__isnull=False) & ~Q(end_reason="")),
                name="agreements_agreement_ended_says_how",
            ),
            models.CheckConstraint(
                condition=Q(notice_given_at__isnull=True, ends_on__isnull=True)
                | Q(notice_given_at__isnull=False, ends_on__isnull=False),
                name="agreements_agreement_notice_has_end_date",
            ),
        ]

    def __str__(self):
        return f"{self.mentor} mentoring {self.mentee}"

    def party_of(self, user):
        if user.pk == self.mentor_id:
            return Party.MENTOR
        if user.pk == self.mentee_id:
            return Party.MENTEE
        return None

    def user_for(self, party):
        return self.mentor if party == Party.MENTOR else self.mentee

    @property
    def is_amending(self):
        return self.status == self.Status.ACTIVE and self.amending_since is not None

    @property
    def is_editable(self):
        """The working copy can change: a draft, or an amendment of an Active agreement."""
        return (
            self.status in {self.Status.DRAFT, self.Status.AWAITING_SIGNATURES} or self.is_amending
        )

    # Reading the prefetched content ------------------------------------

    @cached_property
    def sections_by_kind(self):
        return {section.kind: section for section in self.sections.all()}

    def ordered_sections(self):
        return [self.sections_by_kind[kind] for kind in Section.Kind.values]

    def contact_for(self, party):
        return next(p for p in self.contact_preferences.all() if p.party == party)

    def live_content(self):
        """The working copy, in the shape the section partials render."""
        return AgreementContent.live(self, STATEMENTS)

    def _version_with(self, status):
        return next((v for v in self.versions.all() if v.status == status), None)

    @cached_property
    def version_in_force(self):
        return self._version_with(AgreementVersion.Status.IN_FORCE)

    @cached_property
    def pending_version(self):
        return self._version_with(AgreementVersion.Status.PENDING)

    def signatures_on(self, version):
        return [s for s in self.signatures.all() if s.version_id == version.pk]

    def working_signatures(self):
        """Signatures on the working copy: those of the pending version, while it
        still matches the content."""
        pending = self.pending_version
        if not self.is_editable or not pending or pending.content_hash != self.content_hash:
            return []
        return [s for s in self.signatures_on(pending) if s.voided_at is None]

    def stale_signatures(self):
        """Not voided, yet no longer matching the content: a party or the program
        was renamed after signing. The next signature voids them."""
        pending = self.pending_version
        if not self.is_editable or not pending or pending.content_hash == self.content_hash:
            return []
        return [s for s in self.signatures_on(pending) if s.voided_at is None]

    def voided_signatures(self):
        """Voided since the version in force (or ever, before there is one)."""
        since = self.version_in_force.in_force_at if self.version_in_force else None
        return [
            s
            for s in self.signatures.all()
            if s.voided_at is not None and (since is None or s.voided_at > since)
        ]

    def signature_of(self, party):
        return next((s for s in self.working_signatures() if s.party == party), None)

    def all_sections_agreed(self):
        return all(section.is_agreed for section in self.sections_by_kind.values())

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

    @property
    def awaiting_signatures(self):
        """Every section of the working copy is agreed: time to sign it."""
        return self.is_editable and self.all_sections_agreed()

    def todo_for(self, user):
        """What waits for the user, from the prefetched sections and signatures."""
        if not self.is_editable:
            return self.living_todo_for(user)
        party = self.party_of(user)
        other = Party.MENTEE if party == Party.MENTOR else Party.MENTOR
        sections = list(self.sections.all())
        todo = []
        mine = sum(1 for section in sections if not section.agreed_by(party))
        theirs = sum(1 for section in sections if not section.agreed_by(other))
        if mine:
            todo.append(f"Agree {mine} section{pluralize(mine)}")
        if theirs:
            todo.append(
                f"Waiting for {self.user_for(other).full_name} to agree {theirs} "
                f"section{pluralize(theirs)}"
            )
        if self.is_amending and not any(
            section.updated_at and section.updated_at > self.amending_since for section in sections
        ):
            todo.append("Change what the amendment is for, or withdraw it")
        elif self.awaiting_signatures:
            pending = self.pending_version
            signed = {
                s.party
                for s in self.signatures.all()
                if pending and s.version_id == pending.pk and s.voided_at is None
            }
            if party not in signed:
                todo.append("Sign the amendment" if self.is_amending else "Sign the agreement")
            if other not in signed:
                todo.append(f"Waiting for {self.user_for(other).full_name} to sign")
        return todo + self.living_todo_for(user)

    def section_data(self, kind):
        return self.live_content().section_data(kind)

    def section_is_complete(self, kind):
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
        raise ValueError(kind)

    def dates_outside(self, start, exit_):
        """(check-in dates, goal target dates) that a term from start to exit_ leaves out."""
        return (
            # The agreement ends on the morning of its exit date: no check-in that day.
            [c.date for c in self.checkins.all() if not start <= c.date < exit_],
            [g.target_date for g in self.goals.all() if not start <= g.target_date <= exit_],
        )

    def date_problems(self):
        """Check-ins and goal dates that fall outside the term."""
        term = self.term
        if not (term.start_date and term.exit_date):
            if self.checkins.all():
                return ["Check-ins need a start and an exit date under Term and exit."]
            return []
        span = f"({term.start_date:%Y-%m-%d} to {term.exit_date:%Y-%m-%d})"
        checkins, goals = self.dates_outside(term.start_date, term.exit_date)
        return [
            f"The check-in on {d:%Y-%m-%d} is outside the term {span}: check-ins come before "
            "the exit date."
            for d in checkins
        ] + [f"The goal due {d:%Y-%m-%d} is outside the term {span}." for d in goals]

    def checkin_gaps(self):
        """Stretches of the term longer than the program's locked check-in
        rhythm allows without a check-in, in words. A term change may open
        one; the check-ins section then counts as unfinished, and signing
        waits until check-ins fill it."""
        weeks, term = self.policy.get("checkin_every_weeks"), self.term
        dates = [checkin.date for checkin in self.checkins.all()]
        if not (weeks and dates and term.start_date and term.exit_date):
            return []
        return checkin_gaps(term.start_date, term.exit_date, dates, weeks)

    def canonical_content(self):
        """What a signature stands on; see ``agreements/content.py`` for the format."""

        def person(user):
            return {"name": user.full_name, "email": user.email}

        in_force = self.version_in_force
        return {
            "format": content.CANONICAL_FORMAT,
            "agreement": str(self.uuid),
            "program": self.program.name,
            "parties": {"mentor": person(self.mentor), "mentee": person(self.mentee)},
            "sections": {kind: self.section_data(kind) for kind in Section.Kind.values},
            "statements": STATEMENTS,
            "consent_statement": CONSENT_STATEMENT,
            # An amendment names the version it replaces, so no two versions hash alike.
            "amends": in_force.content_hash if in_force else None,
        }

    @cached_property
    def content_hash(self):
        return content.content_hash(self.canonical_content())

    # Lifecycle moves -----------------------------------------------------
    # Each locks the agreement row first, so moves on one agreement are
    # serial, and writes its audit entry in the same transaction.

    def _lock(self):
        return Agreement.objects.with_content().select_for_update(of=("self",)).get(pk=self.pk)

    def _reload(self):
        return Agreement.objects.with_content().get(pk=self.pk)

    def record(self, kind, *, actor=None, origin=None, details=None, at=None):
        """Append to the audit trail; the caller holds the row lock."""
        return AuditEvent.append(self, kind, actor=actor, origin=origin, details=details, at=at)

    def record_access(self, kind, *, actor, origin, details=None):
        """Record a view or a download: takes the row lock itself."""
        with transaction.atomic():
            agreement = Agreement.objects.select_for_update().get(pk=self.pk)
            agreement.record(kind, actor=actor, origin=origin, details=details)

    def _void_working_signatures(self, now, reason, *, origin=None):
        """Void the pending version and its signatures; log each voided signature."""
        pending = self.pending_version
        if pending is None:
            return
        for signature in self.signatures_on(pending):
            if signature.voided_at is None:
                signature.voided_at, signature.void_reason = now, reason
                signature.save(update_fields=["voided_at", "void_reason"])
                self.record(
                    Event.SIGNATURE_VOIDED,
                    origin=origin,
                    at=now,
                    details={
                        "party": signature.party,
                        "signer": signature.typed_name,
                        "version": pending.number,
                        "reason": reason,
                    },
                )
        pending.status, pending.voided_at = AgreementVersion.Status.VOID, now
        pending.save(update_fields=["status", "voided_at"])

    def save_section(self, kind, *, by, expected_version, save, origin=None):
        """Run ``save()`` (the form's) unless someone else saved the section first.

        Returns True when the content changed. A real change clears both
        "agreed" marks on the section and voids every signature on the
        working copy.
        """
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.is_editable:
                raise NotEditable("This agreement is signed and can no longer be edited.")
            section = agreement.sections_by_kind[kind]
            if section.version != expected_version:
                seen = section.revisions.filter(version=expected_version).first()
                changes = describe_changes(seen.data if seen else {}, agreement.section_data(kind))
                who = section.updated_by.full_name if section.updated_by else "Someone"
                raise SectionConflict(
                    f"{who} saved this section while you were editing it. Nothing of yours "
                    "was saved: check their changes below, then save again to replace them.",
                    section=section,
                    changes=changes,
                )
            before = agreement.section_data(kind)
            try:
                with transaction.atomic():
                    save()
            except IntegrityError:
                raise SectionInvalid(
                    "These changes clash with each other (two check-ins on one day?). Nothing "
                    "was saved: make the change in two steps."
                ) from None
            agreement = agreement._reload()
            # The forms checked dates against the term they loaded; check again
            # under the lock, in case the other party changed it meanwhile.
            problems = agreement.date_problems()
            if problems:
                raise SectionInvalid(" ".join(problems) + " Nothing was saved.")
            after = content.normalise(agreement.section_data(kind))
            if after == content.normalise(before):
                return False
            now = timezone.now()
            agreement._record_section_change(
                kind, before=before, after=after, by=by, origin=origin, at=now
            )
            agreement._void_working_signatures(
                now,
                f"{Section.Kind(kind).label} was changed by {by.full_name} after signing.",
                origin=origin,
            )
            agreement._settle(now)
            return True

    def _record_section_change(
        self, kind, *, before, after, by, origin, at, agreed=False, event=Event.SECTION_EDITED
    ):
        """Bump the section's version token, keep the revision, log the change.

        ``agreed`` sets both "agreed" marks (True), clears them (False) or,
        for a change that only narrows what both agreed to, keeps them (None).
        """
        section = self.sections_by_kind[kind]
        section.version += 1
        section.updated_by = by
        section.updated_at = at
        if agreed is not None:
            section.mentor_agreed_at = section.mentee_agreed_at = at if agreed else None
        section.save()
        section.revisions.create(version=section.version, data=after, edited_by=by)
        return self.record(
            event,
            actor=by,
            origin=origin,
            at=at,
            details={"section": kind, "changes": describe_changes(before, after)},
        )

    def agree_section(self, kind, *, by, seen_version, origin=None):
        """Agree to the version of the section the party was shown."""
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.is_editable:
                raise NotEditable("This agreement is signed and can no longer be changed.")
            party = agreement.party_of(by)
            section = agreement.sections_by_kind[kind]
            if section.version != seen_version:
                raise SectionChanged(
                    f"{section.get_kind_display()} changed since you opened the page. Read it "
                    "again, then agree."
                )
            if not agreement.section_is_complete(kind):
                raise SectionIncomplete(
                    f"{section.get_kind_display()} is not complete yet: fill it in before "
                    "agreeing to it."
                )
            now = timezone.now()
            setattr(section, f"{party}_agreed_at", now)
            section.save(update_fields=[f"{party}_agreed_at"])
            agreement.record(
                Event.SECTION_AGREED,
                actor=by,
                origin=origin,
                at=now,
                details={"section": kind, "section_version": section.version, "party": party},
            )
            agreement._settle(now)

    def sign(self, *, by, typed_name, seen_hash, origin=None):
        """Sign the content whose hash the signer was shown.

        The first signature freezes the content as a version; the second one
        signs that same version and puts it in force.
        """
        with transaction.atomic():
            agreement = self._lock()
            party = agreement.party_of(by)
            if not agreement.awaiting_signatures:
                raise NotReadyToSign(
                    "Both of you have to agree every section before the agreement can be signed."
                )
            if gaps := agreement.checkin_gaps():
                raise NotReadyToSign(
                    f"The program's policy is a check-in at least every "
                    f"{agreement.policy['checkin_every_weeks']} weeks, but there are "
                    f"{'; '.join(gaps)} without one. Add check-ins under “Check-in dates”."
                )
            if agreement.is_amending and not agreement.amended_sections():
                raise NotReadyToSign(
                    "Nothing differs from the version in force yet: change a section to amend "
                    "it, or withdraw the amendment."
                )
            if agreement.content_hash != seen_hash:
                raise ContentChanged(
                    "The agreement changed while you were reading it. Read it again, then sign."
                )
            now = timezone.now()
            if agreement.stale_signatures():
                agreement._void_working_signatures(now, agreement._stale_reason(), origin=origin)
                agreement = agreement._reload()
            elif agreement.signature_of(party):
                raise NotReadyToSign("You have already signed this agreement.")
            version = agreement.pending_version or agreement._freeze(now)
            signature = Signature.create_with_evidence(
                agreement=agreement,
                version=version,
                signer=by,
                party=party,
                typed_name=typed_name,
                signed_at=now,
                origin=origin,
            )
            agreement.record(
                Event.SIGNED,
                actor=by,
                origin=origin,
                at=now,
                details={
                    "party": party,
                    "typed_name": typed_name,
                    "version": version.number,
                    "content_hash": version.content_hash,
                    "evidence_hash": signature.evidence_hash,
                },
            )
            agreement = agreement._reload()
            agreement._settle(now, origin=origin)
            return signature

    def _stale_reason(self):
        if self.pending_version.data.get("format") != content.CANONICAL_FORMAT:
            return (
                "The agreement's record format changed after signing (meeting times were "
                "added), so the signature is asked for again on the same terms."
            )
        return "The name of a party or of the program changed after signing."

    def _freeze(self, now):
        numbers = [version.number for version in self.versions.all()]
        data = self.canonical_content()
        return self.versions.create(
            number=max(numbers, default=0) + 1,
            content=content.canonical_json(data),
            content_hash=content.content_hash(data),
            frozen_at=now,
        )

    def start_amendment(self, *, by, origin=None):
        """Open the Active agreement for changes; its version stays in force."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.status != self.Status.ACTIVE or agreement.is_amending:
                raise NotEditable("Only an Active agreement that is not being amended can be.")
            if agreement.notice_given_at:
                raise NotEditable(
                    "Notice to end this agreement was given, so it can no longer be amended."
                )
            now = timezone.now()
            agreement.amending_since = now
            agreement.last_activity_at = now
            agreement.save(update_fields=["amending_since", "last_activity_at"])
            agreement.record(
                Event.AMENDMENT_STARTED,
                actor=by,
                origin=origin,
                at=now,
                details={"version_in_force": agreement.version_in_force.number},
            )

    def withdraw_amendment(self, *, by, origin=None):
        """Drop the amendment: the content returns to the version in force."""
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.is_amending:
                raise NotEditable("There is no amendment to withdraw.")
            agreement._drop_amendment(
                timezone.now(), f"{by.full_name} withdrew the amendment.", by=by, origin=origin
            )

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
            self._record_section_change(
                kind,
                before=before,
                after=data,
                by=by,
                origin=origin,
                at=now,
                agreed=True,  # both signed exactly this content, or added to it alone
            )
        self._void_working_signatures(now, reason, origin=origin)
        self.amending_since = None
        self.last_activity_at = now
        self.save(update_fields=["amending_since", "last_activity_at"])
        self.record(
            Event.AMENDMENT_WITHDRAWN,
            actor=by,
            origin=origin,
            at=now,
            details={"version_in_force": in_force.number, "reason": reason},
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

    def _settle(self, now, *, origin=None):
        """Derive the status from the sections and signatures, and record activity."""
        pending = self.pending_version
        if pending and all(self.signature_of(party) for party in Party.values):
            self._put_in_force(pending, now, origin=origin)
        elif not self.is_amending:
            agreed = self.all_sections_agreed()
            self.status = self.Status.AWAITING_SIGNATURES if agreed else self.Status.DRAFT
        self.last_activity_at = now
        self.save(update_fields=["status", "activated_at", "amending_since", "last_activity_at"])

    def _record_plan_dates(self, version):
        self.start_in_force, self.exit_in_force = record_plan_dates(self.pk, version.data)

    def _put_in_force(self, version, now, *, origin=None):
        previous = self.version_in_force
        if previous:
            previous.status = AgreementVersion.Status.SUPERSEDED
            previous.superseded_at, previous.superseded_by = now, version
            previous.save(update_fields=["status", "superseded_at", "superseded_by"])
            self.record(
                Event.SUPERSEDED,
                origin=origin,
                at=now,
                details={"version": previous.number, "superseded_by": version.number},
            )
        version.status, version.in_force_at = AgreementVersion.Status.IN_FORCE, now
        version.save(update_fields=["status", "in_force_at"])
        self._record_plan_dates(version)
        self.status = self.Status.ACTIVE
        self.activated_at = self.activated_at or now
        self.amending_since = None
        self.record(
            Event.IN_FORCE,
            origin=origin,
            at=now,
            details={"version": version.number, "content_hash": version.content_hash},
        )
        # Rendered and sealed once, by a worker, only if this transaction commits.
        Effect.objects.promise(Effect.Kind.SEAL_VERSION, version.seal_key, version_id=version.pk)


def record_plan_dates(agreement_id, data):
    """Keep the dates of the version in force (its canonical ``data``) where the
    program's dashboard reads them."""
    term, checkins = data["sections"]["term"], data["sections"]["checkins"]
    start, exit_ = (
        datetime.date.fromisoformat(term[key]) if term[key] else None
        for key in ("start_date", "exit_date")
    )
    Agreement.objects.filter(pk=agreement_id).update(start_in_force=start, exit_in_force=exit_)
    PlannedCheckIn.objects.filter(agreement_id=agreement_id).delete()
    PlannedCheckIn.objects.bulk_create(
        PlannedCheckIn(agreement_id=agreement_id, date=checkin["date"]) for checkin in checkins
    )
    return start, exit_


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


class Section(models.Model):
    """Who last changed one section of an agreement, and who agreed to it."""

    class Kind(models.TextChoices):
        CONTACT = "contact", "Contact preferences"
        SCHEDULE = "schedule", "Meeting schedule"
        GOALS = "goals", "Goals"
        CHECKINS = "checkins", "Check-in dates"
        CONFIDENTIALITY = "confidentiality", "Confidentiality"
        OFF_LIMITS = "off_limits", "Off-limits topics"
        TERM = "term", "Term and exit"

    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="sections")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The edit form carries this token; a save with an older one is refused.
    version = models.PositiveIntegerField(default=0)
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


class SectionRevision(models.Model):
    """Every saved state of a section, so any change stays visible."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="revisions")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    edited_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["section", "version"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "version"], name="agreements_sectionrevision_unique_version"
            ),
        ]

    def __str__(self):
        return f"{self.section} v{self.version}"


class Signature(models.Model):
    """One party's signature on one version, with the evidence of how it was made."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="signatures")
    version = models.ForeignKey(
        AgreementVersion, on_delete=models.PROTECT, related_name="signatures"
    )
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    party = models.CharField(max_length=6, choices=Party.choices)
    typed_name = models.CharField(max_length=150)
    consent_statement = models.TextField()
    signed_at = models.DateTimeField()
    # The canonical JSON of the evidence (see ``create_with_evidence``) and its SHA-256.
    evidence = models.TextField(blank=True)
    evidence_hash = models.CharField(max_length=64, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            # Per version: an amendment is signed while the version in force
            # keeps its two signatures.
            models.UniqueConstraint(
                fields=["version", "party"],
                condition=Q(voided_at__isnull=True),
                name="agreements_signature_one_valid_per_party",
            ),
        ]

    def __str__(self):
        return f"Signature of the {self.get_party_display().lower()}"

    @classmethod
    def create_with_evidence(
        cls, *, agreement, version, signer, party, typed_name, signed_at, origin
    ):
        ip, user_agent = (origin.ip, origin.user_agent) if origin else (None, "")
        evidence = {
            "agreement": str(agreement.uuid),
            "version": version.number,
            "content_hash": version.content_hash,
            "party": party,
            "signer": {"account": signer.pk, "email": signer.email, "name": signer.full_name},
            "typed_name": typed_name,
            "consent_statement": CONSENT_STATEMENT,
            "consent_hash": hashlib.sha256(CONSENT_STATEMENT.encode()).hexdigest(),
            "signed_at": signed_at.astimezone(datetime.UTC).isoformat(),
            "ip": ip,
            "user_agent": user_agent,
            "authentication": AUTHENTICATION,
        }
        return cls.objects.create(
            agreement=agreement,
            version=version,
            signer=signer,
            party=party,
            typed_name=typed_name,
            consent_statement=CONSENT_STATEMENT,
            signed_at=signed_at,
            evidence=content.canonical_json(evidence),
            evidence_hash=content.content_hash(evidence),
        )

    @cached_property
    def evidence_data(self):
        return json.loads(self.evidence) if self.evidence else {}
