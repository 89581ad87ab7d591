"""Proposals: instead of saving a change to a section, a party proposes it.

The proposal is the section as its author would like it, made on one
revision of it. The other party accepts it (it then applies, as agreed by
both), counters it or declines it; its author may withdraw it. Like a
comment (``discussion.py``), what it says stays between the pair: the audit
trail records each move, never its words, but for the changes an accepted
one made, as for any edit. ``ProposalsMixin`` is a concern of ``Agreement``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from agreements import content
from agreements.exceptions import AgreementSigned, ProposalClosed, ProposalStale, SectionInvalid

from .audit import AuditEvent
from .changes import record_changes
from .drafting import Section
from .parties import Party
from .text import long_text, untranslated

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from collections.abc import Callable

    from .agreement import Agreement
    from .audit import Origin
    from .users import User


class ProposalsMixin(models.Model):
    class Meta:
        abstract = True

    @property
    def takes_proposals(self: Agreement) -> bool:
        """A proposal can be made and answered: the working copy can change,
        or (Active) it can be amended, which accepting one starts."""
        return self.is_editable or self.is_amendable

    def propose_change(
        self: Agreement,
        kind: str,
        *,
        by: User,
        expected_revision: int,
        save: Callable[[], object],
        form_data: dict,
        reason: str = "",
        counters: int | None = None,
        origin: Origin | None = None,
    ) -> Proposal | None:
        """Propose the section as ``save()`` (the form's, sent as
        ``form_data``) would leave it, without changing it; None if that is
        what it says already. It replaces the party's open proposal on the
        section, if any, and answers the other party's proposal ``counters``,
        if still open.

        On an Active agreement, it is made on the version in force; accepted,
        it starts the amendment it needs (``accept_proposal``).
        """
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.takes_proposals:
                raise AgreementSigned(
                    _("A signed agreement can only be changed through an amendment.")
                )
            section = agreement.sections_by_kind[kind]
            agreement._refuse_if_saved_since(section, expected_revision)
            before = content.normalise(agreement.section_data(kind))
            proposed = agreement._as_it_would_read(kind, save)
            if proposed == before:
                return None
            party = agreement.party_of(by)
            # Countering a proposal that closed meanwhile makes a proposal all the same.
            countered = (
                Proposal.objects.filter(section=section, pk=counters, status=Proposal.Status.OPEN)
                .exclude(party=party)
                .first()
            )
            if countered and proposed == content.normalise(countered.data):
                raise SectionInvalid(
                    _(
                        "Your counter-proposal says what theirs says: accept theirs instead. "
                        "Nothing was proposed."
                    )
                )
            now = timezone.now()
            Proposal.objects.filter(
                section=section, party=party, status=Proposal.Status.OPEN
            ).update(status=Proposal.Status.WITHDRAWN, decided_by=by, decided_at=now)
            proposal = Proposal.objects.create(
                section=section,
                author=by,
                party=party,
                base_revision=section.revision,
                data=proposed,
                form_data=form_data,
                reason=reason,
                counters=countered,
                made_at=now,
            )
            details = {"section": kind, "proposal": proposal.pk}
            if countered:
                countered.answer(Proposal.Status.COUNTERED, by=by, at=now)
                details["counters"] = countered.pk
            event = agreement._finish(
                Event.PROPOSAL_COUNTERED if countered else Event.PROPOSAL_MADE,
                by=by,
                origin=origin,
                at=now,
                details=details,
            )
            agreement._tell_of_discussion(event, by=by)
            return proposal

    def _as_it_would_read(self: Agreement, kind: str, save: Callable[[], object]):
        """The section's canonical data after ``save()``, which is rolled back."""
        try:
            with transaction.atomic():
                try:
                    with transaction.atomic():
                        save()
                except IntegrityError:
                    raise SectionInvalid(
                        _(
                            "These changes clash with each other (two check-ins on one day?). "
                            "Nothing was proposed."
                        )
                    ) from None
                changed = type(self).objects.with_working_copy().get(pk=self.pk)
                problems = changed.date_problems()
                data = content.normalise(changed.section_data(kind))
                raise _Measured
        except _Measured:
            pass
        if problems:
            raise SectionInvalid(" ".join([*problems, _("Nothing was proposed.")]))
        return data

    def accept_proposal(
        self: Agreement,
        number: int,
        *,
        by: User,
        save: Callable[[], object],
        origin: Origin | None = None,
    ) -> bool:
        """The other party's proposal applies: ``save()`` replays its author's
        form, so the change is made as their own save would have made it (rows
        keep their ids, and what hangs on them), and both agree to the result
        if the section is then complete. On an Active agreement, it starts an
        amendment: the version in force stays in force until both sign the
        amended one. Returns whether they both agreed."""
        with transaction.atomic():
            agreement = self._lock()
            proposal = agreement._open_proposal(number, answered_by=by)
            section, kind = proposal.section, proposal.section.kind
            if section.revision != proposal.base_revision:
                raise ProposalStale(stale_refusal())
            if agreement.is_amendable:
                agreement.start_amendment(by=by, origin=origin)
                agreement = agreement._reload()
            before = agreement.section_data(kind)
            try:
                with transaction.atomic():
                    save()
            except IntegrityError:
                raise ProposalStale(stale_refusal()) from None
            agreement = agreement._reload()
            after = content.normalise(agreement.section_data(kind))
            if after != content.normalise(proposal.data):
                # Something the revision does not track moved under it.
                raise ProposalStale(stale_refusal())
            if problems := agreement.date_problems():
                raise SectionInvalid(" ".join([*problems, _("Nothing was changed.")]))
            agreed = agreement.section_is_complete(kind)
            now = timezone.now()
            agreement._keep_revision(
                kind, after, by=proposal.author, at=now, agreed=agreed, proposal=proposal
            )
            proposal.answer(Proposal.Status.ACCEPTED, by=by, at=now)
            # The section changed under any other open proposal on it: the
            # acceptor's own, which this one answered, included.
            Proposal.objects.filter(section=section, status=Proposal.Status.OPEN).update(
                status=Proposal.Status.LAPSED, decided_at=now
            )
            event = agreement._finish(
                Event.PROPOSAL_ACCEPTED,
                by=by,
                origin=origin,
                at=now,
                details={
                    "section": kind,
                    "proposal": proposal.pk,
                    "proposed_by": proposal.party,
                    "changes": record_changes(before, after),
                },
            )
            agreement._tell_of_discussion(event, by=by)
            agreement._void_working_signatures(
                now,
                f"{untranslated(Section.Kind(kind).label)} was changed by a proposal accepted "
                "after signing.",
                origin=origin,
            )
            agreement._settle(now)
            return agreed

    def decline_proposal(
        self: Agreement,
        number: int,
        *,
        by: User,
        response: str = "",
        origin: Origin | None = None,
    ) -> None:
        """The other party declines a proposal, perhaps saying why: nothing changes."""
        with transaction.atomic():
            agreement = self._lock()
            proposal = agreement._open_proposal(number, answered_by=by)
            now = timezone.now()
            proposal.answer(Proposal.Status.DECLINED, by=by, at=now, response=response)
            kind = proposal.section.kind
            event = agreement._finish(
                Event.PROPOSAL_DECLINED,
                by=by,
                origin=origin,
                at=now,
                details={"section": kind, "proposal": proposal.pk},
            )
            agreement._tell_of_discussion(event, by=by)

    def withdraw_proposal(
        self: Agreement, number: int, *, by: User, origin: Origin | None = None
    ) -> None:
        """Its author takes a proposal back."""
        with transaction.atomic():
            agreement = self._lock()
            proposal = agreement._proposal(number)
            if proposal.party != agreement.party_of(by):
                raise ProposalClosed(_("Only whoever made a proposal can withdraw it."))
            if proposal.status != Proposal.Status.OPEN or not agreement.takes_proposals:
                raise ProposalClosed(_("This proposal is no longer open."))
            now = timezone.now()
            proposal.answer(Proposal.Status.WITHDRAWN, by=by, at=now)
            agreement._finish(
                Event.PROPOSAL_WITHDRAWN,
                by=by,
                origin=origin,
                at=now,
                details={"section": proposal.section.kind, "proposal": proposal.pk},
            )

    def _lapse_open_proposals(self, at):
        """The working copy closed (signed, its amendment withdrawn, or the
        agreement ended): its open proposals can no longer be answered."""
        Proposal.objects.filter(section__agreement=self, status=Proposal.Status.OPEN).update(
            status=Proposal.Status.LAPSED, decided_at=at
        )

    def _proposal(self, number):
        return Proposal.objects.select_related("section", "author").get(
            section__agreement=self, pk=number
        )

    def _open_proposal(self: Agreement, number: int, *, answered_by: User) -> Proposal:
        """The proposal ``answered_by`` may accept or decline: open, on a
        working copy that can change, made by the other party."""
        proposal = self._proposal(number)
        if proposal.status != Proposal.Status.OPEN:
            raise ProposalClosed(_("This proposal is no longer open."))
        if not self.takes_proposals:
            raise AgreementSigned(_("This agreement is signed and can no longer be changed."))
        if proposal.party == self.party_of(answered_by):
            raise ProposalClosed(
                _("This is your own proposal: the other party accepts or declines it.")
            )
        return proposal


