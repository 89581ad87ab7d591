"""An agreement in force: added off-limits topics, check-ins, the no-fault exit,
the end, closing notes and the final PDF."""

import datetime
import io

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from agreements import demo
from agreements.exceptions import CheckInInvalid, NotActive, NotAmendable
from agreements.models import (
    Agreement,
    AuditEvent,
    CheckInRecord,
    GoalProgress,
    OffLimitsTopic,
    Section,
)
from tests.helpers import assert_unchanged, client_for, fresh, make_active, make_user
from tests.test_concurrency import edit_form

CANARY = "canary-7f3a-never-leaves-the-pair"


def url(name, agreement, *args):
    return reverse(f"agreements:{name}", args=[agreement.uuid, *args])


def today():
    return timezone.localdate()


def first_checkin(agreement):
    return agreement.content_in_force.checkins[0].date


def record_first_checkin(agreement, by, *, status="on_track", note="", working="yes"):
    agreement = fresh(agreement)
    return agreement.write_checkin_record(
        planned_date=first_checkin(agreement),
        held_on=today(),
        progress=[(goal, status, note) for goal in agreement.goals_in_force()],
        working=working,
        note=note,
        by=by,
    )


def checkin_post(agreement, *, status="on_track", note="", working="yes", held_on=None):
    data = {"held_on": (held_on or today()).isoformat(), "working": working, "working_note": note}
    for goal in agreement.goals_in_force():
        data[f"goal_{goal.pk}_status"] = status
        data[f"goal_{goal.pk}_note"] = note
    return data


# Off-limits topics added on an Active agreement ---------------------------------


def test_adding_a_topic_needs_no_new_signatures_and_tells_the_other_party(
    client, active, mentee, django_capture_on_commit_callbacks
):
    client_for(client, mentee)
    in_force = active.version_in_force
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("off_limits_add", active), {"topic": "My divorce", "rule": "never"}
        )
    assert response.status_code == 302

    agreement = fresh(active)
    assert agreement.status == Agreement.Status.ACTIVE
    assert agreement.version_in_force == in_force  # still in force, nothing to sign
    assert agreement.sections_by_kind["off_limits"].is_agreed
    added = agreement.added_off_limits()
    assert [(t.topic, t.added_by) for t in added] == [("My divorce", mentee)]
    assert agreement.audit_events.filter(kind=AuditEvent.Kind.OFF_LIMITS_ADDED).count() == 1
    # One email, to the mentor only, naming who but not what.
    assert [m.to for m in mail.outbox] == [[active.mentor.email]]
    assert "Milo Mentee" in mail.outbox[0].subject
    assert "divorce" not in mail.outbox[0].body

    page = client.get(url("detail", active)).content.decode()
    assert "My divorce" in page
    assert "Added by Milo Mentee" in page


def test_a_topic_already_off_limits_is_refused_and_nothing_changes(client, active, mentor):
    client_for(client, mentor)
    response = client.post(
        url("off_limits_add", active), {"topic": " salary negotiations ", "rule": "never"}
    )
    assert response.status_code == 200
    assert "already off limits" in response.content.decode()
    assert fresh(active).off_limits_topics.count() == 2


def test_removing_a_topic_goes_through_an_amendment(client, active, mentor):
    """In force, the off-limits list is not edited but proposed: removing a
    topic leaves it where it is until the other party accepts, which starts
    an amendment."""
    client_for(client, mentor)
    page = client.get(url("section_edit", active, "off_limits"))
    assert "Save Off-limits topics" not in page.text
    topics = sorted(active.off_limits_topics.values_list("topic", flat=True))
    assert topics
    fields = edit_form(page) | {"topics-0-DELETE": "on", "propose": "1"}

    response = client.post(url("section_edit", active, "off_limits"), fields)

    assert response.status_code == 302
    agreement = fresh(active)
    assert not agreement.is_amending
    assert sorted(agreement.off_limits_topics.values_list("topic", flat=True)) == topics
    assert agreement.sections_by_kind["off_limits"].proposals.get().status == "open"


def test_withdrawing_an_amendment_keeps_topics_added_since_signing(active, mentor, mentee):
    active.start_amendment(by=mentor)
    fresh(active).add_off_limits_topic(topic="Politics", rule="never", by=mentee)
    fresh(active).withdraw_amendment(by=mentor)
    agreement = fresh(active)
    assert not agreement.is_amending
    assert [t.topic for t in agreement.added_off_limits()] == ["Politics"]


