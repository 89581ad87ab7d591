"""The program review dashboard, its CSV export, one pairing's page and the
admin's actions on it."""

import csv
import datetime
import io
import threading
import time

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.urls import reverse
from django.utils import timezone

from agreements import dashboard, demo
from agreements.models import Agreement, AuditEvent, CheckInRecord, Program, Section, User
from agreements.models.overview import overview_columns
from agreements.services import pairing_create
from agreements.views import programs as programs_views
from tests.helpers import assert_unchanged, client_for, fresh, make_active, make_user


@pytest.fixture
def admin_client(client, program_admin):
    return client_for(client, program_admin)


def dashboard_url(program, **params):
    url = reverse("agreements:program", args=[program.uuid])
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return url


def pair(program, admin, index, **names):
    return pairing_create(
        program=program,
        mentor=make_user(f"mentor{index}@example.com", names.get("mentor", f"Mentor {index}")),
        mentee=make_user(f"mentee{index}@example.com", names.get("mentee", f"Mentee {index}")),
        created_by=admin,
    )


def days_ago(days):
    return timezone.localdate() - datetime.timedelta(days=days)


@pytest.fixture
def flagged(program, program_admin):
    """One pairing per flag, and one with none. The two active pairs, having
    logged no meeting, are fading as well."""
    old_draft = pair(program, program_admin, 1, mentor="Old Draft")
    Agreement.objects.filter(pk=old_draft.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=30)
    )
    fresh_draft = pair(program, program_admin, 2, mentor="Fresh Draft")
    # Check-ins at day 60 (10 days ago, unrecorded) and 120; exit in 112 days.
    overdue = make_active(pair(program, program_admin, 3, mentor="Overdue"), start=days_ago(70))
    # Exit in 12 days; its check-ins were 110 and 50 days ago.
    ending = make_active(pair(program, program_admin, 4, mentor="Ending"), start=days_ago(170))
    demo.write_checkin_records(ending, by=ending.mentor, today=timezone.localdate())
    return {"old": old_draft, "fresh": fresh_draft, "overdue": overdue, "ending": ending}


def test_flags_are_computed_from_metadata(flagged, program):
    rows = {
        a.mentor.full_name: dashboard.flags_of(a, program)
        for a in dashboard.pairings(program, today=timezone.localdate())
    }
    assert [f for f, _ in rows["Old Draft"]] == ["unsigned"]
    assert rows["Fresh Draft"] == []
    # Neither active pair logged a meeting of the fortnightly rhythm they signed.
    assert [f for f, _ in rows["Overdue"]] == ["overdue", "fading"]
    assert [f for f, _ in rows["Ending"]] == ["exit_soon", "fading"]


def test_dashboard_shows_summary_rows_and_filters_by_flag(admin_client, program, flagged):
    response = admin_client.get(dashboard_url(program))
    assert response.status_code == 200
    summary = response.context["summary"]
    assert summary["total"] == 4
    assert {s["value"]: s["count"] for s in summary["statuses"]} == {
        "draft": 2,
        "awaiting": 0,
        "active": 2,
        "ended": 0,
    }
    assert {f["value"]: f["count"] for f in summary["flags"]} == {
        "unsigned": 1,
        "overdue": 1,
        "exit_soon": 1,
        "fading": 2,
    }
    # Both active pairings were signed the day they were created.
    assert summary["median_days_to_sign"] == pytest.approx(0, abs=0.01)
    assert "median days to sign" in response.text
    assert "Unsigned 14+ days" in response.text

    response = admin_client.get(dashboard_url(program, flag="overdue"))
    names = [r["agreement"].mentor.full_name for r in response.context["rows"]]
    assert names == ["Overdue"]
    response = admin_client.get(dashboard_url(program, status="draft", sort="mentor"))
    names = [r["agreement"].mentor.full_name for r in response.context["rows"]]
    assert names == ["Fresh Draft", "Old Draft"]


def test_dashboard_shows_who_signed(admin_client, program, program_admin, ready):
    demo.sign_as(ready, ready.mentor)
    response = admin_client.get(dashboard_url(program))
    row = response.context["rows"][0]["agreement"]
    assert (row.mentor_signed, row.mentee_signed) == (True, False)
    assert '✔</span> mentor<span class="visually-hidden"> signed</span>' in response.text
    assert '–</span> mentee<span class="visually-hidden"> has not signed</span>' in response.text
    # Its last activity, just now, once: its row is its card on a phone.
    assert response.text.count("0\xa0minutes ago") == 1


