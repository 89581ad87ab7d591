import datetime

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agreements import demo
from agreements.models import Agreement, Section
from agreements.services import pairing_create
from tests.helpers import START, client_for, make_user


@pytest.fixture
def admin_client(client, program_admin):
    return client_for(client, program_admin)


def new_url(program):
    return reverse("agreements:pairing_new", args=[program.uuid])


def pairing_data(mentor_email, mentee_email, **extra):
    return {
        "mentor_name": "Maria Mentor",
        "mentor_email": mentor_email,
        "mentee_name": "Milo Mentee",
        "mentee_email": mentee_email,
        **extra,
    }


def test_admin_pairs_two_existing_people(admin_client, program, mentor, mentee, mailoutbox):
    response = admin_client.post(
        new_url(program), pairing_data("MENTOR@example.com", mentee.email, mentee_name="Renamed")
    )
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert (agreement.mentor, agreement.mentee, agreement.program) == (mentor, mentee, program)
    assert agreement.sections.count() == len(Section.Kind)
    # An existing account keeps its own name.
    mentee.refresh_from_db()
    assert mentee.full_name == "Milo Mentee"


def test_pairing_someone_with_themselves_is_a_form_error(admin_client, program, mentor):
    response = admin_client.post(new_url(program), pairing_data(mentor.email, mentor.email.upper()))
    assert "A person cannot mentor themselves" in response.text
    assert not Agreement.objects.exists()


def test_duplicate_open_pairing_is_a_form_error(admin_client, program, agreement, mentor, mentee):
    response = admin_client.post(new_url(program), pairing_data(mentor.email, mentee.email))
    assert "mentor@example.com already mentors mentee@example.com in this program." in (
        response.text
    )
    assert Agreement.objects.count() == 1


def test_pairing_dates_out_of_order_are_a_form_error(admin_client, program):
    response = admin_client.post(
        new_url(program),
        pairing_data(
            "a@example.com", "b@example.com", start_date="2027-03-01", exit_date="2027-02-01"
        ),
    )
    assert "The exit date must come after the start date." in response.text
    response = admin_client.post(
        new_url(program), pairing_data("a@example.com", "b@example.com", exit_date="2027-02-01")
    )
    assert "An exit date needs a start date." in response.text
    assert not Agreement.objects.exists()


def test_pairing_a_deactivated_account_is_a_form_error(admin_client, program, mentor, mentee):
    mentee.is_active = False
    mentee.save()
    response = admin_client.post(new_url(program), pairing_data(mentor.email, mentee.email))
    assert "This email address cannot be paired." in response.text
    assert not Agreement.objects.exists()


def test_mentee_can_have_several_mentors(admin_client, program, agreement, mentee, outsider):
    response = admin_client.post(new_url(program), pairing_data(outsider.email, mentee.email))
    assert response.status_code == 302
    assert Agreement.objects.filter(mentee=mentee).count() == 2


def test_pairing_list_shows_dates_status_and_next_checkin(admin_client, program, agreement):
    term = agreement.term
    today = timezone.localdate()
    term.start_date, term.exit_date = today, today + datetime.timedelta(days=100)
    term.save()
    agreement.checkins.create(date=today - datetime.timedelta(days=1))
    agreement.checkins.create(date=today + datetime.timedelta(days=30))
    agreement.checkins.create(date=today + datetime.timedelta(days=60))
    response = admin_client.get(reverse("agreements:program", args=[program.uuid]))
    row = response.context["page"].object_list[0]
    assert row.next_checkin == today + datetime.timedelta(days=30)
    assert "Draft" in response.text


@pytest.mark.parametrize("pairings", [2, 40])
def test_pairing_list_queries_do_not_grow(
    admin_client, program, program_admin, pairings, django_assert_max_num_queries
):
    for index in range(pairings):
        pairing_create(
            program=program,
            mentor=make_user(f"m{index}@example.com", f"Mentor {index}"),
            mentee=make_user(f"e{index}@example.com", f"Mentee {index}"),
            created_by=program_admin,
        )
    call_command("end_agreements", verbosity=0)  # the daily cron: every row as of today
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse("agreements:program", args=[program.uuid]))
    assert len(response.context["page"].object_list) == pairings


def test_home_queries_do_not_grow_with_agreements(
    client, program, program_admin, mentor, django_assert_max_num_queries
):
    for index in range(12):
        pairing_create(
            program=program,
            mentor=mentor,
            mentee=make_user(f"e{index}@example.com", f"Mentee {index}"),
            created_by=program_admin,
        )
    client_for(client, mentor)
    # Session, user, agreements, then one each for sections, signatures,
    # versions, check-in records (with their goal progress), closing notes,
    # meetings, pauses and survey answers, the programs the user runs, the
    # unread discussions, and the menu's count.
    with django_assert_max_num_queries(15):
        response = client.get("/")
    assert response.text.count("Open the agreement") == 12


def test_home_queries_stay_flat_across_signing_states(
    client, program, program_admin, mentor, django_assert_max_num_queries
):
    # Half signed, active and being amended: each state reads versions and signatures.
    for index in range(6):
        agreement = pairing_create(
            program=program,
            mentor=mentor,
            mentee=make_user(f"s{index}@example.com", f"Signer {index}"),
            created_by=program_admin,
        )
        demo.write_all(agreement, by=mentor, start=START)
        demo.agree_all(agreement)
        demo.sign_as(agreement, mentor)
        if index % 3:
            demo.sign_as(agreement, agreement.mentee)
        if index % 3 == 2:
            agreement.start_amendment(by=mentor)
    client_for(client, mentor)
    with django_assert_max_num_queries(15):
        response = client.get("/")
    assert response.text.count("Open the agreement") == 6
    assert response.text.count("Waiting for Signer") == 2
    assert response.text.count("Change what the amendment is for, or withdraw it") == 2


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"mentor_name": "Evil\nBcc: all@example.com"}, "Remove the line breaks"),
        ({"start_date": "9999-09-01"}, "The year 9999 cannot be right: check the date."),
        ({"start_date": "2027-01-04", "exit_date": "2037-01-04"}, "more than 60 check-ins"),
        ({"start_date": "2027-01-04", "exit_date": "2027-02-01"}, "leave the exit date empty"),
    ],
)
def test_pairing_input_the_template_cannot_take_is_a_form_error(
    admin_client, program, extra, message
):
    program.checkin_every_weeks, program.term_months = 1, 6
    program.term_months_locked = "exit_date" in extra and extra["exit_date"] < "2030"
    program.save()
    response = admin_client.post(
        new_url(program), pairing_data("a@example.com", "b@example.com", **extra)
    )
    assert response.status_code == 200
    assert message in response.text
    assert not Agreement.objects.exists()


def test_a_locked_term_sets_the_exit_date(admin_client, program):
    program.term_months, program.term_months_locked = 6, True
    program.save()
    admin_client.post(
        new_url(program), pairing_data("a@example.com", "b@example.com", start_date="2027-01-04")
    )
    assert Agreement.objects.get().term.exit_date == datetime.date(2027, 7, 4)