def test_an_addition_during_an_amendment_voids_signatures_on_it(active, mentor, mentee):
    active.start_amendment(by=mentor)
    agreement = fresh(active)
    section = agreement.sections_by_kind[Section.Kind.TERM]

    def later_exit():
        agreement.term.exit_date += datetime.timedelta(days=30)
        agreement.term.save()

    agreement.save_section(
        Section.Kind.TERM, by=mentor, expected_revision=section.revision, save=later_exit
    )
    demo.agree_all(agreement, kinds=[Section.Kind.TERM])
    demo.sign_as(agreement, mentor)
    assert fresh(agreement).pending_version is not None

    fresh(agreement).add_off_limits_topic(topic="Religion", rule="never", by=mentee)
    agreement = fresh(agreement)
    assert agreement.working_signatures() == []
    assert agreement.voided_signatures()[0].void_reason == "Milo Mentee added an off-limits topic."


def test_topics_are_added_this_way_only_to_active_agreements(client, ready, mentor):
    client_for(client, mentor)
    assert client.get(url("off_limits_add", ready)).status_code == 404
    with assert_unchanged(ready), pytest.raises(NotActive):
        ready.add_off_limits_topic(topic="Money", rule="never", by=mentor)


# Check-ins ------------------------------------------------------------------


def test_recording_a_due_checkin_with_goal_progress(client, active, mentor, mentee):
    client_for(client, mentor)
    agreement = fresh(active)
    date = first_checkin(agreement).isoformat()
    page = client.get(url("checkins", agreement)).content.decode()
    assert "Record this check-in" in page

    response = client.post(
        url("checkin_record", agreement, date), checkin_post(agreement, status="done")
    )
    assert response.status_code == 302
    record = CheckInRecord.objects.get(agreement=agreement)
    assert record.held_on == today()
    assert record.recorded_by == mentor
    assert record.mentor_working == "yes" and record.mentee_working == ""
    assert GoalProgress.objects.filter(record=record, status="done").count() == 2

    # Done goals show as achieved on the agreement.
    page = client.get(url("detail", agreement)).content.decode()
    assert page.count("Achieved ✔") == 2

    # The mentee adds their own answer; the mentee's "needs changes" needs a note.
    client_for(client, mentee)
    answer = url("checkin_answer", agreement, date)
    response = client.post(answer, {"working": "needs_changes", "working_note": ""})
    assert response.status_code == 200
    assert "Say what needs to change." in response.content.decode()
    client.post(answer, {"working": "needs_changes", "working_note": "Meet less often"})
    record.refresh_from_db()
    assert (record.mentee_working, record.mentee_note) == ("needs_changes", "Meet less often")
    assert record.mentor_working == "yes"


def test_a_checkin_cannot_be_recorded_before_its_date_or_twice(client, active, mentor):
    agreement = fresh(active)
    later = agreement.content_in_force.checkins[1].date
    with assert_unchanged(agreement), pytest.raises(CheckInInvalid, match="on or after its date"):
        agreement.write_checkin_record(
            planned_date=later, held_on=today(), progress=[], working="yes", note="", by=mentor
        )
    client_for(client, mentor)
    response = client.get(url("checkin_record", agreement, later.isoformat()))
    assert response.status_code == 302
    assert CheckInRecord.objects.count() == 0

    record_first_checkin(agreement, mentor)
    with assert_unchanged(agreement), pytest.raises(CheckInInvalid, match="already recorded"):
        record_first_checkin(agreement, mentor)