def test_search_finds_names_and_emails_only(admin_client, program, program_admin):
    pair(program, program_admin, 1, mentor="Zoë Zimmer")
    pair(program, program_admin, 2, mentee="שרה כהן")
    response = admin_client.get(dashboard_url(program, q="zimmer"))
    assert [r["agreement"].mentor.full_name for r in response.context["rows"]] == ["Zoë Zimmer"]
    response = admin_client.get(dashboard_url(program, q="mentee2@"))
    assert [r["agreement"].mentee.full_name for r in response.context["rows"]] == ["שרה כהן"]
    response = admin_client.get(dashboard_url(program, q="nobody"))
    assert response.context["rows"] == []
    assert "No pairing matches." in response.text


@pytest.mark.parametrize(
    "params",
    [
        {"q": "%00<script>alert(1)</script>{{ x }}"},
        {"q": "x" * 5000},
        {"sort": "password"},
        {"status": "nonsense", "flag": "nonsense"},
        {"page": "-1"},
        {"page": "abc"},
    ],
)
def test_odd_query_strings_never_fail(admin_client, program, program_admin, params):
    pair(program, program_admin, 1)
    response = admin_client.get(dashboard_url(program, **params))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text


@pytest.mark.parametrize("sort", [key for key, _label in dashboard.COLUMNS])
def test_every_sort_order_works_both_ways(admin_client, program, flagged, sort):
    for value in (sort, f"-{sort}"):
        response = admin_client.get(dashboard_url(program, sort=value))
        assert response.status_code == 200
        assert len(response.context["rows"]) == 4


def test_sort_by_exit_date_puts_soonest_first(admin_client, program, flagged):
    response = admin_client.get(dashboard_url(program, sort="exit"))
    names = [r["agreement"].mentor.full_name for r in response.context["rows"]]
    assert names[:2] == ["Ending", "Overdue"]


def test_dashboard_paginates(admin_client, program, program_admin):
    for index in range(55):
        pair(program, program_admin, index)
    response = admin_client.get(dashboard_url(program))
    assert len(response.context["rows"]) == 50
    assert "Page 1 of 2" in response.text
    response = admin_client.get(dashboard_url(program, page=2))
    assert len(response.context["rows"]) == 5


@pytest.mark.parametrize("sort", [f"{way}{key}" for key in dashboard.SORTS for way in ("", "-")])
def test_pages_past_the_middle_show_the_rows_the_order_puts_there(
    admin_client, program, program_admin, flagged, sort, monkeypatch
):
    """Pages past the middle are read from the end (``dashboard.Pages``).
    Two rows a page, of seven: every page shows the rows the order puts
    there, empty dates and ties (the drafts) included."""
    for index in (5, 6):
        pair(program, program_admin, index)
    make_active(pair(program, program_admin, 7), start=days_ago(20))
    monkeypatch.setattr(programs_views, "PAIRINGS_PER_PAGE", 2)
    filters = dashboard.Filters({"sort": sort})
    in_order = list(
        dashboard.filtered(program, filters, today=timezone.localdate()).values_list(
            "pk", flat=True
        )
    )
    shown = []
    for number in range(1, 5):
        response = admin_client.get(dashboard_url(program, sort=sort, page=number))
        shown += [row["agreement"].pk for row in response.context["rows"]]
    assert shown == in_order
    assert len(set(shown)) == 7


