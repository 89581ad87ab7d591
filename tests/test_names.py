"""People's names as program admins type or import them: invisible characters
that reorder or hide text are refused, names in any script are kept."""

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agreements.forms import PairingForm
from agreements.models import Agreement, User
from tests.helpers import client_for

# With a right-to-left override, this reads "Eve hillary" wherever it is shown.
SPOOFED = "Eve \u202eyrallih\u202c"
FORM_MESSAGE = (
    "This name contains invisible characters that can change how it is displayed, such as "
    "direction marks: type it again rather than pasting it."
)
IMPORT_MESSAGE = (
    "Mentee's name contains invisible characters that can change how it is displayed, such as "
    "direction marks: remove them."
)
HEADER = "mentor_email,mentor_name,mentee_email,mentee_name,start_date,exit_date\n"

REFUSED = {
    "left-to-right embedding": "\u202a",
    "right-to-left embedding": "\u202b",
    "pop directional formatting": "\u202c",
    "left-to-right override": "\u202d",
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "right-to-left isolate": "\u2067",
    "first strong isolate": "\u2068",
    "pop directional isolate": "\u2069",
    "left-to-right mark": "\u200e",
    "right-to-left mark": "\u200f",
    "arabic letter mark": "\u061c",
    "zero-width space": "\u200b",
    "word joiner": "\u2060",
    "byte order mark": "\ufeff",
    "soft hyphen": "\u00ad",
    "tag letter": "\U000e0041",
}
ACCEPTED = {
    "arabic": "ليلى أحمد",
    "hebrew": "שרה לוי",
    # Alireza, written with a zero-width non-joiner between its two parts.
    "persian with a non-joiner": "علی\u200cرضا احمدی",
    # The woman technologist: woman, zero-width joiner, laptop.
    "emoji with a joiner": "Ada \U0001f469\u200d\U0001f4bb",
    # Terge ("cart"), the Unicode standard's example of the vowel separator.
    "mongolian with the vowel separator": "\u1832\u1821\u1837\u182d\u180e\u1821",
    "latin with accents": "Zoë Ñúñez-Ødegård",
}


@pytest.fixture
def admin_client(client, program_admin):
    return client_for(client, program_admin)


def page(response):
    """The page's text as a reader sees it (entities decoded)."""
    return html.unescape(response.content.decode())


def new_pairing(client, program, mentee_name):
    return client.post(
        reverse("agreements:pairing_new", args=[program.uuid]),
        {
            "mentor_name": "Ann Lee",
            "mentor_email": "ann@example.org",
            "mentee_name": mentee_name,
            "mentee_email": "eve@example.org",
        },
    )


def import_text(mentee_name):
    return f"{HEADER}ann@example.org,Ann Lee,eve@example.org,{mentee_name},,\n"


def import_url(program):
    return reverse("agreements:pairing_import", args=[program.uuid])


def import_check(client, program, mentee_name):
    """The admin uploads a file of one pairing; the page checks it."""
    content = import_text(mentee_name).encode()
    upload = SimpleUploadedFile("pairings.csv", content, content_type="text/csv")
    return client.post(import_url(program), {"file": upload})


def import_confirm(client, program, text):
    return client.post(import_url(program), {"csv_text": text})


def import_problems(response):
    return {row.line: row.problems for row in response.context["checked"].problem_rows}


def assert_nothing_created():
    assert not Agreement.objects.exists()
    assert not User.objects.filter(email__in=["ann@example.org", "eve@example.org"]).exists()


# The pairing forms ----------------------------------------------------------


def test_pairing_form_refuses_a_name_with_a_direction_override(admin_client, program, mailoutbox):
    response = new_pairing(admin_client, program, SPOOFED)
    assert response.status_code == 200
    assert response.context["form"].errors == {"mentee_name": [FORM_MESSAGE]}
    assert FORM_MESSAGE in page(response)
    assert_nothing_created()
    assert mailoutbox == []


@pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
def test_pairing_form_refuses_each_invisible_character(program, char):
    form = PairingForm(
        {
            "mentor_name": f"Ann{char}Lee",
            "mentor_email": "ann@example.org",
            "mentee_name": "Eve",
            "mentee_email": "eve@example.org",
        },
        program=program,
    )
    assert not form.is_valid()
    assert form.errors == {"mentor_name": [FORM_MESSAGE]}
    assert form.has_error("mentor_name", code="format_character")


def test_repair_form_refuses_a_name_with_a_direction_override(admin_client, program, agreement):
    url = reverse("agreements:pairing_repair", args=[program.uuid, agreement.uuid])
    data = {"mentor_name": SPOOFED, "mentor_email": "eve@example.org", "reason": "Moved."}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert FORM_MESSAGE in page(response)
    agreement.refresh_from_db()
    assert agreement.status != Agreement.Status.ENDED
    assert Agreement.objects.count() == 1
    assert not User.objects.filter(email="eve@example.org").exists()


@pytest.mark.parametrize("name", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_pairing_form_keeps_names_in_any_script(admin_client, program, name):
    response = new_pairing(admin_client, program, name)
    assert response.status_code == 302
    assert Agreement.objects.get().mentee.full_name == name


# The CSV import -------------------------------------------------------------


def test_import_reports_the_line_of_a_name_with_a_direction_override(
    admin_client, program, mailoutbox
):
    response = import_check(admin_client, program, SPOOFED)
    assert import_problems(response) == {2: [IMPORT_MESSAGE]}
    text = page(response)
    assert "Problems on 1 of the 1 lines. Nothing was created" in text
    assert IMPORT_MESSAGE in text
    assert 'name="csv_text"' not in text
    assert_nothing_created()
    # The text posted as if confirmed is checked again.
    response = import_confirm(admin_client, program, import_text(SPOOFED))
    assert import_problems(response) == {2: [IMPORT_MESSAGE]}
    assert_nothing_created()
    assert mailoutbox == []


@pytest.mark.parametrize("char", REFUSED.values(), ids=REFUSED.keys())
def test_import_refuses_each_invisible_character(admin_client, program, char):
    response = import_check(admin_client, program, f"Eve{char}Smith")
    assert import_problems(response) == {2: [IMPORT_MESSAGE]}


@pytest.mark.parametrize("name", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_import_keeps_names_in_any_script(admin_client, program, name):
    response = import_check(admin_client, program, name)
    assert import_problems(response) == {}
    assert "Create 1 pairing" in page(response)
    import_confirm(admin_client, program, response.context["checked"].text)
    assert Agreement.objects.get().mentee.full_name == name
