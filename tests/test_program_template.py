"""The program's agreement template, and the clauses it locks as program policy."""

import datetime
import io
import re

import pytest
from django.urls import reverse
from pypdf import PdfReader

from agreements import demo
from agreements.exceptions import NotReadyToSign
from agreements.models import Agreement, AuditEvent
from agreements.pdf import draft_html, draft_pdf
from agreements.services import pairing_create
from tests.helpers import client_for, fresh, make_active

START = datetime.date(2027, 1, 4)
POLICY_TEXT = "The mentor tells the mentee first, then the wellbeing lead."
LOCKED = {
    "exceptions_notes": POLICY_TEXT,
    "checkin_every_weeks": 4,
    "term_months": 6,
    "notice_days": 30,
}


def settings_url(program):
    return reverse("agreements:program_settings", args=[program.uuid])


def edit_url(agreement, kind):
    return reverse("agreements:section_edit", args=[agreement.uuid, kind])


def detail_url(agreement):
    return reverse("agreements:detail", args=[agreement.uuid])


def template_data(**changes):
    data = {
        "exceptions_notes": POLICY_TEXT,
        "exceptions_notes_locked": "on",
        "checkin_every_weeks": "4",
        "checkin_every_weeks_locked": "on",
        "term_months": "6",
        "term_months_locked": "on",
        "notice_days": "30",
        "notice_days_locked": "on",
        "unsigned_flag_days": "10",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def set_template(program, locked=(), **values):
    for name, value in {**LOCKED, **values}.items():
        setattr(program, name, value)
    for clause in program.TEMPLATE_CLAUSES:
        setattr(program, f"{clause}_locked", clause in locked)
    program.save()
    return program


def pair(program, mentor, mentee, program_admin, start=None):
    created = pairing_create(
        program=program, mentor=mentor, mentee=mentee, created_by=program_admin, start_date=start
    )
    return Agreement.objects.get(pk=created.pk)


def term_data(start, exit_="", notice="14", revision=0):
    return {
        "revision": revision,
        "start_date": start,
        "exit_date": exit_,
        "notice_days": notice,
        "closing_conversation": "on",
    }


def confidentiality_data(agreement, exceptions_notes, revision=0):
    return {
        "revision": revision,
        "work_matters": "Career plans.",
        "yields_to_risk_of_harm": "on",
        "exceptions_notes": exceptions_notes,
        "line_manager_by_mentor": "Only that we meet.",
    }


def checkin_data(dates, revision):
    data = {
        "revision": revision,
        "checkins-TOTAL_FORMS": len(dates),
        "checkins-INITIAL_FORMS": 0,
        "checkins-MIN_NUM_FORMS": 0,
        "checkins-MAX_NUM_FORMS": 1000,
    }
    for index, day in enumerate(dates):
        data[f"checkins-{index}-date"] = day
        data[f"checkins-{index}-focus"] = ""
    return data


def section_html(page, kind):
    """The card of one section on the agreement page."""
    match = re.search(rf'<section[^>]*id="section-{kind}".*?</section>', page, re.S)
    assert match, kind
    return match.group(0)


def pdf_text(pdf):
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


# The settings page ------------------------------------------------------------


@pytest.mark.parametrize("persona", ["mentor", "outsider", "other_admin"])
def test_only_the_programs_admins_reach_its_template(client, program, persona, request):
    client_for(client, request.getfixturevalue(persona))
    assert client.get(settings_url(program)).status_code == 404
    assert client.post(settings_url(program), template_data()).status_code == 404
    program.refresh_from_db()
    assert program.policy() == {}
    assert program.exceptions_notes == ""


def test_admin_saves_the_template(client, program, program_admin, django_assert_max_num_queries):
    client_for(client, program_admin)
    with django_assert_max_num_queries(6):
        page = client.get(settings_url(program))
    assert page.status_code == 200
    assert "Changes apply to pairings created from now on" in page.text
    assert "Program policy — the pair cannot change it" in page.text
    response = client.post(settings_url(program), template_data(), follow=True)
    assert response.redirect_chain == [(settings_url(program), 302)]
    assert "existing agreements keep what they started with" in response.text
    program.refresh_from_db()
    assert program.policy() == LOCKED
    assert program.unsigned_flag_days == 10


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"exceptions_notes": "  "}, "exceptions_notes", "Write how an exception is handled"),
        ({"checkin_every_weeks": ""}, "checkin_every_weeks", "Give the number of weeks"),
        ({"term_months": ""}, "term_months", "Give the term length in months"),
        ({"notice_days": ""}, "notice_days", "This field is required."),
        ({"checkin_every_weeks": "53"}, "checkin_every_weeks", "less than or equal to 52"),
        ({"term_months": "0"}, "term_months", "greater than or equal to 1"),
        ({"notice_days": "400"}, "notice_days", "less than or equal to 365"),
        ({"unsigned_flag_days": "0"}, "unsigned_flag_days", "greater than or equal to 1"),
        (
            {"checkin_every_weeks": "9", "term_months": "2"},
            "checkin_every_weeks",
            "A check-in every 9 weeks does not fit in a term of 2 months",
        ),
        (
            {"checkin_every_weeks": "1", "term_months": "24"},
            "checkin_every_weeks",
            "more than 60 check-ins",
        ),
    ],
)
def test_invalid_template_is_refused_with_a_message(
    client, program, program_admin, changes, field, message
):
    client_for(client, program_admin)
    response = client.post(settings_url(program), template_data(**changes))
    assert response.status_code == 200
    assert message in response.context["form"].errors[field][0]
    program.refresh_from_db()
    assert program.policy() == {}