@pytest.mark.parametrize("date", ["2027-13-01", "not-a-date", "2026-01-01"])
def test_a_date_without_a_checkin_is_404(client, active, mentor, date):
    client_for(client, mentor)
    assert client.get(url("checkin_record", active, date)).status_code == 404


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"held_on": "2099-01-01"}, "cannot be in the future"),
        ({"held_on": "31/02/2027"}, "Enter the date as day, month and year"),
        ({"working": "maybe"}, "Select a valid choice."),
        ({"working_note": "x" * 100_000}, "at most 2000 characters"),
        ({"working_note": "nul\x00byte"}, "Null characters are not allowed."),
    ],
)
def test_bad_checkin_input_gets_a_clear_message_and_saves_nothing(
    client, active, mentor, change, message
):
    client_for(client, mentor)
    agreement = fresh(active)
    data = {**checkin_post(agreement), **change}
    response = client.post(
        url("checkin_record", agreement, first_checkin(agreement).isoformat()), data
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert CheckInRecord.objects.count() == 0


def test_checkin_notes_are_escaped_and_stay_out_of_the_trail_and_the_django_admin(
    client, active, mentor, django_user_model
):
    note = f"<script>alert(1)</script>{{{{ secret }}}} {CANARY} שלום 🎉"
    client_for(client, mentor)
    agreement = fresh(active)
    client.post(
        url("checkin_record", agreement, first_checkin(agreement).isoformat()),
        checkin_post(agreement, note=note, status="at_risk", working="needs_changes"),
    )
    page = client.get(url("checkins", agreement)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ secret }}" in page
    assert "שלום 🎉" in page
    assert CANARY not in client.get(url("trail", agreement)).content.decode()

    superuser = django_user_model.objects.create_superuser(
        "root@example.com", "pw", full_name="Root"
    )
    client_for(client, superuser)
    for path in (
        "/admin/",
        "/admin/agreements/",
        "/admin/agreements/agreement/",
        f"/admin/agreements/agreement/{agreement.pk}/change/",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert CANARY not in response.content.decode(), path


def test_overdue_checkins_are_flagged_and_listed_as_todo(client, agreement, mentor):
    agreement = make_active(agreement, start=today() - datetime.timedelta(days=70))
    client_for(client, mentor)
    page = client.get(url("checkins", agreement)).content.decode()
    assert "Overdue" in page
    home = client.get(reverse("agreements:home")).content.decode()
    assert "(overdue)" in home


def test_outsiders_get_404_on_every_page_of_an_agreement_in_force(client, active, outsider):
    client_for(client, outsider)
    date = first_checkin(active).isoformat()
    for name, args in [
        ("checkins", []),
        ("checkin_record", [date]),
        ("checkin_answer", [date]),
        ("off_limits_add", []),
        ("exit", []),
        ("closing_note", []),
    ]:
        assert client.get(url(name, active, *args)).status_code == 404, name
        assert client.post(url(name, active, *args)).status_code == 404, name


# The no-fault exit and the end -------------------------------------------------


def test_no_fault_exit_shows_the_notice_then_ends_after_it(
    client, active, mentor, mentee, django_capture_on_commit_callbacks
):
    client_for(client, mentor)
    ends_on = today() + datetime.timedelta(days=14)
    page = client.get(url("exit", active)).content.decode()
    assert "14 days" in page
    assert "you don't need to give a reason" in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            url("exit", active),
            {"note-achieved": "A project delivered.", "note-stay_in_touch": "yes"},
        )
    agreement = fresh(active)
    assert agreement.status == Agreement.Status.ACTIVE
    assert agreement.is_ending
    assert (agreement.ends_on, agreement.notice_given_by) == (ends_on, mentor)
    assert agreement.end_date == ends_on
    assert [m.to for m in mail.outbox] == [[mentee.email]]
    assert "is ending your mentoring agreement" in mail.outbox[0].subject

    # No amendments under notice, and notice is given once.
    with assert_unchanged(agreement), pytest.raises(NotAmendable):
        agreement.start_amendment(by=mentee)
    assert client.get(url("exit", agreement)).status_code == 404

    assert not fresh(agreement).end_if_due(ends_on - datetime.timedelta(days=1))
    assert fresh(agreement).end_if_due(ends_on)
    ended = fresh(agreement)
    assert ended.status == Agreement.Status.ENDED
    assert ended.end_reason == Agreement.EndReason.EARLY_EXIT
    assert ended.audit_events.filter(kind=AuditEvent.Kind.ENDED).count() == 1


def test_an_agreement_ends_on_its_exit_date_on_its_own(active):
    exit_date = active.content_in_force.term.exit_date
    assert not fresh(active).end_if_due(exit_date - datetime.timedelta(days=1))
    assert fresh(active).end_if_due(exit_date)
    ended = fresh(active)
    assert (ended.status, ended.end_reason) == ("ended", "completed")
    assert not fresh(active).end_if_due(exit_date)  # once


