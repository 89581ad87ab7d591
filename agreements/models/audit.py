"""The audit trail: an append-only, hash-chained log per agreement.

Each entry stores the SHA-256 of the entry before it (``previous_hash``) and
its own hash over every recorded field (``entry_hash``); the agreement row
keeps the hash of its newest entry (``audit_head``). Changing or removing any
entry, the newest included, breaks the chain at that entry: see
``verify_chain()`` and ``manage.py verify_audit``.
"""

import datetime
import ipaddress
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from agreements import content

from .text import untranslated

GENESIS_HASH = "0" * 64
USER_AGENT_LIMIT = 300


@dataclass(frozen=True)
class Origin:
    """Where a request came from, as the audit trail and signatures record it."""

    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def of(cls, request):
        user_agent = request.headers.get("user-agent", "").replace("\x00", "")
        return cls(ip=client_ip(request), user_agent=user_agent[:USER_AGENT_LIMIT])


def client_ip(request):
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies
    the address the outermost of them saw.

    Each proxy appends the address it received the request from to
    X-Forwarded-For, so only the last TRUSTED_PROXY_COUNT entries are
    trustworthy; what is left of them came from the client and may be forged.
    (django-ipware counts proxies inside the header instead, so it cannot
    express this.)
    """
    address = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            address = forwarded[-count]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class AuditQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The audit trail is append-only.")

    def delete(self):
        raise TypeError("The audit trail is append-only.")


class AuditEvent(models.Model):
    class Kind(models.TextChoices):
        CREATED = "created", gettext_lazy("Agreement created")
        SECTION_EDITED = "section_edited", gettext_lazy("Section edited")
        SECTION_AGREED = "section_agreed", gettext_lazy("Section agreed")
        SIGNED = "signed", pgettext_lazy("audit trail", "Signed")
        SIGNATURE_VOIDED = "signature_voided", gettext_lazy("Signature voided")
        IN_FORCE = "in_force", gettext_lazy("Version in force")
        SUPERSEDED = "superseded", gettext_lazy("Version superseded")
        AMENDMENT_STARTED = "amendment_started", gettext_lazy("Amendment started")
        AMENDMENT_WITHDRAWN = "amendment_withdrawn", gettext_lazy("Amendment withdrawn")
        PDF_SEALED = "pdf_sealed", gettext_lazy("Signed PDF sealed")
        PDF_DOWNLOADED = "pdf_downloaded", gettext_lazy("PDF downloaded")
        VIEWED = "viewed", gettext_lazy("Viewed by someone else")
        ENDED = "ended", gettext_lazy("Agreement ended")
        OFF_LIMITS_ADDED = "off_limits_added", gettext_lazy("Off-limits topic added")
        CHECKIN_RECORDED = "checkin_recorded", gettext_lazy("Check-in recorded")
        CHECKIN_ANSWERED = "checkin_answered", gettext_lazy("Check-in answered")
        NOTICE_GIVEN = "notice_given", gettext_lazy("Notice to end given")
        CLOSING_NOTE = "closing_note", gettext_lazy("Closing note written")
        SHARING_CONSENTED = (
            "sharing_consented",
            gettext_lazy("Agreed to share a section with the program"),
        )
        SHARING_WITHDRAWN = "sharing_withdrawn", gettext_lazy("Sharing with the program withdrawn")
        PROGRAM_REMINDER = "program_reminder", gettext_lazy("Reminder sent by the program")
        SECTION_COMMENTED = "section_commented", gettext_lazy("Comment on a section")
        PROPOSAL_MADE = "proposal_made", gettext_lazy("Change proposed")
        PROPOSAL_ACCEPTED = "proposal_accepted", gettext_lazy("Proposal accepted")
        PROPOSAL_DECLINED = "proposal_declined", gettext_lazy("Proposal declined")
        PROPOSAL_WITHDRAWN = "proposal_withdrawn", gettext_lazy("Proposal withdrawn")
        PROPOSAL_COUNTERED = "proposal_countered", gettext_lazy("Counter-proposal made")
        MEETING_LOGGED = "meeting_logged", gettext_lazy("Meeting logged")
        MEETING_CONFIRMED = "meeting_confirmed", gettext_lazy("Meeting confirmed")
        MEETING_CORRECTED = "meeting_corrected", gettext_lazy("Meeting corrected")
        MEETING_DECLINED = "meeting_declined", gettext_lazy("Meeting taken out of the log")
        MEETINGS_PAUSED = "meetings_paused", gettext_lazy("Meetings paused")
        MEETINGS_RESUMED = "meetings_resumed", gettext_lazy("Meetings resumed")
        SURVEY_ANSWERED = "survey_answered", gettext_lazy("Survey answered")

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.PROTECT, related_name="audit_events"
    )
    sequence = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    at = models.DateTimeField()
    # PROTECT: the chain covers the actor's id, so the user row must stay.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    # Text, not GenericIPAddressField: the chain hashes exactly what is stored,
    # and the database must not rewrite an IPv6 address.
    ip = models.CharField(max_length=45, blank=True)
    user_agent = models.CharField(max_length=USER_AGENT_LIMIT, blank=True)
    details = models.JSONField(default=dict)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["agreement", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "sequence"], name="agreements_auditevent_unique_sequence"
            ),
        ]

    def __str__(self):
        return _("Audit entry %(sequence)s: %(kind)s") % {
            "sequence": self.sequence,
            "kind": self.get_kind_display(),
        }

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The audit trail is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The audit trail is append-only.")

    def hashed_fields(self, agreement_uuid):
        return {
            "agreement": str(agreement_uuid),
            "sequence": self.sequence,
            "kind": self.kind,
            "at": self.at.astimezone(datetime.UTC).isoformat(),
            "actor": self.actor_id,
            "actor_name": self.actor_name,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "details": self.details,
            "previous_hash": self.previous_hash,
        }

    def compute_hash(self, agreement_uuid):
        return content.content_hash(self.hashed_fields(agreement_uuid))

    @classmethod
    def append(cls, agreement, kind, *, actor=None, origin=None, details=None, at=None):
        """Add an entry to the agreement's chain.

        The caller holds the agreement's row lock (``select_for_update``), so
        entries of one agreement are appended one at a time.
        """
        event = cls._after(
            agreement,
            cls._newest(agreement),
            kind,
            actor=actor,
            origin=origin,
            details=details,
            at=at,
        )
        event.save()
        type(agreement).objects.filter(pk=agreement.pk).update(
            audit_head=event.entry_hash, audit_length=event.sequence
        )
        agreement.audit_head, agreement.audit_length = event.entry_hash, event.sequence
        return event

    @classmethod
    def append_after(cls, agreement, newest, kind, *, actor, origin, details=None):
        """Add an entry after ``newest``, the (sequence, hash) of the chain's
        newest entry as the caller read it without a lock (the agreement's
        ``audit_length`` and ``audit_head``), if it still is the newest; else
        add nothing and return None.

        No lock is taken first: the agreement's row is locked only if its
        ``audit_head`` is still that hash, and the entry goes in under that
        lock. Every append moves ``audit_head`` under the row lock, so a chain
        that moved on since finds no row: the caller then appends under the
        lock (``append``). A sequence taken already, which only a head out of
        step with the trail allows, adds nothing either.
        """
        sequence, head = newest
        if not head:
            return None
        event = cls._after(
            agreement, (sequence, head), kind, actor=actor, origin=origin, details=details
        )
        if connection.vendor == "postgresql":
            appended = _insert_under_head(event, head)
        else:
            try:
                # The same in a transaction: the UPDATE takes the lock, then the INSERT.
                with transaction.atomic():
                    heads = type(agreement).objects.filter(pk=agreement.pk, audit_head=head)
                    appended = heads.update(
                        audit_head=event.entry_hash, audit_length=event.sequence
                    )
                    if appended:
                        event.save()
            except IntegrityError:
                appended = False
        if not appended:
            return None
        agreement.audit_head, agreement.audit_length = event.entry_hash, event.sequence
        return event

    @classmethod
    def _after(cls, agreement, newest, kind, *, actor, origin, details, at=None):
        """The entry that follows ``newest`` (None before the first), hashed, unsaved."""
        origin = origin or Origin()
        sequence, previous_hash = newest or (0, GENESIS_HASH)
        # Stored JSON comes back normalised, so hash what the database will return.
        event = cls(
            agreement=agreement,
            sequence=sequence + 1,
            kind=kind,
            at=at or timezone.now(),
            actor=actor,
            actor_name=actor.full_name if actor else "",
            ip=origin.ip or "",
            user_agent=origin.user_agent,
            details=content.normalise(_in_source_words(details or {})),
            previous_hash=previous_hash,
        )
        event.entry_hash = event.compute_hash(agreement.uuid)
        return event

    @classmethod
    def _newest(cls, agreement):
        """The sequence and hash of the chain's newest entry; None if it has none.

        A query of its own after the lock, not a subquery of the locking
        SELECT: on PostgreSQL, a locking SELECT that waited returns the row as
        the other transaction left it but runs its subqueries on the database
        as it was before, without the entry that transaction appended.
        """
        newest = cls.objects.filter(agreement=agreement).order_by("-sequence")
        return newest.values_list("sequence", "entry_hash").first()


def _insert_under_head(event, head):
    """PostgreSQL: in one statement (one round trip, and its own transaction
    outside one), lock the agreement's row if its ``audit_head`` is still
    ``head``, insert ``event`` and make it the head. True if it did (``event``
    is then saved).

    A locking SELECT that waited for another transaction checks its condition
    again on the row as that transaction left it, so a head moved meanwhile
    finds no row, and nothing is inserted.
    """
    fields = [field for field in AuditEvent._meta.concrete_fields if not field.primary_key]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    values = [field.get_db_prep_save(field.pre_save(event, True), connection) for field in fields]
    marks = ", ".join(["%s"] * len(fields))
    agreements = connection.ops.quote_name(apps.get_model("agreements", "Agreement")._meta.db_table)
    entries = connection.ops.quote_name(AuditEvent._meta.db_table)
    sql = f"""
        WITH locked AS (
            SELECT id FROM {agreements} WHERE id = %s AND audit_head = %s
            FOR NO KEY UPDATE
        ), entry AS (
            INSERT INTO {entries} ({columns}) SELECT {marks} FROM locked
            ON CONFLICT DO NOTHING RETURNING id, agreement_id
        )
        UPDATE {agreements} SET audit_head = %s, audit_length = %s FROM entry
        WHERE {agreements}.id = %s AND entry.agreement_id = %s RETURNING entry.id
    """  # noqa: S608 - the only text put in is the tables' and columns' names
    key = event.agreement_id
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, head, *values, event.entry_hash, event.sequence, key, key])
        row = cursor.fetchone()
    if row is None:
        return False
    event.pk, event._state.adding, event._state.db = row[0], False, connection.alias
    return True


def _in_source_words(value):
    """``value`` with the app's marked strings (a section's name...) in their
    source words: the trail is hashed, so the reader's language must not
    change what it records."""
    if isinstance(value, Promise):
        return untranslated(value)
    if isinstance(value, dict):
        return {key: _in_source_words(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_in_source_words(item) for item in value]
    return value


def verify_chain(agreement, events=None):
    """The first problem in the agreement's audit chain, or None if it is intact."""
    if events is None:
        events = agreement.audit_events.order_by("sequence")
    previous_hash, expected_sequence = GENESIS_HASH, 1
    for event in events:
        entry = {
            "sequence": event.sequence,
            "kind": event.get_kind_display(),
            "at": f"{event.at:%Y-%m-%d %H:%M:%S}",
        }
        if event.sequence != expected_sequence:
            # Translators: %(kind)s names the entry ("Signed"); %(at)s is its time.
            return _(
                "entry %(expected)s is missing: the chain jumps to "
                "entry %(sequence)s (%(kind)s, %(at)s)"
            ) % {"expected": expected_sequence, **entry}
        if event.previous_hash != previous_hash:
            return (
                _(
                    "entry %(sequence)s (%(kind)s, %(at)s) does not follow the entry before it "
                    "(removed or altered)"
                )
                % entry
            )
        if event.compute_hash(agreement.uuid) != event.entry_hash:
            return (
                _("entry %(sequence)s (%(kind)s, %(at)s) was altered after it was written") % entry
            )
        previous_hash, expected_sequence = event.entry_hash, expected_sequence + 1
    if previous_hash != (agreement.audit_head or GENESIS_HASH):
        return _("the chain ends at entry %(sequence)s, but later entries were recorded") % {
            "sequence": expected_sequence - 1
        }
    return None