@pytest.mark.parametrize("pairings", [10, 200])
def test_dashboard_queries_do_not_grow(
    admin_client, program, program_admin, pairings, django_assert_num_queries
):
    users = User.objects.bulk_create(
        User(email=f"u{i}@example.com", full_name=f"User {i}") for i in range(pairings * 2)
    )
    for index in range(pairings):
        pairing_create(
            program=program,
            mentor=users[2 * index],
            mentee=users[2 * index + 1],
            created_by=program_admin,
        )
    # Half of them signed, so the median days to sign is read too.
    signed = Agreement.objects.values_list("pk", flat=True)[::2]
    Agreement.objects.filter(pk__in=list(signed)).update(activated_at=timezone.now())
    call_command("end_agreements", verbosity=0)  # the daily cron: every row as of today
    # Session, user, program, summary counts, median days to sign, page rows,
    # their parties, and the menu's count of what waits for them. The pages
    # are counted from the summary's counts.
    with django_assert_num_queries(8):
        response = admin_client.get(dashboard_url(program, sort="checkin"))
    assert response.context["summary"]["total"] == pairings
    assert response.context["summary"]["signed_count"] == pairings // 2
    # A search finds the people first (one more query) and counts its pages.
    with django_assert_num_queries(10):
        response = admin_client.get(dashboard_url(program, q="User%201"))
    found = [i for i in range(pairings) if any("User 1" in f"User {2 * i + n}" for n in (0, 1))]
    assert response.context["page"].paginator.count == len(found)


@pytest.mark.parametrize(
    "params",
    [{}, {"status": "draft"}, {"flag": "unsigned"}, {"flag": "overdue"}, {"flag": "exit_soon"}],
)
def test_pages_are_counted_from_the_summary(admin_client, program, flagged, params):
    response = admin_client.get(dashboard_url(program, **params))
    shown = len(response.context["rows"])
    assert response.context["page"].paginator.count == shown
    filters = dashboard.Filters(params)
    assert shown == dashboard.filtered(program, filters, today=timezone.localdate()).count()


def test_a_search_too_broad_to_look_up_by_id_finds_the_same(
    admin_client, program, program_admin, monkeypatch
):
    for index in range(4):
        pair(program, program_admin, index)
    narrow = admin_client.get(dashboard_url(program, q="mentee", sort="mentor"))
    monkeypatch.setattr(dashboard, "SEARCH_PEOPLE", 1)
    broad = admin_client.get(dashboard_url(program, q="mentee", sort="mentor"))

    def shown(response):
        return [row["agreement"].pk for row in response.context["rows"]]

    assert len(shown(narrow)) == 4
    assert shown(broad) == shown(narrow)
    assert broad.context["page"].paginator.count == 4


def export(client, program, **params):
    url = reverse("agreements:program_export", args=[program.uuid])
    response = client.get(url, params)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_holds_metadata_and_neutralises_formulas(admin_client, program, program_admin):
    pair(program, program_admin, 1, mentor='=HYPERLINK("http://evil")', mentee="+1 Mentee")
    pair(program, program_admin, 2, mentor="-2 Mentor", mentee="@SUM(A1)")
    rows = export(admin_client, program, sort="mentor")
    assert rows[0] == dashboard.EXPORT_HEADER
    cells = [cell for row in rows[1:] for cell in row]
    assert '\'=HYPERLINK("http://evil")' in cells
    assert "'+1 Mentee" in cells
    assert "'-2 Mentor" in cells
    assert "'@SUM(A1)" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert rows[1][4] == "Draft"


def test_export_streams_every_row_once_a_chunk_at_a_time(
    admin_client, program, program_admin, monkeypatch
):
    monkeypatch.setattr(dashboard, "EXPORT_CHUNK", 2)
    for index in range(5):
        pair(program, program_admin, index)
    url = reverse("agreements:program_export", args=[program.uuid])
    chunks = list(admin_client.get(url, {"sort": "mentor"}).streaming_content)
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode())))
    assert len(chunks) == 3
    assert rows[0] == dashboard.EXPORT_HEADER
    assert [row[0] for row in rows[1:]] == [f"Mentor {index}" for index in range(5)]


def test_export_follows_the_filters(admin_client, program, flagged):
    rows = export(admin_client, program, flag="exit_soon")
    assert [row[0] for row in rows[1:]] == ["Ending"]
    assert rows[1][14] == (
        "Exit within 30 days; Fading: fewer than half the agreed meetings in 60 days"
    )


@pytest.mark.parametrize("who", ["mentor", "mentee", "outsider", "other_admin"])
def test_dashboard_pages_are_404_for_everyone_but_its_admins(
    client, request, program, agreement, who
):
    client_for(client, request.getfixturevalue(who))
    for url in (
        dashboard_url(program),
        reverse("agreements:program_export", args=[program.uuid]),
        reverse("agreements:pairing", args=[program.uuid, agreement.uuid]),
        reverse("agreements:pairing_end", args=[program.uuid, agreement.uuid]),
        reverse("agreements:pairing_repair", args=[program.uuid, agreement.uuid]),
    ):
        assert client.get(url).status_code == 404
    remind = reverse("agreements:pairing_remind", args=[program.uuid, agreement.uuid])
    assert client.post(remind).status_code == 404