def test_an_unsigned_amendment_is_dropped_when_the_agreement_ends(active, mentor):
    active.start_amendment(by=mentor)
    assert fresh(active).end_if_due(active.content_in_force.term.exit_date)
    ended = fresh(active)
    assert ended.amending_since is None
    assert ended.audit_events.filter(kind=AuditEvent.Kind.AMENDMENT_WITHDRAWN).exists()


def test_zero_days_notice_ends_at_once(active, mentor, mentee):
    active.start_amendment(by=mentor)
    agreement = fresh(active)
    section = agreement.sections_by_kind[Section.Kind.TERM]

    def no_notice():
        agreement.term.notice_days = 0
        agreement.term.save()

    agreement.save_section(
        Section.Kind.TERM, by=mentor, expected_revision=section.revision, save=no_notice
    )
    demo.agree_all(agreement, kinds=[Section.Kind.TERM])
    demo.sign_as(agreement, mentor)
    demo.sign_as(agreement, mentee)
    agreement = fresh(agreement)
    assert agreement.content_in_force.term.notice_days == 0

    agreement.give_notice(by=mentee)
    ended = fresh(agreement)
    assert ended.status == Agreement.Status.ENDED
    assert ended.end_reason == Agreement.EndReason.EARLY_EXIT
    assert (ended.ended_on, ended.notice_given_by) == (today(), mentee)


def test_ended_agreements_are_read_only_and_say_how_they_ended(client, active, mentor):
    fresh(active).give_notice(by=mentor)
    agreement = fresh(active)
    agreement.end_if_due(agreement.ends_on)
    client_for(client, mentor)
    page = client.get(url("detail", agreement)).content.decode()
    assert "This agreement has ended" in page
    assert "Ended early through the no-fault exit: Maria Mentor gave notice" in page
    assert "Start an amendment" not in page
    assert "End early" not in page
    date = first_checkin(agreement).isoformat()
    for name, args in [
        ("checkin_record", [date]),
        ("off_limits_add", []),
        ("exit", []),
        ("closing_note", []),
    ]:
        assert client.get(url(name, agreement, *args)).status_code == 404, name
    assert client.get(url("section_edit", agreement, "goals")).status_code == 403
    with assert_unchanged(agreement), pytest.raises(NotActive):
        fresh(agreement).write_closing_note(
            by=mentor, achieved="late", stay_in_touch="", how_to_reach=""
        )


def test_closing_notes_and_how_it_ended_are_in_the_sealed_final_pdf(
    client, active, mentor, mentee, django_capture_on_commit_callbacks
):
    fresh(active).write_closing_note(
        by=mentee, achieved="I led my first project.", stay_in_touch="maybe", how_to_reach=""
    )
    fresh(active).add_off_limits_topic(topic="Family", rule="never", by=mentee)
    record_first_checkin(active, mentor, status="done")
    with django_capture_on_commit_callbacks(execute=True):
        fresh(active).give_notice(
            by=mentor,
            closing_note={
                "achieved": "Coaching, not advising.",
                "stay_in_touch": "yes",
                "how_to_reach": "maria@home.example",
            },
        )
        agreement = fresh(active)
        agreement.end_if_due(agreement.ends_on)
    agreement = fresh(active)
    assert agreement.final_sealed_at is not None

    client_for(client, mentee)
    response = client.get(url("pdf", agreement))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert agreement.final_pdf_sha256 == __import__("hashlib").sha256(data).hexdigest()
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages)
    assert "How the agreement ended" in text
    assert "Maria Mentor gave notice" in text
    assert "Coaching, not advising." in text
    assert "I led my first project." in text
    assert "Achieved" in text
    assert "Check-ins held: 1 of the 2 agreed" in text
    assert "Family" in text and "after signing" in text
    # The ended email went to both.
    ended = [m for m in mail.outbox if "has ended" in m.subject]
    assert sorted(m.to[0] for m in ended) == sorted([mentor.email, mentee.email])

    # /verify knows the final PDF.
    page = client.get(reverse("verify"), {"sha256": agreement.final_pdf_sha256}).content.decode()
    assert "This exact file is the sealed final record" in page
    assert "this agreement has ended" in page


# Extending, the home page and time zones ---------------------------------------


def test_extend_the_term_starts_an_amendment_of_the_term(client, active, mentor):
    client_for(client, mentor)
    response = client.post(url("amend", active), {"then": "term"})
    assert response.url == url("section_edit", active, "term")
    assert fresh(active).is_amending


