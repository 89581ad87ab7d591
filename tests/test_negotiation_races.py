"""Two moves of a negotiation at the same moment, and the daily digest racing
the discussion it reports.

Each race is fired for real, in threads with their own connections, so the
agreement's row lock decides it as in production: that needs PostgreSQL.
"""

import datetime
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from agreements import digests
from agreements.models import (
    AuditEvent,
    Effect,
    Proposal,
    Reminder,
    verify_chain,
)
from tests.helpers import fresh, make_agreement, make_program, make_ready
from tests.test_concurrency import edit_form, make_client, run_at_once
from tests.test_proposals import edit_url, proposal_url, propose_location, section_state

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="Row locks decide this race as in production: set DATABASE_URL to a PostgreSQL "
        "server.",
    ),
]

Event = AuditEvent.Kind
Status = Proposal.Status
ROUNDS = 3
CLOSED = "This proposal is no longer open."
DAY = datetime.date(2027, 3, 1)


def pairs(program_admin, mentor, mentee):
    """A fresh agreement of the pair for each round, ready to sign."""
    for round_ in range(ROUNDS):
        program = make_program(f"Race Programme {round_}", program_admin)
        yield make_ready(make_agreement(program, mentor, mentee, program_admin))


def moves_since(agreement, proposal):
    """The kinds of the proposal moves after ``proposal`` was made."""
    made = agreement.audit_events.get(details__proposal=proposal.pk, kind=Event.PROPOSAL_MADE)
    return list(
        agreement.audit_events.filter(sequence__gt=made.sequence)
        .order_by("sequence")
        .values_list("kind", flat=True)
    )


def assert_one_open_each_at_most(agreement):
    open_ = Proposal.objects.filter(section__agreement=agreement, status=Status.OPEN)
    parties = list(open_.values_list("party", flat=True))
    assert len(parties) == len(set(parties))


# Proposals ----------------------------------------------------------------------------


def test_accepting_and_countering_at_once_leave_one_consistent_outcome(
    program_admin, mentor, mentee
):
    for agreement in pairs(program_admin, mentor, mentee):
        accept_while_countering(agreement, mentor, mentee)


def accept_while_countering(agreement, mentor, mentee):
    """The mentor accepts the mentee's proposal as the mentee counters the mentor's."""
    mine = propose_location(agreement, by=mentee, location="The library")
    theirs = propose_location(agreement, by=mentor, location="The park")
    before = section_state(agreement, "schedule")
    mentor_client, mentee_client = make_client(mentor), make_client(mentee)
    url = edit_url(agreement, "schedule")
    fields = edit_form(mentee_client.get(f"{url}?counter={theirs.pk}"))
    assert fields["counters"] == str(theirs.pk)
    data = {**fields, "location": "The café", "propose": "1", "proposal-reason": ""}

    accepted, countered = run_at_once(
        lambda: mentor_client.post(proposal_url(agreement, mine, "accept")),
        lambda: mentee_client.post(url, data),
    )

    assert accepted.status_code == 302
    mine.refresh_from_db()
    theirs.refresh_from_db()
    after = fresh(agreement)
    if countered.status_code == 409:
        # The acceptance came first: the counter, made on the older revision, is refused.
        assert (mine.status, mine.decided_by) == (Status.ACCEPTED, mentor)
        assert theirs.status == Status.LAPSED
        assert after.schedule.location == "The library"
        assert after.sections_by_kind["schedule"].revision == before["revision"] + 1
        assert Proposal.objects.filter(section__agreement=agreement).count() == 2
        assert moves_since(agreement, theirs) == [Event.PROPOSAL_ACCEPTED]
    else:
        # The counter came first: it replaced the mentee's own proposal, which
        # the mentor then found closed.
        assert countered.status_code == 302
        assert (theirs.status, theirs.decided_by) == (Status.COUNTERED, mentee)
        assert (mine.status, mine.decided_by) == (Status.WITHDRAWN, mentee)
        counter = Proposal.objects.get(section__agreement=agreement, status=Status.OPEN)
        assert (counter.party, counter.counters) == ("mentee", theirs)
        assert counter.data["location"] == "The café"
        assert section_state(agreement, "schedule") == before
        assert moves_since(agreement, theirs) == [Event.PROPOSAL_COUNTERED]
        assert CLOSED in mentor_client.get(accepted.url).text
    assert_one_open_each_at_most(agreement)
    assert verify_chain(fresh(agreement)) is None