def proposals_to_answer(user: User) -> models.QuerySet[Proposal]:
    """Open proposals the other party made on the user's agreements, while
    they can be answered (``ProposalsMixin.takes_proposals``)."""
    from .agreement import Agreement

    Status = Agreement.Status
    answerable = Agreement.objects.filter(
        Q(status__in=[Status.DRAFT, Status.AWAITING_SIGNATURES])
        | Q(status=Status.ACTIVE, amending_since__isnull=False)
        | Q(status=Status.ACTIVE, notice_given_at__isnull=True)
    )
    return Proposal.objects.filter(
        Q(section__agreement__in=answerable.filter(mentor=user).values("pk"))
        & ~Q(party=Party.MENTOR)
        | Q(section__agreement__in=answerable.filter(mentee=user).values("pk"))
        & ~Q(party=Party.MENTEE),
        status=Proposal.Status.OPEN,
    )


def stale_refusal():
    """Why a proposal made on an older revision of its section cannot be accepted."""
    return _(
        "The section changed after this proposal was made, so it cannot be accepted as it "
        "is. Read the section as it is now, then propose again."
    )


class _Measured(Exception):
    """Rolls back a change made only to see what the section would then say."""


class Proposal(models.Model):
    """One party's proposed version of a section: the section's canonical data
    as they would like it, made on one revision of it."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("a proposal", "Open")
        ACCEPTED = "accepted", pgettext_lazy("a proposal", "Accepted")
        DECLINED = "declined", pgettext_lazy("a proposal", "Declined")
        WITHDRAWN = "withdrawn", pgettext_lazy("a proposal", "Withdrawn")
        # Answered with a proposal of the other party's own (``counters``).
        COUNTERED = "countered", pgettext_lazy("a proposal", "Countered")
        # Still open when the working copy closed: signed, or its amendment withdrawn.
        LAPSED = "lapsed", pgettext_lazy("a proposal", "Lapsed")

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="proposals")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    party = models.CharField(max_length=6, choices=Party.choices)
    # The section's revision it was made on: once the section changes, it is stale.
    base_revision = models.PositiveIntegerField()
    data = models.JSONField()
    # The author's form as they sent it ({field: [values]}): accepting it
    # replays it (``accept_proposal``), and countering opens it, filled in.
    form_data = models.JSONField(default=dict)
    reason = long_text(gettext_lazy("why (optional)"), blank=True)
    # The other party's proposal this one answers, as a counter-proposal.
    counters = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    made_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=9, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Why it was declined, if its answer said.
    response = long_text(gettext_lazy("why (optional)"), blank=True)

    class Meta:
        ordering = ["made_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "party"],
                condition=Q(status="open"),
                name="agreements_proposal_one_open_per_party",
            ),
        ]

    def __str__(self):
        return _("Proposal on %(section)s") % {"section": self.section}

    def answer(self, status, *, by, at, response=""):
        """Close the proposal as ``status``, answered by ``by`` at ``at``."""
        self.status, self.decided_by, self.decided_at = status, by, at
        self.response = response
        self.save(update_fields=["status", "decided_by", "decided_at", "response"])

    @property
    def is_stale(self):
        return self.status == self.Status.OPEN and self.section.revision != self.base_revision
