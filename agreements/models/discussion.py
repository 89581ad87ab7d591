"""Discussion: a conversation per section, private to the pair.

Either party writes comments on a section, to ask about it or say why they
would word it otherwise (and may propose a change: ``proposals.py``). What
they write is theirs, like the section's content: the audit trail records
that a comment was made, never its words, and the program's admins never
read it. ``DiscussionMixin`` is a concern of ``Agreement``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, F, Func, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.exceptions import AlreadyEnded

from .audit import AuditEvent
from .drafting import Section
from .proposals import Proposal
from .text import long_text

Event = AuditEvent.Kind

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User


class DiscussionMixin(models.Model):
    class Meta:
        abstract = True

    def discussions_for(self: Agreement, user: User) -> dict[str, Discussion]:
        """Each section's discussion as ``user`` sees it, by kind: how many
        comments, how many the other party wrote since the user last read it,
        the newest, and the open proposals.

        Four small queries, the sections read from the agreement's own (the
        page has them). The comments come as (section, author, time) only and
        are counted here: a thousand of them cost about a millisecond, less
        than building the same counts as SQL subqueries costs on every view.
        """
        sections = {section.pk: section for section in self.sections.all()}
        last_read = dict(
            ThreadRead.objects.filter(section__in=sections, reader=user).values_list(
                "section_id", "read_at"
            )
        )
        counts = dict.fromkeys(sections, 0)
        unread = dict.fromkeys(sections, 0)
        newest: dict[int, tuple] = {}
        for section_id, author_id, written_at, pk in (
            SectionComment.objects.filter(section__in=sections)
            .order_by()
            .values_list("section_id", "author_id", "written_at", "pk")
        ):
            counts[section_id] += 1
            read_at = last_read.get(section_id)
            if author_id != user.pk and (read_at is None or written_at > read_at):
                unread[section_id] += 1
            newest[section_id] = max(newest.get(section_id, (written_at, pk)), (written_at, pk))
        latest = SectionComment.objects.select_related("author").in_bulk(
            [pk for _written_at, pk in newest.values()]
        )
        proposals: dict[int, list[Proposal]] = {}
        for proposal in Proposal.objects.filter(
            section__in=sections, status=Proposal.Status.OPEN
        ).select_related("author"):
            proposal.section = sections[proposal.section_id]
            proposals.setdefault(proposal.section_id, []).append(proposal)
        return {
            section.kind: Discussion(
                count=counts[pk],
                unread=unread[pk],
                latest=latest.get(newest[pk][1]) if pk in newest else None,
                proposals=proposals.get(pk, []),
            )
            for pk, section in sections.items()
        }

    # Moves ------------------------------------------------------------------

    def comment_on(
        self: Agreement, kind: str, *, by: User, text: str, origin: Origin | None = None
    ) -> SectionComment:
        """Add ``by``'s comment to a section's discussion, while the agreement runs."""
        with transaction.atomic():
            agreement = self._lock()
            if agreement.is_ended:
                raise AlreadyEnded(
                    _("The agreement has ended: its discussions can be read, not added to.")
                )
            section = agreement.sections_by_kind[kind]
            now = timezone.now()
            comment = SectionComment.objects.create(
                section=section, author=by, text=text, written_at=now
            )
            # What they wrote stays out of the trail: it records only that they wrote.
            event = agreement._finish(
                Event.SECTION_COMMENTED,
                by=by,
                origin=origin,
                at=now,
                details={"section": kind, "comment": comment.pk},
            )
            # Their own comment is read by its author.
            ThreadRead.mark(section, by, now)
            agreement._tell_of_discussion(event, by=by)
            return comment

    def _tell_of_discussion(self: Agreement, event: AuditEvent, *, by: User) -> None:
        """Email the other party about ``event`` (a comment or a proposal's
        move by ``by``), as they chose: now, in the day's digest, or never.
        The email names what happened and where, never what was written."""
        other = self.other_person(by)
        # DAILY: the cron's digest reads the rows themselves (``digests.py``).
        if other.discussion_emails == other.DiscussionEmails.IMMEDIATELY:
            self.tell_other_party("discussion_move", by=by, event=event, event_id=event.pk)


def unread_comments(user: User) -> models.QuerySet[SectionComment]:
    """Comments on the user's agreements by someone else, written since the
    user last read that section's discussion, or ever if they never did."""
    from .agreement import Agreement

    last_read = ThreadRead.objects.filter(section=OuterRef("section"), reader=user).values(
        "read_at"
    )
    theirs = Agreement.objects.filter(Q(mentor=user) | Q(mentee=user)).values("pk")
    return (
        SectionComment.objects.filter(section__agreement__in=theirs)
        .exclude(author=user)
        .filter(Q(written_at__gt=Subquery(last_read)) | ~Exists(last_read))
    )


def count_of(queryset: models.QuerySet) -> Coalesce:
    """How many rows ``queryset`` has, as a value of the query around it.
    ``COUNT`` as a plain function, not an aggregate, keeps it one row without
    a GROUP BY."""
    counted = queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")
    return Coalesce(Subquery(counted), 0)


class Discussion:
    """What the agreement page shows of one section's discussion."""

    def __init__(self, *, count, unread, latest, proposals):
        self.count, self.unread, self.latest = count, unread, latest
        self.proposals = proposals


class SectionComment(models.Model):
    """One party's comment on a section: private to the pair."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = long_text(gettext_lazy("comment"))
    written_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["written_at", "pk"]
        indexes = [
            models.Index(fields=["section", "written_at"], name="sectioncomment_by_section"),
        ]

    def __str__(self):
        return _("Comment on %(section)s") % {"section": self.section}


class ThreadRead(models.Model):
    """When a person last read a section's discussion: what is new since is
    counted as unread for them."""

    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="+")
    reader = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["section", "reader"], name="agreements_threadread_one_per_reader"
            ),
        ]

    def __str__(self):
        return _("%(section)s, read") % {"section": self.section}

    @classmethod
    def mark(cls, section, reader, at):
        """``reader`` has read ``section``'s discussion at ``at``: one upsert."""
        ThreadRead.objects.bulk_create(
            [ThreadRead(section=section, reader=reader, read_at=at)],
            update_conflicts=True,
            unique_fields=["section", "reader"],
            update_fields=["read_at"],
        )