def test_a_pairing_of_another_program_is_404(admin_client, program, other_program, other_admin):
    elsewhere = pair(other_program, other_admin, 9)
    url = reverse("agreements:pairing", args=[program.uuid, elsewhere.uuid])
    assert admin_client.get(url).status_code == 404


def test_program_list_shows_only_the_users_programs(client, program, other_program, outsider):
    admin = program.admins.get()
    other_program.admins.add(admin)
    client_for(client, admin)
    response = client.get(reverse("agreements:program_list"))
    assert "Test Programme" in response.text and "Other Programme" in response.text
    client_for(client, outsider)
    response = client.get(reverse("agreements:program_list"))
    assert "You do not run any program." in response.text
    Program.objects.create(name="Hidden")
    assert "Hidden" not in client.get(reverse("agreements:program_list")).text


# The pairing page and its actions -------------------------------------


def pairing_url(agreement, name="pairing"):
    return reverse(f"agreements:{name}", args=[agreement.program.uuid, agreement.uuid])


def test_pairing_page_shows_metadata_and_no_content(admin_client, active):
    response = admin_client.get(pairing_url(active))
    assert response.status_code == 200
    assert "Nothing is shared." in response.text
    assert "Lead a project" not in response.text  # a goal
    assert "Performance feedback" not in response.text  # confidentiality
    # Nothing shared, nothing to record.
    assert not active.audit_events.filter(kind=AuditEvent.Kind.VIEWED).exists()


def test_remind_emails_both_with_what_waits_and_no_content(
    admin_client, ready, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(pairing_url(ready, "pairing_remind"))
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == [ready.mentee.email, ready.mentor.email]
    body = mailoutbox[0].body
    assert "Sign the agreement" in body
    assert "Lead a project" not in body and "Performance feedback" not in body
    assert ready.audit_events.filter(kind=AuditEvent.Kind.PROGRAM_REMINDER).count() == 1
    # A second reminder within a day is refused, and nothing is sent.
    with assert_unchanged(ready):
        response = admin_client.post(pairing_url(ready, "pairing_remind"), follow=True)
    assert "A reminder already went to this pair in the last 24 hours." in response.text
    assert len(mailoutbox) == 2


def test_remind_is_post_only(admin_client, agreement):
    assert admin_client.get(pairing_url(agreement, "pairing_remind")).status_code == 405


def test_remind_sends_a_fresh_invitation_to_who_has_not_accepted(
    admin_client, program, program_admin, mailoutbox, django_capture_on_commit_callbacks
):
    from agreements.services import pairing_invite

    agreement = pairing_invite(
        program=program,
        mentor=("Nia New", "nia@example.com"),
        mentee=("Ola Old", "ola@example.com"),
        created_by=program_admin,
    )
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(pairing_url(agreement, "pairing_remind"))
    to_nia = next(m for m in mailoutbox if m.to == ["nia@example.com"])
    assert "/accounts/invitation/" in to_nia.body


def test_end_a_pairing_with_a_reason(
    admin_client, active, mailoutbox, django_capture_on_commit_callbacks
):
    url = pairing_url(active, "pairing_end")
    response = admin_client.get(url)
    assert "End the pairing of" in response.text
    response = admin_client.post(url, {"reason": "   "})
    assert "This field is required." in response.text
    active.refresh_from_db()
    assert active.status == Agreement.Status.ACTIVE
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, {"reason": "The mentor left the company."})
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == Agreement.Status.ENDED
    assert active.end_reason == Agreement.EndReason.BY_PROGRAM
    assert active.end_note == "The mentor left the company."
    assert active.final_sealed_at is not None
    assert all("The mentor left the company." in m.body for m in mailoutbox)
    assert len(mailoutbox) == 2
    event = active.audit_events.get(kind=AuditEvent.Kind.ENDED)
    assert event.actor == active.program.admins.get()
    # The pair sees how it ended.
    client = client_for(admin_client, active.mentee)
    page = client.get(reverse("agreements:detail", args=[active.uuid])).text
    assert "The mentor left the company." in page