def test_a_negotiable_clause_may_be_left_empty(client, program, program_admin):
    client_for(client, program_admin)
    data = template_data(
        exceptions_notes="",
        exceptions_notes_locked=None,
        checkin_every_weeks="",
        checkin_every_weeks_locked=None,
        term_months="",
        term_months_locked=None,
    )
    assert client.post(settings_url(program), data).status_code == 302
    program.refresh_from_db()
    assert program.policy() == {"notice_days": 30}
    assert program.term_months is None


# New pairings and the policy snapshot -----------------------------------------


def test_a_new_pairing_starts_from_the_template(program, mentor, mentee, program_admin):
    set_template(program, locked={"exceptions_notes", "checkin_every_weeks"})
    start = datetime.date(2027, 1, 4)
    agreement = fresh(pair(program, mentor, mentee, program_admin, start=start))
    assert agreement.confidentiality.exceptions_notes == POLICY_TEXT
    assert agreement.term.notice_days == 30
    assert (agreement.term.start_date, agreement.term.exit_date) == (
        start,
        datetime.date(2027, 7, 4),
    )
    assert [c.date for c in agreement.checkins.all()] == [
        start + datetime.timedelta(weeks=4 * n) for n in range(1, 7)
    ]
    assert agreement.policy == {"exceptions_notes": POLICY_TEXT, "checkin_every_weeks": 4}
    assert agreement.date_problems() == []


def test_template_edits_leave_existing_agreements_alone(
    client, program, mentor, mentee, outsider, program_admin
):
    set_template(program, locked={"exceptions_notes", "notice_days"})
    before = pair(program, mentor, mentee, program_admin)
    client_for(client, program_admin)
    data = template_data(exceptions_notes="New text.", notice_days="7", notice_days_locked=None)
    assert client.post(settings_url(program), data).status_code == 302
    before = fresh(before)
    program.refresh_from_db()
    assert before.policy == {"exceptions_notes": POLICY_TEXT, "notice_days": 30}
    assert before.confidentiality.exceptions_notes == POLICY_TEXT
    assert before.term.notice_days == 30
    after = pair(program, mentor, outsider, program_admin)
    assert after.policy["exceptions_notes"] == "New text."
    assert "notice_days" not in after.policy


# What the pair can and cannot change --------------------------------------------


def test_locked_exceptions_text_cannot_be_changed_by_a_post(
    client, program, mentor, mentee, program_admin
):
    set_template(program, locked={"exceptions_notes"})
    agreement = pair(program, mentor, mentee, program_admin)
    client_for(client, mentor)
    form = client.get(edit_url(agreement, "confidentiality")).text
    assert re.search(r'<textarea[^>]*name="exceptions_notes"[^>]*disabled', form)
    assert POLICY_TEXT in form
    response = client.post(
        edit_url(agreement, "confidentiality"),
        confidentiality_data(agreement, "Whatever we like."),
    )
    assert response.status_code == 302
    confidentiality = fresh(agreement).confidentiality
    assert confidentiality.work_matters == "Career plans."
    assert confidentiality.exceptions_notes == POLICY_TEXT


def test_locked_notice_cannot_be_changed(client, program, mentor, mentee, program_admin):
    set_template(program, locked={"notice_days"})
    agreement = pair(program, mentor, mentee, program_admin)
    client_for(client, mentor)
    data = term_data("2027-01-04", "2027-07-01", notice="1")
    assert client.post(edit_url(agreement, "term"), data).status_code == 302
    term = fresh(agreement).term
    assert term.exit_date == datetime.date(2027, 7, 1)
    assert term.notice_days == 30


