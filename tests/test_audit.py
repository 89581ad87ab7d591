"""The audit trail: every move is logged, nothing is ever edited, tampering shows."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from agreements import demo
from agreements.models import AuditEvent, Section, verify_chain
from tests.helpers import START, client_for, fresh

Kind = AuditEvent.Kind


@pytest.fixture
def active(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    demo.sign_as(ready, mentee)
    return fresh(ready)


def kinds(agreement):
    return list(agreement.audit_events.order_by("sequence").values_list("kind", flat=True))


def verify_audit():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as exc:
        return False, err.getvalue() + str(exc)
    return True, out.getvalue()


def sql(statement, params):
    # Around the app, as someone with database access would.
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def test_every_move_is_logged_in_order(active):
    logged = kinds(active)
    assert logged[0] == Kind.CREATED
    assert logged.count(Kind.SECTION_EDITED) == 7
    assert logged.count(Kind.SECTION_AGREED) == 2 * len(Section.Kind)
    assert logged[-3:] == [Kind.SIGNED, Kind.SIGNED, Kind.IN_FORCE]
    assert list(active.audit_events.values_list("sequence", flat=True)) == list(
        range(1, len(logged) + 1)
    )
    assert verify_chain(active) is None


def test_requests_record_actor_address_and_user_agent(client, agreement, mentor):
    client_for(client, mentor)
    section = fresh(agreement).sections_by_kind["term"]
    client.post(
        reverse("agreements:section_edit", args=[agreement.uuid, "term"]),
        {
            "revision": section.revision,
            "start_date": START.isoformat(),
            "exit_date": START.replace(year=START.year + 1).isoformat(),
            "notice_days": 14,
        },
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Mozilla/5.0 (test) \u202eevil",
    )
    event = agreement.audit_events.get(kind=Kind.SECTION_EDITED)
    assert event.actor == mentor and event.actor_name == "Maria Mentor"
    assert event.ip == "203.0.113.9"
    assert event.user_agent.startswith("Mozilla/5.0 (test)")
    assert event.details["section"] == "term"
    assert {"field": "Start date", "before": "—", "after": START.isoformat()} in event.details[
        "changes"
    ]


def test_voided_signature_is_logged_with_its_reason(ready, mentor, mentee):
    demo.sign_as(ready, mentor)
    demo.write_section(ready, "term", by=mentee, start=START.replace(day=5))
    event = fresh(ready).audit_events.get(kind=Kind.SIGNATURE_VOIDED)
    assert event.details["party"] == "mentor"
    assert "Term and exit was changed by Milo Mentee" in event.details["reason"]


def test_the_trail_is_append_only(active):
    event = active.audit_events.first()
    event.details = {"forged": True}
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="Someone")
    with pytest.raises(TypeError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert verify_chain(fresh(active)) is None


def test_verify_audit_passes_an_intact_chain(active):
    ok, output = verify_audit()
    assert ok, output
    assert "All 1 audit chains are intact." in output


def test_an_altered_entry_breaks_the_chain_at_that_entry(active):
    event = active.audit_events.get(sequence=5)
    sql("UPDATE agreements_auditevent SET actor_name = %s WHERE id = %s", ["Eve", event.pk])
    ok, output = verify_audit()
    assert not ok
    assert f"Agreement {active.uuid}: entry 5 (Section edited" in output
    assert "was altered after it was written" in output
    assert "1 of 1 audit chains are broken." in output


def test_altered_details_are_detected_too(active):
    event = active.audit_events.get(kind=Kind.IN_FORCE)
    sql(
        "UPDATE agreements_auditevent SET details = %s WHERE id = %s",
        ['{"version": 1, "content_hash": "forged"}', event.pk],
    )
    ok, output = verify_audit()
    assert not ok and f"entry {event.sequence} (Version in force" in output


def test_a_removed_entry_breaks_the_chain_where_it_was(active):
    sql("DELETE FROM agreements_auditevent WHERE agreement_id = %s AND sequence = 3", [active.pk])
    ok, output = verify_audit()
    assert not ok
    assert "entry 3 is missing: the chain jumps to entry 4" in output


def test_removing_the_newest_entry_is_detected(active):
    last = active.audit_events.order_by("-sequence").first()
    sql("DELETE FROM agreements_auditevent WHERE id = %s", [last.pk])
    ok, output = verify_audit()
    assert not ok
    assert f"the chain ends at entry {last.sequence - 1}, but later entries were recorded" in output


def test_a_rewritten_chain_does_not_follow_on(active):
    # Recomputing an altered entry's own hash is not enough: the next entry
    # still names the old one.
    event = active.audit_events.get(sequence=2)
    event.actor_name = "Eve"
    forged = event.compute_hash(active.uuid)
    sql(
        "UPDATE agreements_auditevent SET actor_name = %s, entry_hash = %s WHERE id = %s",
        ["Eve", forged, event.pk],
    )
    ok, output = verify_audit()
    assert not ok
    assert "entry 3 (Section edited" in output and "does not follow the entry before it" in output


def test_parties_see_the_trail_and_whether_it_is_intact(client, active, mentee):
    client_for(client, mentee)
    response = client.get(reverse("agreements:trail", args=[active.uuid]))
    assert response.status_code == 200
    assert "is intact" in response.text
    assert "Version in force" in response.text
    assert active.audit_head in response.text

    last = active.audit_events.order_by("-sequence").first()
    sql("UPDATE agreements_auditevent SET ip = %s WHERE id = %s", ["198.51.100.1", last.pk])
    response = client.get(reverse("agreements:trail", args=[active.uuid]))
    assert "The trail is broken" in response.text


def test_downloading_a_draft_pdf_is_logged_once_it_is_served(
    client, agreement, mentee, django_capture_on_commit_callbacks
):
    url = reverse("agreements:pdf", args=[agreement.uuid])
    with django_capture_on_commit_callbacks(execute=True):
        assert client_for(client, mentee).get(url).status_code == 202  # being prepared
    assert not agreement.audit_events.filter(kind=Kind.PDF_DOWNLOADED).exists()

    assert client.get(url)["Content-Type"] == "application/pdf"
    event = agreement.audit_events.get(kind=Kind.PDF_DOWNLOADED)
    assert event.actor == mentee and event.details == {"file": "draft"}


def test_a_site_admin_opening_the_pairing_is_logged_for_the_pair(client, active, outsider):
    outsider.is_staff = outsider.is_superuser = True
    outsider.save()
    client.force_login(outsider)
    response = client.get(reverse("admin:agreements_agreement_change", args=[active.pk]))
    assert response.status_code == 200
    event = active.audit_events.get(kind=Kind.VIEWED)
    assert event.actor == outsider
    page = client_for(client, active.mentor).get(reverse("agreements:trail", args=[active.uuid]))
    assert "Viewed by someone else" in page.text
    assert outsider.full_name in page.text