def test_accepting_and_withdrawing_at_once_let_exactly_one_through(program_admin, mentor, mentee):
    for agreement in pairs(program_admin, mentor, mentee):
        accept_while_withdrawing(agreement, mentor, mentee)


def accept_while_withdrawing(agreement, mentor, mentee):
    """The mentor accepts the mentee's proposal as the mentee takes it back."""
    mine = propose_location(agreement, by=mentee, location="The library")
    before = section_state(agreement, "schedule")
    mentor_client, mentee_client = make_client(mentor), make_client(mentee)

    accepted, withdrawn = run_at_once(
        lambda: mentor_client.post(proposal_url(agreement, mine, "accept")),
        lambda: mentee_client.post(proposal_url(agreement, mine, "withdraw")),
    )

    assert accepted.status_code == withdrawn.status_code == 302
    mine.refresh_from_db()
    moves = moves_since(agreement, mine)
    if mine.status == Status.ACCEPTED:
        assert (moves, mine.decided_by) == ([Event.PROPOSAL_ACCEPTED], mentor)
        assert fresh(agreement).schedule.location == "The library"
        assert CLOSED in mentee_client.get(withdrawn.url).text
    else:
        assert (mine.status, mine.decided_by) == (Status.WITHDRAWN, mentee)
        assert moves == [Event.PROPOSAL_WITHDRAWN]
        assert section_state(agreement, "schedule") == before
        assert CLOSED in mentor_client.get(accepted.url).text
    assert not Proposal.objects.filter(section__agreement=agreement, status=Status.OPEN)
    assert verify_chain(fresh(agreement)) is None


# Digests ------------------------------------------------------------------------------


def digest_rows(agreement, person):
    return Reminder.objects.filter(agreement=agreement, recipient=person, kind=Reminder.Kind.DIGEST)


def test_two_digest_runs_at_once_promise_one_digest(ready, mentor, mentee):
    fresh(ready).comment_on("goals", by=mentor, text="Shall we meet earlier?")

    sent = run_at_once(
        lambda: digests.send_due_digests(today=DAY), lambda: digests.send_due_digests(today=DAY)
    )

    assert sorted(sent) == [0, 1]
    [reminder] = digest_rows(ready, mentee)
    assert reminder.about == DAY
    promised = Effect.objects.filter(key__startswith="email:discussion_digest:")
    assert list(promised.values_list("key", flat=True)) == [
        f"email:discussion_digest:reminder:{reminder.pk}:user:{mentee.pk}"
    ]
    assert not digest_rows(ready, mentor).exists()


def waiting_on_a_lock():
    """Whether another connection of this database waits for a row lock."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0] > 0


def test_a_comment_made_while_a_digest_is_claimed_is_in_that_digest(
    ready, mentor, mentee, mailoutbox
):
    """The comment's transaction holds the agreement's row lock when the
    digest run, which saw the earlier news, comes to claim: the claim waits
    for it to commit, so the window the digest closes holds the comment."""
    fresh(ready).comment_on("goals", by=mentor, text="Shall we meet earlier?")
    locked, release = threading.Event(), threading.Event()
    waited = []

    def comment_held_open():
        with transaction.atomic():
            comment = fresh(ready).comment_on("schedule", by=mentor, text="Or later?")
            locked.set()
            assert release.wait(timeout=10)
            return comment, timezone.now()

    def digest():
        assert locked.wait(timeout=10)
        return digests.send_due_digests(today=DAY)

    def watch():
        assert locked.wait(timeout=10)
        try:
            for _ in range(100):
                if waiting_on_a_lock():
                    waited.append(True)
                    break
                time.sleep(0.05)
        finally:
            release.set()

    (late, committing_at), sent, _ = run_at_once(comment_held_open, digest, watch)

    assert waited, "the digest run did not wait for the comment's transaction"
    assert sent == 1
    [reminder] = digest_rows(ready, mentee)
    # Stamped once the comment's transaction ended, not while it was in flight.
    assert reminder.sent_at > committing_at > late.written_at
    news = digests.news_of(reminder, fresh(ready), mentee)
    assert news.comments == {"goals": 1, "schedule": 1}
    [message] = [m for m in mailoutbox if m.to == [mentee.email]]
    assert "* “Goals”: 1 new comment\n" in message.body
    assert "* “Meeting schedule”: 1 new comment\n" in message.body
    # Told once: the next day's digest has nothing more to say.
    assert digests.send_due_digests(today=DAY + datetime.timedelta(days=1)) == 0