def test_locked_term_sets_the_exit_date_from_the_start(
    client, program, mentor, mentee, program_admin
):
    set_template(program, locked={"term_months"})
    agreement = pair(program, mentor, mentee, program_admin)
    client_for(client, mentor)
    form = client.get(edit_url(agreement, "term")).text
    assert re.search(r'<input[^>]*name="exit_date"[^>]*disabled', form)
    assert "the exit date is the start date plus 6 months" in form
    data = term_data("2026-08-31", "2030-01-01")
    assert client.post(edit_url(agreement, "term"), data).status_code == 302
    term = fresh(agreement).term
    assert (term.start_date, term.exit_date) == (
        datetime.date(2026, 8, 31),
        datetime.date(2027, 2, 28),
    )


def test_negotiable_clauses_are_only_starting_values(
    client, program, mentor, mentee, program_admin
):
    set_template(program)
    agreement = pair(program, mentor, mentee, program_admin)
    client_for(client, mentor)
    response = client.post(
        edit_url(agreement, "confidentiality"), confidentiality_data(agreement, "Our own way.")
    )
    assert response.status_code == 302
    data = term_data("2027-01-04", "2027-03-01", notice="3")
    assert client.post(edit_url(agreement, "term"), data).status_code == 302
    agreement = fresh(agreement)
    assert agreement.confidentiality.exceptions_notes == "Our own way."
    assert (agreement.term.exit_date, agreement.term.notice_days) == (
        datetime.date(2027, 3, 1),
        3,
    )
    # No cadence lock: one check-in in two months is fine.
    data = checkin_data(["2027-02-15"], revision=0)
    assert client.post(edit_url(agreement, "checkins"), data).status_code == 302


def test_term_editor_mentions_the_suggested_term(client, program, mentor, mentee, program_admin):
    set_template(program)
    agreement = pair(program, mentor, mentee, program_admin, start=datetime.date(2027, 1, 4))
    client_for(client, mentor)
    form = client.get(edit_url(agreement, "term")).text
    assert "The program suggests a term of 6 months: from this start date, 4 Jul 2027." in form
    assert not re.search(r'<input[^>]*name="exit_date"[^>]*disabled', form)


def test_checkins_editor_suggests_the_template_dates(
    client, program, mentor, mentee, program_admin
):
    set_template(program)
    agreement = pair(program, mentor, mentee, program_admin)
    client_for(client, mentor)
    client.post(edit_url(agreement, "term"), term_data("2027-01-04", "2027-04-01"))
    form = client.get(edit_url(agreement, "checkins")).text
    assert "suggested by the program's template" in form
    suggested = re.findall(r'name="checkins-\d+-date" value="([^"]+)"', form)
    assert suggested == ["1 Feb 2027", "1 Mar 2027", "29 Mar 2027"]
    # Saved as suggested, they are saved: posted rows carry no initial values.
    response = client.post(edit_url(agreement, "checkins"), checkin_data(suggested, revision=0))
    assert response.status_code == 302
    assert len(fresh(agreement).checkins.all()) == 3
    form = client.get(edit_url(agreement, "checkins")).text
    assert "suggested by the program's template" not in form


def test_cadence_lock_refuses_a_gap(client, program, mentor, mentee, program_admin):
    set_template(program, locked={"checkin_every_weeks"})
    agreement = pair(program, mentor, mentee, program_admin)
    client_for(client, mentor)
    client.post(edit_url(agreement, "term"), term_data("2027-01-04", "2027-04-01"))
    response = client.post(
        edit_url(agreement, "checkins"), checkin_data(["2027-02-01", "2027-03-29"], revision=0)
    )
    assert response.status_code == 200
    assert (
        "there are 56 days from the check-in on 1 Feb 2027 to the check-in on 29 Mar 2027 "
        "without one"
    ) in response.text
    assert not agreement.checkins.exists()
    events = AuditEvent.objects.filter(agreement=agreement, details__section="checkins")
    assert not events.exists()
    # Nothing at all is a gap too: from the start to the exit.
    response = client.post(edit_url(agreement, "checkins"), checkin_data([], revision=0))
    assert "there are 87 days from the start date, 4 Jan 2027, to the exit date" in response.text
    data = checkin_data(["2027-02-01", "2027-03-01", "2027-03-29"], revision=0)
    assert client.post(edit_url(agreement, "checkins"), data).status_code == 302


def test_a_gap_left_by_moved_check_ins_makes_the_section_unfinished(
    client, program, mentor, mentee, program_admin
):
    set_template(program, locked={"checkin_every_weeks"})
    agreement = pair(program, mentor, mentee, program_admin, start=datetime.date(2027, 1, 4))
    agreement = fresh(agreement)
    assert agreement.checkin_gaps() == []
    assert agreement.section_is_complete("checkins")
    # As if the check-ins had been saved before the other party moved the term.
    agreement.checkins.order_by("date").first().delete()
    agreement = fresh(agreement)
    assert agreement.checkin_gaps() == [
        "56 days from the start date, 4 Jan 2027, to the check-in on 1 Mar 2027"
    ]
    assert not agreement.section_is_complete("checkins")
    # Without the lock the same dates are fine.
    Agreement.objects.filter(pk=agreement.pk).update(policy={})
    assert fresh(agreement).checkin_gaps() == []