def test_end_a_draft_pairing(admin_client, agreement, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(pairing_url(agreement, "pairing_end"), {"reason": "Never started."})
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.ENDED
    assert not agreement.final_pdf


def test_repair_pairs_the_mentee_with_another_mentor(
    admin_client, active, mailoutbox, django_capture_on_commit_callbacks
):
    url = pairing_url(active, "pairing_repair")
    data = {"mentor_name": "Nina New", "mentor_email": "nina@example.com", "reason": "Moved."}
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.status == Agreement.Status.ENDED
    assert "Moved." in active.end_note
    new = Agreement.objects.exclude(pk=active.pk).get()
    assert (new.mentor.email, new.mentee) == ("nina@example.com", active.mentee)
    assert new.status == Agreement.Status.DRAFT
    # Nothing of the old agreement carries over.
    assert not new.goals.exists()
    assert any(
        m.to == ["nina@example.com"] and "/accounts/invitation/" in m.body for m in mailoutbox
    )


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("mentee@example.com", "A person cannot mentor themselves"),
        ("MENTOR@example.com", "This is the current mentor"),
        ("not-an-email", "Enter a valid email address."),
    ],
)
def test_repair_refuses_bad_mentors(admin_client, agreement, email, message):
    url = pairing_url(agreement, "pairing_repair")
    response = admin_client.post(
        url, {"mentor_name": "X", "mentor_email": email, "reason": "Because."}
    )
    assert message in response.text
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.DRAFT
    assert Agreement.objects.count() == 1


def test_actions_on_an_ended_pairing_change_nothing(admin_client, agreement):
    agreement.end_by_program(by=agreement.program.admins.get(), note="Done.")
    with assert_unchanged(agreement):
        response = admin_client.post(pairing_url(agreement, "pairing_end"), {"reason": "Again."})
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.end_note == "Done."
    with assert_unchanged(agreement):
        response = admin_client.post(pairing_url(agreement, "pairing_remind"), follow=True)
    assert "This pairing has ended" in response.text


@pytest.mark.parametrize(("days", "median"), [([1, 2, 10], 2), ([1, 2, 4, 10], 3), ([], None)])
def test_median_days_to_sign(program, program_admin, days, median):
    now = timezone.now()
    for index, day in enumerate(days):
        agreement = pair(program, program_admin, index)
        Agreement.objects.filter(pk=agreement.pk).update(
            created_at=now - datetime.timedelta(days=day), activated_at=now
        )
    pair(program, program_admin, 99)  # never signed: not counted
    summary = dashboard.summary(program, today=timezone.localdate())
    assert summary["median_days_to_sign"] == (pytest.approx(median) if median else None)
    assert summary["signed_count"] == len(days)


def test_a_shared_draft_section_shows_only_what_both_agreed(admin_client, ready):
    for party in (ready.mentor, ready.mentee):
        ready.consent_to_share(Section.Kind.GOALS, by=party)
    assert "Lead a project" in admin_client.get(pairing_url(ready)).text
    current = fresh(ready)
    current.save_section(
        Section.Kind.GOALS,
        by=ready.mentor,
        expected_revision=current.sections_by_kind[Section.Kind.GOALS].revision,
        save=lambda: current.goals.update(description="Changed by one of them"),
    )
    page = admin_client.get(pairing_url(ready)).text
    assert "Changed by one of them" not in page and "Lead a project" not in page
    assert "its current text is not agreed by both of them" in page


def test_ending_a_half_signed_pairing_voids_the_signature(admin_client, ready, program):
    demo.sign_as(ready, ready.mentor)
    admin_client.post(pairing_url(ready, "pairing_end"), {"reason": "Moved away."})
    row = dashboard.pairings(program, today=timezone.localdate()).get(pk=ready.pk)
    assert (row.status, row.mentor_signed) == ("ended", False)