def test_home_shows_what_comes_next_and_what_waits(client, active, mentor):
    client_for(client, mentor)
    page = client.get(reverse("agreements:home")).content.decode()
    exit_date = active.content_in_force.term.exit_date
    assert "Next check-in" in page
    assert f"{(exit_date - today()).days} days" in page
    assert "Record the check-in of" in page


def test_home_runs_a_constant_number_of_queries(
    client, program, mentor, django_assert_max_num_queries
):
    from agreements.services import pairing_create

    def add_active(n):
        mentee = make_user(f"mentee{n}@example.com", f"Mentee {n}")
        created = pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=mentor)
        agreement = make_active(created, start=today() - datetime.timedelta(days=60))
        record_first_checkin(agreement, mentor)
        fresh(agreement).write_closing_note(
            by=mentor, achieved="x", stay_in_touch="", how_to_reach=""
        )

    client_for(client, mentor)
    add_active(1)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("agreements:home"))
    for n in range(2, 5):
        add_active(n)
    with django_assert_max_num_queries(len(one)):
        client.get(reverse("agreements:home"))


def test_a_user_sets_their_time_zone(client, mentor):
    client_for(client, mentor)
    response = client.post(reverse("agreements:account"), {"time_zone": "Asia/Kolkata"})
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert mentor.time_zone == "Asia/Kolkata"
    response = client.post(reverse("agreements:account"), {"time_zone": "Mars/Olympus"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    mentor.refresh_from_db()
    assert mentor.time_zone == "Asia/Kolkata"


def test_today_follows_the_users_time_zone(mentor, monkeypatch):
    # At noon UTC: already tomorrow at UTC+14, still today at UTC-11. (The
    # two are 25 hours apart: from 10:00 to 11:00 UTC, two dates apart.)
    noon = datetime.datetime(2026, 11, 30, 12, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: noon)
    mentor.time_zone = "Pacific/Kiritimati"  # UTC+14
    assert mentor.today() == datetime.date(2026, 12, 1)
    mentor.time_zone = "Pacific/Pago_Pago"  # UTC-11
    assert mentor.today() == datetime.date(2026, 11, 30)


def test_an_added_topic_stays_out_of_the_signed_version(active, mentee):
    signed = active.version_in_force.canonical_json
    fresh(active).add_off_limits_topic(topic="Money", rule="mentee_raises", by=mentee)
    agreement = fresh(active)
    assert agreement.version_in_force.canonical_json == signed
    live = agreement.section_data("off_limits")
    assert live[-1] == {"topic": "Money", "rule": "mentee_raises"}  # no "added" marks
    assert agreement.content_hash != agreement.version_in_force.content_hash
    assert OffLimitsTopic.objects.filter(added_by=mentee).count() == 1


def test_withdrawing_an_amendment_of_the_goals_keeps_achieved_goals(active, mentor):
    record_first_checkin(active, mentor, status="done")
    assert len(fresh(active).achieved_goal_ids()) == 2
    active.start_amendment(by=mentor)
    agreement = fresh(active)
    section = agreement.sections_by_kind[Section.Kind.GOALS]

    def reword():
        goal = agreement.goals.all()[0]
        goal.description = "Something else entirely"
        goal.save()

    agreement.save_section(
        Section.Kind.GOALS, by=mentor, expected_revision=section.revision, save=reword
    )
    fresh(agreement).withdraw_amendment(by=mentor)
    agreement = fresh(agreement)
    assert agreement.achieved_goal_ids() == {goal.pk for goal in agreement.goals.all()}


def test_notice_during_an_amendment_drops_the_amendment(active, mentor, mentee):
    active.start_amendment(by=mentee)
    fresh(active).give_notice(by=mentor)
    agreement = fresh(active)
    assert not agreement.is_amending
    assert agreement.is_ending
    withdrawn = agreement.audit_events.get(kind=AuditEvent.Kind.AMENDMENT_WITHDRAWN)
    assert withdrawn.details["reason"] == "Maria Mentor gave notice to end the agreement."


def test_an_empty_closing_note_records_nothing(client, active, mentor):
    client_for(client, mentor)
    client.post(url("exit", active), {"note-achieved": "", "note-stay_in_touch": ""})
    agreement = fresh(active)
    assert agreement.is_ending
    assert not agreement.closing_notes.exists()
    assert not agreement.audit_events.filter(kind=AuditEvent.Kind.CLOSING_NOTE).exists()


def test_no_checkin_on_the_exit_date_the_agreement_ends_that_morning(client, ready, mentor):
    client_for(client, mentor)
    exit_date = ready.term.exit_date
    response = client.post(
        url("section_edit", ready, "checkins"),
        {
            "revision": ready.sections_by_kind["checkins"].revision,
            "checkins-TOTAL_FORMS": "1",
            "checkins-INITIAL_FORMS": "0",
            "checkins-0-date": exit_date.isoformat(),
            "checkins-0-focus": "Final review",
        },
    )
    assert response.status_code == 200
    assert "to the day before the exit date" in response.content.decode()
    assert not fresh(ready).checkins.filter(date=exit_date).exists()


@pytest.mark.parametrize("page", ["detail", "checkins"])
def test_agreement_pages_run_a_constant_number_of_queries(
    client, active, mentor, mentee, page, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client_for(client, mentor)
    with CaptureQueriesContext(connection) as before:
        assert client.get(url(page, active)).status_code == 200
    record_first_checkin(active, mentor, status="done", note="n")
    fresh(active).answer_checkin(
        planned_date=first_checkin(active), working="yes", note="", by=mentee
    )
    for topic in ("One", "Two", "Three"):
        fresh(active).add_off_limits_topic(topic=topic, rule="never", by=mentee)
    for user in (mentor, mentee):
        fresh(active).write_closing_note(
            by=user, achieved="a", stay_in_touch="yes", how_to_reach=""
        )
    with django_assert_max_num_queries(len(before) + 1):  # + the goal progress, now there is some
        assert client.get(url(page, active)).status_code == 200


def test_the_agreement_page_shows_the_closing_notes_in_force_and_once_ended(
    client, active, mentor, mentee, django_capture_on_commit_callbacks
):
    client_for(client, mentor)
    assert 'id="closing"' not in client.get(url("detail", active)).content.decode()
    fresh(active).write_closing_note(
        by=mentee, achieved="I led my first project.", stay_in_touch="maybe", how_to_reach=""
    )
    page = client.get(url("detail", active)).content.decode()
    assert 'id="closing"' in page and "I led my first project." in page
    with django_capture_on_commit_callbacks(execute=True):
        fresh(active).give_notice(by=mentor)
        agreement = fresh(active)
        agreement.end_if_due(agreement.ends_on)
    assert fresh(active).is_ended
    page = client.get(url("detail", active)).content.decode()
    assert 'id="closing"' in page and "I led my first project." in page


def test_the_program_sees_that_checkins_were_held_or_are_overdue_and_nothing_else(
    client, agreement, mentor, program, program_admin
):
    agreement = make_active(agreement, start=today() - datetime.timedelta(days=130))
    agreement.write_checkin_record(
        planned_date=agreement.content_in_force.checkins[0].date,
        held_on=agreement.content_in_force.checkins[0].date,
        progress=[(goal, "at_risk", CANARY) for goal in agreement.goals_in_force()],
        working="needs_changes",
        note=CANARY,
        by=mentor,
    )
    client_for(client, program_admin)
    page = client.get(reverse("agreements:program", args=[program.uuid])).content.decode()
    assert "1 held" in page
    assert "1 overdue" in page
    assert CANARY not in page


def test_a_signature_made_under_the_old_format_is_asked_again_with_the_true_reason(
    ready, mentor, mentee
):
    import json

    from agreements.models import AgreementVersion, Signature

    demo.sign_as(ready, mentor)
    pending = fresh(ready).pending_version
    data = json.loads(pending.canonical_json)
    data["format"] = "mentorship-agreement/2"
    del data["sections"]["schedule"]["time"], data["sections"]["schedule"]["time_zone"]
    AgreementVersion.objects.filter(pk=pending.pk).update(
        canonical_json=json.dumps(data), content_hash="0" * 64
    )
    demo.sign_as(ready, mentee)
    voided = Signature.objects.get(party="mentor", voided_at__isnull=False)
    assert "record format changed" in voided.void_reason
    assert fresh(ready).status == Agreement.Status.AWAITING_SIGNATURES
