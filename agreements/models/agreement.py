"""The agreement of one mentor-mentee pairing, composed of its concerns.

Each concern is an abstract model that owns its fields and its moves, in its
own module: drafting, signing, amending, check-ins, ending, sharing, the
sections' discussions and proposals, and the program's reminders. This
module holds what they share: the parties, the prefetched content, the row
lock, the audit trail and the notices.

Every move follows one shape: lock the row (``_lock``), check the state and
raise a named refusal (``agreements.exceptions``), change the rows, and end
through ``_finish``, which stamps the activity and writes the audit entry;
emails and seals are promised as ``Effect`` rows in the same transaction.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from agreements.exceptions import NotActive

from .amending import AmendingMixin
from .audit import AuditEvent
from .checkins import CheckInRecord, CheckInsMixin, GoalProgress
from .confidentiality import OffLimitsTopic
from .discussion import DiscussionMixin
from .drafting import DraftingMixin, Section
from .effects import Effect
from .ending import ClosingNote, EndingMixin
from .meetings import Meeting, MeetingsMixin
from .outcomes import OUTCOME_KINDS, OutcomesMixin
from .overview import EmptyLastIndex, OverviewMixin, OverviewQuerySet
from .parties import Party
from .pauses import Pause, PausesMixin
from .proposals import ProposalsMixin
from .reminders import RemindersMixin
from .sharing import SharingMixin
from .signatures import Signature
from .signing import SigningMixin
from .snapshot import AgreementContent
from .surveys import SurveyResponse, SurveysMixin
from .versions import AgreementVersion

if TYPE_CHECKING:
    from .audit import Origin
    from .users import User


# The agreement's own fields the dashboard's columns are worked out from.
OVERVIEW_SOURCES = {
    "mentor",
    "mentee",
    "status",
    "activated_at",
    "start_in_force",
    "exit_in_force",
    "ends_on",
    "ended_at",
    "end_reason",
}


class AgreementQuerySet(OverviewQuerySet):
    def for_party(self, user):
        """Agreements in which the user is the mentor or the mentee."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(mentor=user) | Q(mentee=user))

    def with_working_copy(self):
        """Everything the agreement page and the PDF show, in a fixed number of queries."""
        # The one-to-one sections join the agreement's row: PostgreSQL plans
        # that join of eight tables once per connection (prepared statements,
        # PG_PREPARED_STATEMENTS), and then it costs less than three lookups.
        return self.select_related(
            "program", "mentor", "mentee", "notice_given_by", "schedule", "confidentiality", "term"
        ).prefetch_related(
            "contact_preferences",
            "goals",
            "checkins",
            models.Prefetch(
                "off_limits_topics", queryset=OffLimitsTopic.objects.select_related("added_by")
            ),
            "versions",
            models.Prefetch("sections", queryset=Section.objects.select_related("updated_by")),
            models.Prefetch("signatures", queryset=Signature.objects.order_by("signed_at")),
        )

    def with_outcome_inputs(self):
        """What the program's outcomes count (``refresh_outcomes``): the
        version in force, the goals, and the dates and statuses of check-ins,
        meetings and pauses; never a note."""
        return self.prefetch_related(
            models.Prefetch(
                "versions",
                queryset=AgreementVersion.objects.filter(status=AgreementVersion.Status.IN_FORCE),
            ),
            "goals",
            models.Prefetch(
                "checkin_records",
                queryset=CheckInRecord.objects.only(
                    "agreement_id", "planned_date", "held_on"
                ).prefetch_related(
                    models.Prefetch(
                        "progress",
                        queryset=GoalProgress.objects.only("record_id", "goal_id", "status"),
                    )
                ),
            ),
            models.Prefetch(
                "meetings",
                queryset=Meeting.objects.only(
                    "agreement_id", "held_on", "status", "awaits", "proposed_at"
                ),
            ),
            models.Prefetch(
                "pauses",
                queryset=Pause.objects.only("agreement_id", "starts_on", "until", "cancelled_at"),
            ),
        )

    def with_records(self):
        """What happened since signing (``record_lookups``)."""
        return self.prefetch_related(*record_lookups())