def test_dashboard_dates_are_those_in_force_during_an_amendment(admin_client, program, flagged):
    overdue = flagged["overdue"]
    before = dashboard.pairings(program, today=timezone.localdate()).get(pk=overdue.pk)
    overdue.start_amendment(by=overdue.mentor)
    current = fresh(overdue)
    current.save_section(
        Section.Kind.CHECKINS,
        by=overdue.mentor,
        expected_revision=current.sections_by_kind[Section.Kind.CHECKINS].revision,
        save=lambda: current.checkins.filter(date__lt=timezone.localdate()).delete(),
    )
    after = dashboard.pairings(program, today=timezone.localdate()).get(pk=overdue.pk)
    # The unsigned amendment changes nothing the program sees.
    assert (after.checkins_overdue, after.exit_on, after.next_checkin) == (
        before.checkins_overdue,
        before.exit_on,
        before.next_checkin,
    )
    assert dashboard.flags_of(after, program) == dashboard.flags_of(before, program)


# The columns kept on the row -------------------------------------------------------


def stored_and_expected(agreement):
    """The dashboard columns the row holds, and what they would be if worked
    out from the check-ins and signatures right now."""
    columns = overview_columns(Agreement, timezone.localdate())
    row = Agreement.objects.annotate(
        **{f"expected_{name}": expression for name, expression in columns.items()}
    ).get(pk=agreement.pk)
    return (
        {name: getattr(row, name) for name in columns},
        {name: getattr(row, f"expected_{name}") for name in columns},
    )


def test_every_move_keeps_the_dashboard_columns_true(program, program_admin, admin_client):
    """Each move refreshes its row in its own transaction: no dashboard view
    or cron run in between (the program counts as brought up to date)."""
    Program.objects.filter(pk=program.pk).update(overview_as_of=timezone.localdate())
    agreement = pair(program, program_admin, 1)
    seen = [stored_and_expected(agreement)]
    demo.write_all(agreement, by=agreement.mentor, start=days_ago(70))
    seen.append(stored_and_expected(agreement))
    demo.agree_all(agreement)
    demo.sign_as(agreement, agreement.mentor)
    seen.append(stored_and_expected(agreement))
    demo.sign_as(agreement, agreement.mentee)
    seen.append(stored_and_expected(agreement))
    demo.write_checkin_records(fresh(agreement), by=agreement.mentor, today=days_ago(0))
    seen.append(stored_and_expected(agreement))
    ends_on = fresh(agreement).give_notice(by=agreement.mentee)
    seen.append(stored_and_expected(agreement))
    fresh(agreement).end_by_program(by=program_admin, note="Moved away.")
    seen.append(stored_and_expected(agreement))

    for stored, expected in seen:
        assert stored == expected
    # The columns did move: signatures, check-ins held and overdue, the end.
    assert [s["mentor_signed"] for s, _ in seen[1:4]] == [False, True, True]
    assert seen[3][0]["checkins_overdue"] == 1
    assert (seen[4][0]["checkins_held"], seen[4][0]["checkins_overdue"]) == (1, 0)
    assert seen[5][0]["exit_on"] == ends_on < seen[4][0]["exit_on"]
    assert seen[6][0]["exit_on"] == timezone.localdate()
    assert seen[6][0]["next_checkin"] is None


def test_a_new_day_moves_the_next_check_in_and_makes_check_ins_overdue(
    program, program_admin, admin_client
):
    # Check-ins at day 60 and 120 of the term: day 60 is 4 days ahead.
    active = make_active(pair(program, program_admin, 1), start=days_ago(56))
    first = fresh(active).content_in_force.checkins[0].date
    assert first == timezone.localdate() + datetime.timedelta(days=4)
    call_command("end_agreements", verbosity=0)
    assert fresh(active).next_checkin == first

    # The day after the first check-in, and then past the overdue delay.
    later = first + datetime.timedelta(days=1)
    call_command("end_agreements", date=later, verbosity=0)
    row = fresh(active)
    assert (row.next_checkin, row.checkins_overdue, row.overview_as_of) == (
        fresh(active).content_in_force.checkins[1].date,
        0,
        later,
    )
    overdue = first + datetime.timedelta(days=settings.CHECKIN_OVERDUE_AFTER_DAYS + 1)
    call_command("end_agreements", date=overdue, verbosity=0)
    assert fresh(active).checkins_overdue == 1


