"""A program that asks its admins for a second factor: the setting, the admin
without one sent to add one from every program and pairing page (and shown
nothing), the pages open with one, and outsiders still get a 404."""

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.helpers import assert_unchanged, client_for, make_program
from tests.test_program_template import settings_url, template_data

ASKED = (
    "This program asks its admins to log in with a second factor. Add an authenticator app or "
    "a passkey to open its pages."
)


def add_totp(user):
    return Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )


def ask_for_second_factor(program):
    program.admins_need_second_factor = True
    program.save()
    return program


@pytest.fixture
def admin_client(client, program_admin):
    return client_for(client, program_admin)


@pytest.fixture
def strict(program):
    return ask_for_second_factor(program)


# Every page of a program, and of one of its pairings, the admin may open.
PAGES = {
    "program": lambda p, a: reverse("agreements:program", args=[p.uuid]),
    "export": lambda p, a: reverse("agreements:program_export", args=[p.uuid]),
    "outcomes": lambda p, a: reverse("agreements:program_outcomes", args=[p.uuid]),
    "outcomes_csv": lambda p, a: reverse(
        "agreements:program_outcomes_csv", args=[p.uuid, "statuses"]
    ),
    "settings": lambda p, a: settings_url(p),
    "pairing_new": lambda p, a: reverse("agreements:pairing_new", args=[p.uuid]),
    "pairing_import": lambda p, a: reverse("agreements:pairing_import", args=[p.uuid]),
    "pairing": lambda p, a: reverse("agreements:pairing", args=[p.uuid, a.uuid]),
    "pairing_end": lambda p, a: reverse("agreements:pairing_end", args=[p.uuid, a.uuid]),
}


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_sent_to_add_one(response):
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")
    assert response.content == b""
    assert messages_of(response) == [ASKED]


# The setting -------------------------------------------------------------------


def test_the_settings_page_offers_the_setting(admin_client, program):
    page = admin_client.get(settings_url(program))
    assert page.status_code == 200
    assert "Signing in" in page.text
    assert "Admins log in with a second factor" in page.text
    assert "An admin without an authenticator app or a passkey is asked to add one" in page.text


def test_admin_with_a_factor_turns_it_on_and_off(admin_client, program, program_admin):
    add_totp(program_admin)
    response = admin_client.post(
        settings_url(program), template_data(admins_need_second_factor="on")
    )
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.admins_need_second_factor
    assert admin_client.get(settings_url(program)).status_code == 200
    admin_client.post(settings_url(program), template_data())
    program.refresh_from_db()
    assert not program.admins_need_second_factor


def test_admin_without_a_factor_who_turns_it_on_is_sent_to_add_one(admin_client, program):
    response = admin_client.post(
        settings_url(program), template_data(admins_need_second_factor="on"), follow=True
    )
    assert response.redirect_chain == [
        (settings_url(program), 302),
        (reverse("mfa_index"), 302),
    ]
    assert response.status_code == 200
    assert "Template saved." in response.text
    assert ASKED in response.text
    program.refresh_from_db()
    assert program.admins_need_second_factor


# The pages -----------------------------------------------------------------------


@pytest.mark.parametrize("name", PAGES)
def test_admin_without_a_factor_is_sent_to_add_one(admin_client, strict, agreement, name):
    assert_sent_to_add_one(admin_client.get(PAGES[name](strict, agreement)))


def test_admin_without_a_factor_cannot_make_a_move(admin_client, strict, agreement, mailoutbox):
    url = reverse("agreements:pairing_remind", args=[strict.uuid, agreement.uuid])
    with assert_unchanged(agreement):
        response = admin_client.post(url)
    assert_sent_to_add_one(response)
    assert not mailoutbox


def test_recovery_codes_alone_are_not_a_second_factor(
    admin_client, strict, program_admin, agreement
):
    Authenticator.objects.create(
        user=program_admin, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "00"}
    )
    assert_sent_to_add_one(admin_client.get(PAGES["program"](strict, agreement)))


def test_a_superuser_admin_is_not_exempt(admin_client, strict, program_admin, agreement):
    program_admin.is_superuser = program_admin.is_staff = True
    program_admin.save()
    assert_sent_to_add_one(admin_client.get(PAGES["program"](strict, agreement)))


@pytest.mark.parametrize("kind", [Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN])
@pytest.mark.parametrize("name", PAGES)
def test_admin_with_a_factor_opens_the_pages(
    admin_client, strict, program_admin, agreement, kind, name
):
    Authenticator.objects.create(user=program_admin, type=kind, data={})
    response = admin_client.get(PAGES[name](strict, agreement))
    assert response.status_code == 200
    assert messages_of(response) == []


@pytest.mark.parametrize("name", PAGES)
def test_a_program_that_does_not_ask_opens_as_before(admin_client, program, agreement, name):
    response = admin_client.get(PAGES[name](program, agreement))
    assert response.status_code == 200
    assert messages_of(response) == []


def test_the_setting_is_per_program(admin_client, strict, program_admin):
    relaxed = make_program("Relaxed Programme", program_admin)
    assert admin_client.get(reverse("agreements:program", args=[relaxed.uuid])).status_code == 200
    assert_sent_to_add_one(admin_client.get(reverse("agreements:program", args=[strict.uuid])))


def test_the_program_list_still_lists_it(admin_client, strict, program_admin):
    relaxed = make_program("Relaxed Programme", program_admin)
    response = admin_client.get(reverse("agreements:program_list"))
    assert response.status_code == 200
    assert strict.name in response.text
    assert relaxed.name in response.text
    assert messages_of(response) == []


@pytest.mark.parametrize("persona", ["mentor", "outsider", "other_admin"])
@pytest.mark.parametrize("name", PAGES)
def test_outsiders_still_get_404(client, strict, agreement, persona, name, request):
    # A redirect would tell them the program exists, and that it asks for a second factor.
    client_for(client, request.getfixturevalue(persona))
    response = client.get(PAGES[name](strict, agreement))
    assert response.status_code == 404
    assert messages_of(response) == []


def test_the_check_costs_one_query_and_only_when_asked(admin_client, program, program_admin):
    add_totp(program_admin)
    url = settings_url(program)
    admin_client.get(url)  # the session's first reads out of the way
    with CaptureQueriesContext(connection) as relaxed:
        assert admin_client.get(url).status_code == 200
    ask_for_second_factor(program)
    with CaptureQueriesContext(connection) as asked:
        assert admin_client.get(url).status_code == 200
    assert len(asked) == len(relaxed) + 1
    assert [q for q in relaxed if "mfa_authenticator" in q["sql"]] == []
    assert len([q for q in asked if "mfa_authenticator" in q["sql"]]) == 1