def test_a_longer_term_goes_through_and_signing_waits_for_check_ins(
    client, program, mentor, mentee, program_admin
):
    # The demo's check-ins come every 60 days.
    set_template(program, locked={"checkin_every_weeks"}, checkin_every_weeks=10)
    agreement = make_active(pair(program, mentor, mentee, program_admin), start=START)
    agreement.start_amendment(by=mentor)
    client_for(client, mentor)
    # Extending the term by months is one step, even under the lock.
    revision = fresh(agreement).sections_by_kind["term"].revision
    response = client.post(
        edit_url(agreement, "term"), term_data("2027-01-04", "2027-12-20", revision=revision)
    )
    assert response.status_code == 302
    agreement = fresh(agreement)
    assert agreement.term.exit_date == datetime.date(2027, 12, 20)
    # The check-ins no longer cover it: the section waits to be filled in,
    # and signing is refused with the gap named.
    assert not agreement.section_is_complete("checkins")
    demo.agree_all(agreement, kinds=["term"])
    with pytest.raises(NotReadyToSign, match="without one"):
        fresh(agreement).sign(
            by=mentor, typed_name=mentor.full_name, seen_hash=fresh(agreement).content_hash
        )


def test_an_amendment_keeps_the_policy_locks(client, program, mentor, mentee, program_admin):
    set_template(program, locked={"exceptions_notes", "notice_days"})
    agreement = make_active(pair(program, mentor, mentee, program_admin), start=START)
    agreement.start_amendment(by=mentor)
    client_for(client, mentor)
    revision = fresh(agreement).sections_by_kind["term"].revision
    data = term_data("2027-01-04", "2027-07-05", notice="1", revision=revision)
    assert client.post(edit_url(agreement, "term"), data).status_code == 302
    assert fresh(agreement).term.notice_days == 30
    revision = fresh(agreement).sections_by_kind["confidentiality"].revision
    data = confidentiality_data(agreement, "Amended away.", revision=revision)
    assert client.post(edit_url(agreement, "confidentiality"), data).status_code == 302
    assert fresh(agreement).confidentiality.exceptions_notes == POLICY_TEXT


# The "Program policy" mark --------------------------------------------------------


def test_agreement_page_marks_locked_clauses_only(
    client, program, mentor, mentee, program_admin, django_assert_max_num_queries
):
    set_template(program, locked={"notice_days", "checkin_every_weeks"})
    agreement = pair(program, mentor, mentee, program_admin, start=START)
    client_for(client, mentor)
    with django_assert_max_num_queries(23):
        page = client.get(detail_url(agreement)).text
    assert "Program policy" in section_html(page, "term")
    assert "A check-in at least every 4 weeks" in section_html(page, "checkins")
    assert "Program policy" in section_html(page, "checkins")
    assert "Program policy" not in section_html(page, "confidentiality")
    assert page.count(">Program policy</span>") == 2


def test_agreement_page_has_no_mark_without_a_policy(
    client, program, mentor, mentee, program_admin
):
    set_template(program)
    agreement = pair(program, mentor, mentee, program_admin, start=START)
    client_for(client, mentor)
    assert "Program policy" not in client.get(detail_url(agreement)).text


def test_version_page_marks_locked_clauses(client, program, mentor, mentee, program_admin):
    set_template(program, locked={"exceptions_notes"})
    agreement = make_active(pair(program, mentor, mentee, program_admin), start=START)
    client_for(client, mentor)
    page = client.get(reverse("agreements:version_detail", args=[agreement.uuid, 1])).text
    assert "Program policy" in section_html(page, "confidentiality")
    assert "Program policy" not in section_html(page, "term")


def test_pdf_marks_locked_clauses_only(program, mentor, mentee, program_admin):
    set_template(program, locked={"exceptions_notes", "term_months"})
    agreement = pair(program, mentor, mentee, program_admin, start=START)
    text = pdf_text(draft_pdf(draft_html(fresh(agreement))))
    assert f"Program policy {POLICY_TEXT}" in text
    assert "a term of 6 months Program policy" in text
    # The two marks and the note that explains them; nothing on the notice.
    assert text.count("Program policy") == 3
    assert "Notice: 30 days. Closing conversation" in text


def test_pdf_has_no_mark_without_a_policy(program, mentor, mentee, program_admin):
    set_template(program)
    agreement = pair(program, mentor, mentee, program_admin, start=START)
    assert "Program policy" not in pdf_text(draft_pdf(draft_html(fresh(agreement))))