def test_a_dashboard_shown_before_the_daily_run_brings_its_program_to_the_day(
    admin_client, program, program_admin, other_program
):
    active = make_active(pair(program, program_admin, 1), start=days_ago(70))
    elsewhere = make_active(pair(other_program, program_admin, 2), start=days_ago(70))
    yesterday = days_ago(1)
    Agreement.objects.update(overview_as_of=yesterday, checkins_overdue=0, next_checkin=None)
    Program.objects.update(overview_as_of=yesterday)

    response = admin_client.get(dashboard_url(program, flag="overdue"))

    assert [row["agreement"].pk for row in response.context["rows"]] == [active.pk]
    assert Program.objects.get(pk=program.pk).overview_as_of == timezone.localdate()
    # Another program waits for its own dashboard or the daily run.
    assert fresh(elsewhere).checkins_overdue == 0


@pytest.mark.parametrize(
    "params",
    [{}, {"sort": "checkin"}, {"sort": "-exit"}, {"flag": "overdue"}, {"status": "active"}],
)
def test_the_page_query_reads_columns_not_a_subquery_per_row(
    admin_client, program, flagged, params
):
    """The plan of the rows' query: no correlated subquery, which would run
    once per pairing the database sorts, filters or skips."""
    filters = dashboard.Filters(params)
    queryset = dashboard.filtered(program, filters, today=timezone.localdate())
    plan = queryset[:50].explain()
    if connection.vendor == "postgresql":
        assert "SubPlan" not in plan, plan
    else:
        assert "CORRELATED" not in plan, plan
    assert "agreements_checkin" not in str(queryset.query)
    assert "agreements_signature" not in str(queryset.query)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's planner, which production runs on"
)
@pytest.mark.parametrize(
    "params",
    [
        *({"sort": f"{way}{key}"} for key in dashboard.SORTS for way in ("", "-")),
        {"status": "active"},
        {"flag": "overdue"},
        {"flag": "unsigned"},
    ],
)
def test_the_page_is_read_off_an_index_in_order(admin_client, program, flagged, params):
    """Every sort both ways reads the page off an index in order, so that a
    page costs its 50 rows, not a sort of the program's pairings. A few rows
    would be sorted in memory, so sorting is priced out of the planner's
    choice: a Sort node left in the plan means no index gives that order.
    The reverse order too: pages past the middle are read in it."""
    filters = dashboard.Filters(params)
    queryset = dashboard.filtered(program, filters, today=timezone.localdate())
    for rows in (queryset[:50], queryset.reverse()[:50]):
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_sort = off")
                cursor.execute("SET LOCAL enable_seqscan = off")
            plan = rows.explain()
        assert "Index Scan" in plan, plan
        assert "Sort" not in plan, plan


@pytest.mark.django_db(transaction=True)
def test_a_refresh_that_waited_for_a_move_reads_what_the_move_committed(program, program_admin):
    """The daily refresh meets a row a move holds: once the move commits, the
    refresh reads the check-in the move recorded, not the data from before."""
    active = make_active(pair(program, program_admin, 1), start=days_ago(70))
    planned = fresh(active).content_in_force.checkins[0].date
    assert fresh(active).checkins_overdue == 1
    locked = threading.Event()

    def move():
        try:
            with transaction.atomic():
                Agreement.objects.select_for_update().get(pk=active.pk)
                CheckInRecord.objects.create(
                    agreement=active,
                    planned_date=planned,
                    held_on=planned,
                    recorded_by=active.mentor,
                )
                locked.set()
                time.sleep(1)  # the refresh below waits for this commit
        finally:
            connections.close_all()

    thread = threading.Thread(target=move)
    thread.start()
    assert locked.wait(timeout=30)
    Agreement.objects.filter(pk=active.pk).refresh_overview()
    thread.join(timeout=30)

    stored, expected = stored_and_expected(active)
    assert stored == expected
    assert (stored["checkins_held"], stored["checkins_overdue"]) == (1, 0)


def test_a_renamed_person_sorts_under_their_new_name(admin_client, program, program_admin):
    first = pair(program, program_admin, 1, mentor="Zoe Zander")
    pair(program, program_admin, 2, mentor="Mia Mahler")
    first.mentor.full_name = "Abe Adler"
    first.mentor.save()

    response = admin_client.get(dashboard_url(program, sort="mentor"))

    names = [row["agreement"].mentor.full_name for row in response.context["rows"]]
    assert names == ["Abe Adler", "Mia Mahler"]
    assert stored_and_expected(first)[0]["mentor_name"] == "Abe Adler"