def record_lookups():
    """What happened since signing, to prefetch: check-ins with goal progress,
    meetings, pauses, survey answers, closing notes. An agreement never in
    force has none of them."""
    return [
        models.Prefetch(
            "checkin_records",
            queryset=CheckInRecord.objects.select_related("recorded_by").prefetch_related(
                "progress"
            ),
        ),
        models.Prefetch("closing_notes", queryset=ClosingNote.objects.select_related("author")),
        "meetings",
        "pauses",
        # Who answered which survey, never what: the survey page reads
        # the reader's own answers itself.
        models.Prefetch(
            "survey_responses",
            queryset=SurveyResponse.objects.only("agreement_id", "party", "moment"),
        ),
    ]


class Agreement(
    DraftingMixin,
    SigningMixin,
    AmendingMixin,
    CheckInsMixin,
    MeetingsMixin,
    PausesMixin,
    SurveysMixin,
    EndingMixin,
    SharingMixin,
    DiscussionMixin,
    ProposalsMixin,
    RemindersMixin,
    OverviewMixin,
    OutcomesMixin,
    models.Model,
):
    """The written agreement of one mentor-mentee pairing in a program."""

    class Status(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("agreement status", "Draft")
        AWAITING_SIGNATURES = "awaiting", pgettext_lazy("agreement status", "Awaiting signatures")
        ACTIVE = "active", pgettext_lazy("agreement status", "Active")
        ENDED = "ended", pgettext_lazy("agreement status", "Ended")

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
    # The language the agreement is written and signed in, and the one it is
    # also shown in; the pair changes them like a section (``Section.Kind.LANGUAGE``).
    language = models.CharField(
        gettext_lazy("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
    )
    second_language = models.CharField(
        gettext_lazy("second language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    # Stamped by every move of the parties (``_finish``).
    last_activity_at = models.DateTimeField(default=timezone.now)
    # The hash of the newest audit entry: removing the newest entries shows.
    audit_head = models.CharField(max_length=64, blank=True, editable=False)
    # And its sequence (how many entries the trail has), moved with it: a
    # download appends after the head without reading the trail first.
    audit_length = models.PositiveIntegerField(default=0, editable=False)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        ordering = ["-last_activity_at"]
        # The dashboard sorts a program's pairings on each of these, filters
        # on status and flags, and pages through them (``overview``). Each
        # sort's index ends in the pk, the tie-breaker, so that the page is
        # read off the index in order: forwards A to Z, backwards Z to A.
        # Where a column may be empty, empty sorts last either way, so the
        # descending order has an index of its own.
        indexes = [
            *(
                models.Index(fields=["program", column, "id"], name=f"agreement_by_{name}")
                for name, column in [
                    ("activity", "last_activity_at"),
                    ("mentor", "mentor_name"),
                    ("mentee", "mentee_name"),
                    ("created", "created_at"),
                    ("status", "status_order"),
                    ("start", "start_on"),
                    ("exit", "exit_on"),
                    ("checkin", "next_checkin"),
                ]
            ),
            *(
                EmptyLastIndex(
                    F("program"),
                    F(column).desc(nulls_last=True),
                    F("id").desc(),
                    name=f"agreement_by_{name}_desc",
                )
                for name, column in [
                    ("start", "start_on"),
                    ("exit", "exit_on"),
                    ("checkin", "next_checkin"),
                ]
            ),
            models.Index(fields=["program", "checkins_overdue"], name="agreement_by_overdue"),
            models.Index(fields=["program", "fading"], name="agreement_by_fading"),
            models.Index(fields=["program", "signed_after"], name="agreement_by_signed_after"),
            models.Index(
                fields=["program", "status", "last_activity_at", "id"],
                name="agreement_by_status_activity",
            ),
            models.Index(
                fields=["program", "status", "created_at"], name="agreement_by_status_created"
            ),
            models.Index(fields=["program", "status", "exit_on"], name="agreement_by_status_exit"),
        ]
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
        # Translators: the admin's name for a pairing, e.g. "Ann Lee mentoring Bo Chen".
        return _("%(mentor)s mentoring %(mentee)s") % {"mentor": self.mentor, "mentee": self.mentee}

    def save(self, *args, **kwargs):
        """Save, and refresh the dashboard's columns when a field they are
        worked out from changed (a move saves its status after its audit entry)."""
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or OVERVIEW_SOURCES.intersection(update_fields):
            self.refresh_overview()

    # The parties ------------------------------------------------------------

    def party_of(self, user: User) -> Party | None:
        if user.pk == self.mentor_id:
            return Party.MENTOR
        if user.pk == self.mentee_id:
            return Party.MENTEE
        return None

    def user_for(self, party: str) -> User:
        return self.mentor if party == Party.MENTOR else self.mentee

    def other_person(self, user: User) -> User:
        """The other party of the agreement, for one of its parties."""
        party = self.party_of(user)
        if party is None:
            raise ValueError(f"{user} is not a party to {self}.")
        return self.user_for(party.other)

    def todo_for(self, user: User) -> list[str]:
        """What waits for the user, from the prefetched sections and signatures
        (and check-ins and closing notes, once it is in force)."""
        todo = self._drafting_todo(user) if self.is_editable else []
        if self.takes_proposals:
            todo += self._proposals_todo(user)
        if self.status == self.Status.ACTIVE and self.content_in_force is not None:
            todo += self._checkins_todo(user) + self._meetings_todo(user) + self._ending_todo(user)
        if self.content_in_force is not None:
            todo += self._surveys_todo(user)
        return todo

    # Reading the prefetched content -----------------------------------------

    @cached_property
    def sections_by_kind(self):
        return {section.kind: section for section in self.sections.all()}

    def ordered_sections(self):
        return [self.sections_by_kind[kind] for kind in Section.Kind.values]

    def contact_for(self, party):
        return next(p for p in self.contact_preferences.all() if p.party == party)

    def working_copy(self):
        """The working copy, in the shape the section partials render."""
        return AgreementContent.live(self)

    def section_data(self, kind):
        return self.working_copy().section_data(kind)

    # What every move shares -------------------------------------------------
    # Each move locks the agreement row first, so moves on one agreement are
    # serial, and writes its audit entry in the same transaction.

    def _lock(self):
        return Agreement.objects.with_working_copy().select_for_update(of=("self",)).get(pk=self.pk)

    def _reload(self):
        return Agreement.objects.with_working_copy().get(pk=self.pk)

    def _require_active(self, refusal):
        """Refuse the move with ``refusal`` unless the agreement is Active."""
        if self.status != self.Status.ACTIVE:
            raise NotActive(refusal)

    def _finish(
        self,
        kind: str,
        *,
        by: User | None,
        origin: Origin | None,
        at: datetime.datetime,
        details: dict[str, Any] | None = None,
        changed: Iterable[str] = (),
    ) -> AuditEvent:
        """End a move of a party: stamp the activity, save the ``changed``
        fields, and write the move's audit entry; returns the entry. The
        caller holds the row lock."""
        self.last_activity_at = at
        self.save(update_fields=[*changed, "last_activity_at"])
        return self.audit(kind, actor=by, origin=origin, at=at, details=details)

    def audit(
        self,
        kind: str,
        *,
        actor: User | None = None,
        origin: Origin | None = None,
        details: dict[str, Any] | None = None,
        at: datetime.datetime | None = None,
    ) -> AuditEvent:
        """Append a move to the audit trail and refresh the dashboard's columns
        (``overview``) and, if the move changes them, the program's outcomes
        (``outcomes``); the caller holds the row lock."""
        event = AuditEvent.append(self, kind, actor=actor, origin=origin, details=details, at=at)
        self.refresh_overview()
        if kind in OUTCOME_KINDS:
            self.refresh_outcomes()
        return event

    def audit_access(self, kind, *, actor, origin, details=None, newest=None):
        """Audit a view or a download: takes the row lock itself.

        Downloads are frequent, so this lock is the narrowest that keeps the
        chain serial: this row only, FOR NO KEY UPDATE (which waits for the
        moves' FOR UPDATE and for itself, but not for rows being added that
        refer to the agreement), reading only the columns the chain needs. A
        read changes nothing the dashboard shows: nothing to refresh.

        ``newest`` is the chain's newest entry, (sequence, hash), as the
        caller's query read it (``audit_head``): while nobody appended since,
        the entry goes in after it in one statement, the lock taken there
        (``AuditEvent.append_after``).
        """
        if newest and AuditEvent.append_after(
            self, newest, kind, actor=actor, origin=origin, details=details
        ):
            return
        with transaction.atomic():
            agreement = (
                Agreement.objects.select_for_update(of=("self",), no_key=True)
                .only("uuid", "audit_head", "audit_length")
                .get(pk=self.pk)
            )
            AuditEvent.append(agreement, kind, actor=actor, origin=origin, details=details)

    def tell_both(self, name: str, *, about: str, **args: Any) -> None:
        """Promise each party the email ``name``, once for ``about``."""
        for user in (self.mentor, self.mentee):
            Effect.objects.promise_email(name, to=user, about=about, **args)

    def tell_other_party(self, name: str, *, by: User, event: AuditEvent, **args: Any) -> None:
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
