"""What a download of a stored sealed PDF (a version's or the final record)
costs: a fixed number of queries however long the audit trail, and a trail
that stays one chain when the pair download at the same time or someone
appends between the read and the write."""

import pytest
from django.db import connection
from django.urls import reverse

from agreements import demo
from agreements.models import Agreement, AuditEvent, Origin, verify_chain
from tests.helpers import client_for, fresh, make_ready, run_migration
from tests.test_concurrency import make_client, run_at_once
from tests.test_signed_pdf import body, sign_both, stored

# The session and its user; the version with its agreement, the parties'
# names (the file's name) and the trail's newest entry; the audit entry: on
# PostgreSQL one statement (the row lock, the INSERT and the audit_head
# UPDATE), elsewhere its savepoint, the UPDATE, the INSERT and the release.
DOWNLOAD_QUERIES = {"postgresql": 4, "sqlite": 7}


def downloads(agreement):
    return agreement.audit_events.filter(kind=AuditEvent.Kind.PDF_DOWNLOADED).count()


def test_a_sealed_pdf_download_costs_the_same_queries_however_long_the_trail(
    client, ready, mentor, django_capture_on_commit_callbacks, django_assert_num_queries
):
    version = sign_both(ready, django_capture_on_commit_callbacks)
    url = reverse("agreements:version_pdf", args=[ready.uuid, version.number])
    client_for(client, mentor)
    client.get(url)  # the session's first request may write to it

    with django_assert_num_queries(DOWNLOAD_QUERIES[connection.vendor]):
        short = client.get(url)
    for _ in range(40):
        ready.audit_access(AuditEvent.Kind.VIEWED, actor=mentor, origin=Origin())
    with django_assert_num_queries(DOWNLOAD_QUERIES[connection.vendor]):
        long = client.get(url)

    for response in (short, long):
        assert response.status_code == 200
        assert body(response) == stored(version.pdf)
    assert downloads(ready) == 3
    assert verify_chain(fresh(ready)) is None


def test_the_final_record_download_costs_as_little(
    client, active, mentee, django_capture_on_commit_callbacks, django_assert_num_queries
):
    with django_capture_on_commit_callbacks(execute=True):
        fresh(active).give_notice(by=mentee)
        agreement = fresh(active)
        agreement.end_if_due(agreement.ends_on)
    agreement = fresh(active)
    url = reverse("agreements:pdf", args=[agreement.uuid])
    client_for(client, mentee)
    client.get(url)  # the session's first request may write to it

    # As a version's: the session, its user, the agreement with its parties,
    # its version in force and its trail's newest entry, and the audit entry.
    with django_assert_num_queries(DOWNLOAD_QUERIES[connection.vendor]):
        response = client.get(url)

    assert response.status_code == 200
    assert body(response) == stored(agreement.final_pdf)
    assert "-final.pdf" in response["Content-Disposition"]
    assert downloads(agreement) == 2
    assert verify_chain(fresh(agreement)) is None


def test_a_download_appends_after_the_newest_entry_even_when_the_one_in_hand_is_old(ready, mentor):
    old = fresh(ready)
    ready.audit_access(AuditEvent.Kind.VIEWED, actor=mentor, origin=Origin())

    old.audit_access(AuditEvent.Kind.PDF_DOWNLOADED, actor=mentor, origin=Origin())

    agreement = fresh(ready)
    assert agreement.audit_events.last().kind == AuditEvent.Kind.PDF_DOWNLOADED
    assert verify_chain(agreement) is None


def newest(agreement):
    agreement = fresh(agreement)
    return agreement.audit_events.get(
        entry_hash=agreement.audit_head
    ).sequence, agreement.audit_head


@pytest.mark.parametrize("newest_in_hand", [True, False])
def test_the_row_keeps_the_sequence_of_the_entry_its_head_names(ready, mentor, newest_in_hand):
    """``audit_length`` moves with ``audit_head``, whichever way an entry
    goes in: a move's append under the lock, a download's after the head in
    hand, or under the lock when the head in hand is old."""
    old = newest(ready)
    for _ in range(2):
        agreement = fresh(ready)
        in_hand = (agreement.audit_length, agreement.audit_head) if newest_in_hand else old
        agreement.audit_access(
            AuditEvent.Kind.PDF_DOWNLOADED, actor=mentor, origin=Origin(), newest=in_hand
        )
        stored = fresh(ready)
        assert (stored.audit_length, stored.audit_head) == newest(ready)
    fresh(ready).comment_on("goals", by=mentor, text="A move's entry")

    agreement = fresh(ready)
    assert (agreement.audit_length, agreement.audit_head) == newest(ready)
    assert agreement.audit_length == old[0] + 3
    assert verify_chain(agreement) is None


def test_a_download_read_before_another_entry_goes_in_after_that_entry(ready, mentor):
    read = newest(ready)
    ready.audit_access(AuditEvent.Kind.VIEWED, actor=mentor, origin=Origin())

    ready.audit_access(AuditEvent.Kind.PDF_DOWNLOADED, actor=mentor, origin=Origin(), newest=read)

    agreement = fresh(ready)
    last = agreement.audit_events.last()
    assert (last.kind, last.sequence) == (AuditEvent.Kind.PDF_DOWNLOADED, read[0] + 2)
    assert verify_chain(agreement) is None


def test_a_head_behind_the_trail_does_not_fork_it(ready, mentor):
    behind = newest(ready)
    ready.audit_access(AuditEvent.Kind.VIEWED, actor=mentor, origin=Origin())
    Agreement.objects.filter(pk=ready.pk).update(audit_length=behind[0], audit_head=behind[1])

    ready.audit_access(AuditEvent.Kind.PDF_DOWNLOADED, actor=mentor, origin=Origin(), newest=behind)

    agreement = fresh(ready)
    assert agreement.audit_events.filter(sequence=behind[0] + 1).count() == 1
    assert agreement.audit_events.last().sequence == behind[0] + 2
    assert verify_chain(agreement) is None


@pytest.mark.django_db(transaction=True)
def test_downloads_at_the_same_time_keep_one_unbroken_chain(agreement, mentor, mentee):
    ready = make_ready(agreement)
    demo.sign_as(ready, mentor)
    demo.sign_as(ready, mentee)
    version = Agreement.objects.get(pk=ready.pk).version_in_force
    assert version.is_sealed
    url = reverse("agreements:version_pdf", args=[ready.uuid, version.number])
    clients = [make_client(user) for user in (mentor, mentee, mentor, mentee)]
    before = downloads(ready)

    def download_five_times(client):
        return lambda: [client.get(url).status_code for _ in range(5)]

    statuses = run_at_once(*(download_five_times(client) for client in clients))

    assert statuses == [[200] * 5] * 4
    assert downloads(ready) == before + 20
    assert verify_chain(fresh(ready)) is None


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_gives_each_trail_the_sequence_of_its_head(ready, mentor):
    ready.audit_access(AuditEvent.Kind.VIEWED, actor=mentor, origin=Origin())
    expected = {ready.pk: newest(ready)[0]}

    run_migration("0014_signed_after", "0015_audit_length")

    assert dict(Agreement.objects.values_list("pk", "audit_length")) == expected
    assert all(expected.values())
