"""The daily digest of a pair's discussions, for each party who chose it
(``User.discussion_emails``): what the other party commented, proposed and
answered since that person's previous digest, as counts and links, never
the words.

``manage.py send_digests`` runs this daily from cron. A digest is claimed as
a ``Reminder`` of kind DIGEST about the recipient's date, in the transaction
that promises its email (``reminders.claim``): at most one a day per
agreement and person, however often or concurrently the command runs.
Nothing new, no email and no row.
"""

import dataclasses
import datetime
import functools
import operator

from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from agreements.models import Agreement, Party, Proposal, Reminder, SectionComment, User
from agreements.models.drafting import SECTION_ORDER
from agreements.reminders import claim

DIGEST = Reminder.Kind.DIGEST
# A person's first digest looks back this far.
FIRST_LOOK_BACK = datetime.timedelta(days=1)
# Agreements whose rows are read together: two queries a batch.
BATCH = 100
# The answers to a proposal its author hears of.
ANSWERS = {Proposal.Status.ACCEPTED, Proposal.Status.DECLINED, Proposal.Status.COUNTERED}
NO_ROWS = ([], [])


@dataclasses.dataclass
class News:
    """What one digest tells, in section order: ids and counts only."""

    # {section kind: new comments not by the recipient}
    comments: dict[str, int]
    # [(section kind, proposal id)]: the other party's, waiting for the recipient's answer.
    proposed: list[tuple[str, int]]
    # [(section kind, proposal id, status)]: the recipient's, answered by the other party.
    answered: list[tuple[str, int, str]]

    def __bool__(self):
        return bool(self.comments or self.proposed or self.answered)


def news(agreement, recipient, rows, *, since, until):
    """What happened in ``agreement``'s discussions for ``recipient`` after
    ``since`` up to ``until``, from its ``rows`` (``_rows``). A proposal
    counts as waiting only while it is still open."""
    comments, proposals = rows
    own = agreement.party_of(recipient)
    counts: dict[str, int] = {}
    for row in comments:
        if row["author_id"] != recipient.pk and since < row["written_at"] <= until:
            counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    proposed, answered = [], []
    for row in proposals:
        if row["party"] != own:
            if row["status"] == Proposal.Status.OPEN and since < row["made_at"] <= until:
                proposed.append((row["kind"], row["pk"]))
        elif row["status"] in ANSWERS and since < row["decided_at"] <= until:
            answered.append((row["kind"], row["pk"], row["status"]))
    return News(
        comments={kind: counts[kind] for kind in sorted(counts, key=SECTION_ORDER.__getitem__)},
        proposed=sorted(proposed, key=lambda item: (SECTION_ORDER[item[0]], item[1])),
        answered=sorted(answered, key=lambda item: (SECTION_ORDER[item[0]], item[1])),
    )


def news_of(reminder, agreement, recipient):
    """What the digest ``reminder`` tells ``recipient``: the news from their
    previous digest (or a day back, for a first) to when it was claimed."""
    previous = (
        Reminder.objects.filter(
            agreement=agreement,
            recipient=recipient,
            kind=DIGEST,
            sent_at__lt=reminder.sent_at,
        )
        .order_by("-sent_at")
        .values_list("sent_at", flat=True)
        .first()
    )
    since = previous or reminder.sent_at - FIRST_LOOK_BACK
    rows = _rows({agreement.pk: since}).get(agreement.pk, NO_ROWS)
    return news(agreement, recipient, rows, since=since, until=reminder.sent_at)


def send_due_digests(*, today=None, stdout=None):
    """Promise the digest of each agreement not ended to each party who
    chose one and has news; returns how many. ``today`` is the date the
    digests are about for everyone; by default each party's own."""
    now = timezone.now()
    first = now - FIRST_LOOK_BACK
    agreements = list(_agreements_with_news(first))
    sent = 0
    for start in range(0, len(agreements), BATCH):
        batch = agreements[start : start + BATCH]
        windows = {agreement: _windows(agreement, first) for agreement in batch}
        rows = _rows({agreement.pk: min(w.values()) for agreement, w in windows.items() if w})
        for agreement, window in windows.items():
            for user, since in window.items():
                found = rows.get(agreement.pk, NO_ROWS)
                if not news(agreement, user, found, since=since, until=now):
                    continue
                local_today = today or user.today()
                if _claim(agreement, user, local_today):
                    sent += 1
                    if stdout:
                        party = agreement.party_of(user)
                        stdout.write(
                            f"Digest ({local_today}): agreement {agreement.uuid}, {party}."
                        )
    return sent


def _claim(agreement, user, today):
    """Claim ``user``'s digest of ``agreement`` for ``today``, and promise it.

    The agreement's row lock comes first: a move in flight on it (which
    stamps its time under that lock) commits before the claim is stamped,
    so the window the digest closes holds it, and no move falls between two
    digests unseen.
    """
    with transaction.atomic():
        Agreement.objects.select_for_update().filter(pk=agreement.pk).first()
        return claim(agreement, user, DIGEST, today, email="discussion_digest")


def _last_digest(party):
    return models.Subquery(
        Reminder.objects.filter(
            agreement=models.OuterRef("pk"), recipient=models.OuterRef(party), kind=DIGEST
        )
        .order_by("-sent_at")
        .values("sent_at")[:1]
    )


def _agreements_with_news(first):
    """Agreements not ended where a party who chose digests may have news:
    someone moved since that party's previous digest. One query."""
    daily = User.DiscussionEmails.DAILY
    moved_since = Q()
    for party in Party.values:
        since = Coalesce(
            f"{party}_digest_at", models.Value(first), output_field=models.DateTimeField()
        )
        moved_since |= Q(**{f"{party}__discussion_emails": daily}, last_activity_at__gt=since)
    return (
        Agreement.objects.exclude(status=Agreement.Status.ENDED)
        .annotate(**{f"{party}_digest_at": _last_digest(party) for party in Party.values})
        .filter(moved_since)
        .select_related("mentor", "mentee")
        .order_by("pk")
    )


def _windows(agreement, first):
    """{party who chose digests: since when their news counts}."""
    windows = {}
    for party in Party.values:
        user = agreement.user_for(party)
        if user.discussion_emails == User.DiscussionEmails.DAILY:
            windows[user] = getattr(agreement, f"{party}_digest_at") or first
    return windows


def _rows(windows):
    """{agreement id: (comments, proposals)}: the rows of these agreements
    ({id: since}) that may be news since then, as dicts of ids, sections,
    parties and times. What they say is never loaded. Two queries."""
    if not windows:
        return {}
    written = functools.reduce(
        operator.or_,
        (Q(section__agreement_id=pk, written_at__gt=since) for pk, since in windows.items()),
    )
    moved = functools.reduce(
        operator.or_,
        (
            Q(section__agreement_id=pk) & (Q(made_at__gt=since) | Q(decided_at__gt=since))
            for pk, since in windows.items()
        ),
    )
    found: dict[int, tuple[list, list]] = {pk: ([], []) for pk in windows}
    where = {"agreement": models.F("section__agreement_id"), "kind": models.F("section__kind")}
    for row in SectionComment.objects.filter(written).values("author_id", "written_at", **where):
        found[row["agreement"]][0].append(row)
    for row in Proposal.objects.filter(moved).values(
        "pk",
        "party",
        "status",
        "made_at",
        "decided_at",
        **where,
    ):
        found[row["agreement"]][1].append(row)
    return found
