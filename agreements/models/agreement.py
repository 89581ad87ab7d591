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

from .sections import CheckIn, Party, describe_changes

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


class AgreementQuerySet(models.QuerySet):
    def for_party(self, user):
        """Agreements in which the user is the mentor or the mentee."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(mentor=user) | Q(mentee=user))

    def with_content(self):
        """Everything the agreement page and the PDF show, in a fixed number of queries."""
        return self.select_related(
            "program", "mentor", "mentee", "schedule", "confidentiality", "term"
        ).prefetch_related(
            "contact_preferences",
            "goals",
            "checkins",
            "off_limits_topics",
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


class Agreement(models.Model):
    """The written agreement of one mentor-mentee pairing in a program."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        AWAITING_SIGNATURES = "awaiting", "Awaiting signatures"
        ACTIVE = "active", "Active"
        ENDED = "ended", "Ended"

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
    def is_editable(self):
        return self.status in {self.Status.DRAFT, self.Status.AWAITING_SIGNATURES}

    # Reading the prefetched content ------------------------------------

    @cached_property
    def sections_by_kind(self):
        return {section.kind: section for section in self.sections.all()}

    def ordered_sections(self):
        return [self.sections_by_kind[kind] for kind in Section.Kind.values]

    def contact_for(self, party):
        return next(p for p in self.contact_preferences.all() if p.party == party)

    def valid_signatures(self):
        """The signatures in force.

        Once the agreement is active its signatures stand on the content they
        stored; before that, a signature counts only while it matches the
        current content.
        """
        live = [s for s in self.signatures.all() if s.voided_at is None]
        if not self.is_editable:
            return live
        return [s for s in live if s.content_hash == self.content_hash]

    def stale_signatures(self):
        """Not voided, yet no longer matching the content: a party or the program
        was renamed after signing. The next signature voids them."""
        if not self.is_editable:
            return []
        return [
            s
            for s in self.signatures.all()
            if s.voided_at is None and s.content_hash != self.content_hash
        ]

    @property
    def signed_hash(self):
        """The hash both parties signed, once active; else the current content's."""
        signatures = self.valid_signatures()
        if not self.is_editable and signatures:
            return signatures[0].content_hash
        return self.content_hash

    def voided_signatures(self):
        return [s for s in self.signatures.all() if s.voided_at is not None]

    def signature_of(self, party):
        return next((s for s in self.valid_signatures() if s.party == party), None)

    def all_sections_agreed(self):
        return all(section.is_agreed for section in self.sections_by_kind.values())

    def todo_for(self, user):
        """What waits for the user, from the prefetched sections and signatures."""
        if not self.is_editable:
            return []
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
        if self.status == self.Status.AWAITING_SIGNATURES:
            signed = {s.party for s in self.signatures.all() if s.voided_at is None}
            if party not in signed:
                todo.append("Sign the agreement")
            if other not in signed:
                todo.append(f"Waiting for {self.user_for(other).full_name} to sign")
        return todo

    def section_data(self, kind):
        Kind = Section.Kind
        if kind == Kind.CONTACT:
            return {p.party: p.as_data() for p in self.contact_preferences.all()}
        if kind == Kind.SCHEDULE:
            return self.schedule.as_data()
        if kind == Kind.GOALS:
            return [goal.as_data() for goal in self.goals.all()]
        if kind == Kind.CHECKINS:
            return [checkin.as_data() for checkin in self.checkins.all()]
        if kind == Kind.CONFIDENTIALITY:
            return self.confidentiality.as_data()
        if kind == Kind.OFF_LIMITS:
            return [topic.as_data() for topic in self.off_limits_topics.all()]
        if kind == Kind.TERM:
            return self.term.as_data()
        raise ValueError(kind)

    def section_is_complete(self, kind):
        Kind = Section.Kind
        if kind == Kind.CONTACT:
            return all(p.is_complete() for p in self.contact_preferences.all())
        if kind == Kind.SCHEDULE:
            return self.schedule.is_complete()
        if kind == Kind.GOALS:
            return bool(self.goals.all())
        if kind == Kind.CHECKINS:
            return bool(self.checkins.all())
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
            [c.date for c in self.checkins.all() if not start <= c.date <= exit_],
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
        return [f"The check-in on {d:%Y-%m-%d} is outside the term {span}." for d in checkins] + [
            f"The goal due {d:%Y-%m-%d} is outside the term {span}." for d in goals
        ]

    def canonical_content(self):
        def person(user):
            return {"name": user.full_name, "email": user.email}

        return {
            "format": content.CANONICAL_FORMAT,
            "agreement": str(self.uuid),
            "program": self.program.name,
            "parties": {"mentor": person(self.mentor), "mentee": person(self.mentee)},
            "sections": {kind: self.section_data(kind) for kind in Section.Kind.values},
            "statements": STATEMENTS,
        }

    @cached_property
    def content_hash(self):
        return content.content_hash(self.canonical_content())

    # Lifecycle moves -----------------------------------------------------
    # Each locks the agreement row first, so moves on one agreement are serial.

    def _lock(self):
        return Agreement.objects.with_content().select_for_update(of=("self",)).get(pk=self.pk)

    def save_section(self, kind, *, by, expected_version, save):
        """Run ``save()`` (the form's) unless someone else saved the section first.

        Returns True when the content changed. A real change clears both
        "agreed" marks on the section and voids every signature.
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
            agreement = Agreement.objects.with_content().get(pk=self.pk)
            # The forms checked dates against the term they loaded; check again
            # under the lock, in case the other party changed it meanwhile.
            problems = agreement.date_problems()
            if problems:
                raise SectionInvalid(" ".join(problems) + " Nothing was saved.")
            after = content.normalise(agreement.section_data(kind))
            if after == content.normalise(before):
                return False
            now = timezone.now()
            section = agreement.sections_by_kind[kind]
            section.version += 1
            section.updated_by = by
            section.updated_at = now
            section.mentor_agreed_at = section.mentee_agreed_at = None
            section.save()
            section.revisions.create(version=section.version, data=after, edited_by=by)
            agreement.signatures.filter(voided_at__isnull=True).update(
                voided_at=now,
                void_reason=f"{section.get_kind_display()} was changed by {by.full_name} "
                "after signing.",
            )
            agreement._settle(now)
            return True

    def agree_section(self, kind, *, by, seen_version):
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
            agreement._settle(now)

    def sign(self, *, by, typed_name, seen_hash):
        """Sign the content whose hash the signer was shown."""
        with transaction.atomic():
            agreement = self._lock()
            party = agreement.party_of(by)
            if agreement.status != self.Status.AWAITING_SIGNATURES:
                raise NotReadyToSign(
                    "Both of you have to agree every section before the agreement can be signed."
                )
            if agreement.content_hash != seen_hash:
                raise ContentChanged(
                    "The agreement changed while you were reading it. Read it again, then sign."
                )
            now = timezone.now()
            stale = [s.pk for s in agreement.stale_signatures()]
            if stale:
                agreement.signatures.filter(pk__in=stale).update(
                    voided_at=now,
                    void_reason="The name of a party or of the program changed after signing.",
                )
            elif agreement.signature_of(party):
                raise NotReadyToSign("You have already signed this agreement.")
            agreement.signatures.create(
                signer=by,
                party=party,
                typed_name=typed_name,
                consent_statement=CONSENT_STATEMENT,
                content=content.canonical_json(agreement.canonical_content()),
                content_hash=seen_hash,
                signed_at=now,
            )
            agreement = Agreement.objects.with_content().get(pk=self.pk)
            agreement._settle(now)

    def _settle(self, now):
        """Derive the status from the sections and signatures, and record activity."""
        if self.all_sections_agreed():
            both_signed = all(self.signature_of(party) for party in Party.values)
            self.status = self.Status.ACTIVE if both_signed else self.Status.AWAITING_SIGNATURES
        else:
            self.status = self.Status.DRAFT
        if self.status == self.Status.ACTIVE:
            self.activated_at = now
        self.last_activity_at = now
        self.save(update_fields=["status", "activated_at", "last_activity_at"])


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
    agreement = models.ForeignKey(Agreement, on_delete=models.CASCADE, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    party = models.CharField(max_length=6, choices=Party.choices)
    typed_name = models.CharField(max_length=150)
    consent_statement = models.TextField()
    # Exactly the bytes (UTF-8) that were hashed: what the signer signed.
    content = models.TextField("canonical content signed")
    content_hash = models.CharField("SHA-256 of the canonical content", max_length=64)
    signed_at = models.DateTimeField()
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"],
                condition=Q(voided_at__isnull=True),
                name="agreements_signature_one_valid_per_party",
            ),
        ]

    def __str__(self):
        return f"Signature of the {self.get_party_display().lower()}"
