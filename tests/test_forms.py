"""What the forms say and take: dates as the app shows them, empty choices in
words, optional fields marked, rows added in place, and contact preferences
each party writes for themselves."""

import datetime
import re
from html import unescape as html_unescape
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements import demo
from agreements.forms import CheckInRecordForm, PairingForm
from agreements.forms.widgets import DateField
from agreements.models import AuditEvent
from tests.helpers import START, assert_unchanged, client_for, fresh
from tests.test_program_template import pair, set_template

KINDS = ["contact", "schedule", "goals", "checkins", "confidentiality", "off_limits", "term"]


def edit_url(agreement, kind):
    return reverse("agreements:section_edit", args=[agreement.uuid, kind])


class FormFields(HTMLParser):
    """The fields a browser would submit from the page's section form; what is
    inside a <template> is not part of the page until a script copies it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields = {}
        self._in_form = self._in_template = False
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form" and attrs.get("method") == "post" and "novalidate" in attrs:
            self._in_form = True
        elif tag == "template":
            self._in_template = True
        elif not self._in_form or self._in_template or "disabled" in attrs:
            return
        elif tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.fields[name] = attrs.get("value", "on")
            elif kind not in {"submit", "button"}:
                self.fields[name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            if "selected" in attrs or self._select not in self.fields:
                self.fields[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag):
        if tag == "form":
            self._in_form = False
        elif tag == "template":
            self._in_template = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            value = self.fields[self._textarea]
            self.fields[self._textarea] = value.removeprefix("\r\n").removeprefix("\n")
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.fields[self._textarea] += data


def form_fields(response):
    parser = FormFields()
    parser.feed(response.content.decode())
    return parser.fields


def label_text(html, field_id):
    match = re.search(rf'<label\s+for="{field_id}"[^>]*>(.*?)</label>', html, re.S)
    assert match, field_id
    return html_unescape(" ".join(re.sub(r"<[^>]+>", "", match.group(1)).split()))


@pytest.fixture
def written(agreement, mentor):
    demo.write_all(agreement, by=mentor, start=START)
    return fresh(agreement)


# Dates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "8 Apr 2027",
        "8 April 2027",
        "08 apr 2027",
        "8th April 2027",
        "April 8, 2027",
        "2027-04-08",
        "  8  Apr   2027 ",
    ],
)
def test_a_date_is_taken_as_shown_or_as_commonly_typed(typed):
    assert DateField().clean(typed) == datetime.date(2027, 4, 8)


@pytest.mark.parametrize(
    ("typed", "day"),
    [("13/04/2027", 13), ("13.4.2027", 13), ("4/4/2027", 4), ("30-04-2027", 30)],
)
def test_a_date_with_the_month_as_a_number_is_taken_day_first_when_it_cannot_be_misread(typed, day):
    assert DateField().clean(typed) == datetime.date(2027, 4, day)


@pytest.mark.parametrize("typed", ["08/04/2027", "8/4/2027", "4.8.2027"])
def test_a_date_that_reads_two_ways_is_refused_rather_than_guessed(typed):
    with pytest.raises(ValidationError) as refused:
        DateField().clean(typed)
    assert refused.value.messages == [
        f"“{typed}” could be read two ways: write the month as a word, for example 8 Apr 2027."
    ]


@pytest.mark.parametrize(
    "typed",
    ["31 Feb 2027", "next Tuesday", "04/31/2027", "8 Ma 2027", "1/1/69", "13/04/27"],
)
def test_a_date_that_is_not_one_is_a_clear_error(typed):
    with pytest.raises(ValidationError) as refused:
        DateField().clean(typed)
    assert refused.value.messages == [
        "Enter the date as day, month and year, for example 8 Apr 2027."
    ]


def test_a_date_field_shows_its_date_as_the_app_does_with_a_hint(mentor_client, written):
    page = mentor_client.get(edit_url(written, "term")).text
    field = re.search(r'<input[^>]*name="start_date"[^>]*>', page).group(0)
    assert 'type="text"' in field
    assert 'value="4 Jan 2027"' in field
    assert 'aria-describedby="id_start_date_helptext"' in field
    assert re.search(r'id="id_start_date_helptext"[^>]*>For example: 8 Apr 2027\.</div>', page)
    assert 'type="date"' not in page


def test_every_date_field_of_the_app_is_the_text_one(mentor_client, written):
    for kind in ("term", "goals", "checkins"):
        page = mentor_client.get(edit_url(written, kind)).text
        assert 'type="date"' not in page, kind
        assert "For example: 8 Apr 2027." in page, kind
    today = datetime.date(2027, 4, 8)
    record = CheckInRecordForm(goals=[], today=today)
    assert record.fields["held_on"].widget.input_type == "text"
    assert 'value="8 Apr 2027"' in str(record["held_on"])
    assert "For example: 8 Apr 2027." in record.fields["held_on"].help_text
    assert isinstance(PairingForm(program=None).fields["exit_date"], DateField)


@pytest.mark.parametrize("kind", ["term", "goals", "checkins"])
def test_a_form_saved_unchanged_keeps_its_dates(client, written, mentor, mentee, kind):
    demo.agree_all(written)
    before = fresh(written).section_data(kind)
    client_for(client, mentee)
    fields = form_fields(client.get(edit_url(written, kind)))
    response = client.post(edit_url(written, kind), fields, follow=True)
    assert "Nothing changed." in response.text
    agreement = fresh(written)
    assert agreement.section_data(kind) == before
    assert agreement.sections_by_kind[kind].is_agreed


def test_a_date_typed_as_shown_is_saved(mentor_client, agreement):
    data = {"revision": 0, "start_date": "4 January 2027", "exit_date": "1 Jul 2027",
            "notice_days": 14}  # fmt: skip
    assert mentor_client.post(edit_url(agreement, "term"), data).status_code == 302
    term = fresh(agreement).term
    assert (term.start_date, term.exit_date) == (START, datetime.date(2027, 7, 1))


def test_a_mistyped_date_is_shown_again_as_typed(mentor_client, agreement):
    data = {"revision": 0, "start_date": "4 Jnauary 2027", "exit_date": "1 Jul 2027",
            "notice_days": 14}  # fmt: skip
    response = mentor_client.post(edit_url(agreement, "term"), data)
    assert response.status_code == 200
    assert "Enter the date as day, month and year, for example 8 Apr 2027." in response.text
    assert 'value="4 Jnauary 2027"' in response.text
    assert fresh(agreement).term.start_date is None


# Empty choices and optional fields ---------------------------------------------


def test_no_empty_choice_is_a_row_of_dashes(mentor_client, written):
    pages = {kind: mentor_client.get(edit_url(written, kind)).text for kind in KINDS}
    for kind, page in pages.items():
        assert "---------" not in page, kind
    assert '<option value="">Choose how often</option>' in pages["schedule"]
    assert '<option value="">Choose a time zone</option>' in pages["schedule"]
    assert '<option value="">Choose who</option>' in pages["schedule"]
    assert '<option value="">Choose a response time</option>' in pages["contact"]
    assert "Choose whose goal</option>" in pages["goals"]
    assert "Choose a rule</option>" in pages["off_limits"]


def test_required_fields_carry_no_asterisk_and_optional_ones_say_so(mentor_client, written):
    pages = {kind: mentor_client.get(edit_url(written, kind)).text for kind in KINDS}
    for kind, page in pages.items():
        assert "asteriskField" not in page, kind
        assert "Every field is needed unless marked (optional); tick boxes only" in page, kind
    assert label_text(pages["goals"], "id_goals-0-description") == "Goal"
    assert label_text(pages["schedule"], "id_frequency") == "Frequency"
    assert label_text(pages["schedule"], "id_location") == "Place or link (optional)"
    assert label_text(pages["checkins"], "id_checkins-0-focus") == "What to review (optional)"
    assert label_text(pages["confidentiality"], "id_personal_matters").endswith("(optional)")
    # Needed only with another answer: not marked optional, and the help says when.
    assert label_text(pages["contact"], "id_mentor-email_details") == "Email address"
    assert "Needed if you tick email." in pages["contact"]
    assert label_text(pages["schedule"], "id_time") == "Time of day"
    assert label_text(pages["confidentiality"], "id_third_party_name") == "Third party"
    # A box to tick is never marked.
    assert label_text(pages["term"], "id_closing_conversation") == (
        "Offer a closing conversation if both want one"
    )


# Rows: suggested, added in place ------------------------------------------------


def test_each_formset_offers_an_add_another_button_and_its_empty_row(mentor_client, written):
    for kind, prefix, noun in (
        ("goals", "goals", "goal"),
        ("checkins", "checkins", "check-in"),
        ("off_limits", "topics", "topic"),
    ):
        page = mentor_client.get(edit_url(written, kind)).text
        assert f'data-formset-add="{prefix}" hidden>Add another {noun}</button>' in page
        template = re.search(
            rf'<template id="{prefix}-empty-row">(.*?)</template>', page, re.S
        ).group(1)
        assert f'name="{prefix}-__prefix__-' in template
        assert f'id="{prefix}-rows"' in page
        assert '<script src="/static/js/formset.js" defer></script>' in page
        assert "Save to get another empty row" not in page
        # Without JavaScript the form still offers one empty row.
        rows = int(re.search(rf'name="{prefix}-TOTAL_FORMS" value="(\d+)"', page).group(1))
        initial = int(re.search(rf'name="{prefix}-INITIAL_FORMS" value="(\d+)"', page).group(1))
        assert rows == initial + 1


def test_a_row_added_in_the_browser_is_saved(mentor_client, written):
    """What formset.js posts: the copied empty row, numbered, and TOTAL_FORMS counting it."""
    page = mentor_client.get(edit_url(written, "off_limits"))
    fields = form_fields(page)
    index = int(fields["topics-TOTAL_FORMS"])
    fields.update(
        {
            "topics-TOTAL_FORMS": str(index + 1),
            f"topics-{index}-topic": "Politics",
            f"topics-{index}-rule": "never",
        }
    )
    assert mentor_client.post(edit_url(written, "off_limits"), fields).status_code == 302
    assert "Politics" in fresh(written).off_limits_topics.values_list("topic", flat=True)


def test_suggested_checkins_say_so_and_can_be_removed(
    client, program, mentor, mentee, program_admin
):
    set_template(program)
    agreement = pair(program, mentor, mentee, program_admin)
    client_for(client, mentor)
    client.post(
        edit_url(agreement, "term"),
        {"revision": 0, "start_date": "4 Jan 2027", "exit_date": "1 Apr 2027", "notice_days": 14},
    )
    response = client.get(edit_url(agreement, "checkins"))
    page = response.text
    legends = re.findall(r'<legend class="fs-6[^"]*">([^<]*)</legend>', page)
    assert legends[:3] == [
        "Check-in 1: suggested by the program",
        "Check-in 2: suggested by the program",
        "Check-in 3: suggested by the program",
    ]
    assert "Add check-in" not in page
    assert label_text(page, "id_checkins-1-DELETE") == "Remove this check-in"
    fields = form_fields(response)
    fields["checkins-1-DELETE"] = "on"
    assert client.post(edit_url(agreement, "checkins"), fields).status_code == 302
    assert list(fresh(agreement).checkins.values_list("date", flat=True)) == [
        datetime.date(2027, 2, 1),
        datetime.date(2027, 3, 29),
    ]


# Contact preferences: each party writes their own -------------------------------


def test_contact_editor_holds_only_my_preferences_and_shows_theirs(client, written, mentee):
    client_for(client, mentee)
    page = client.get(edit_url(written, "contact")).text
    assert 'name="mentee-by_email"' in page
    assert 'name="mentor-' not in page
    assert "<legend>Your contact preferences</legend>" in page
    assert "The mentor's preferences</h2>" in page
    assert "Only Maria Mentor can change these." in page
    # The mentor's details, as text.
    assert "mentor@example.com" in page


def test_posting_the_other_partys_contact_fields_changes_nothing_of_theirs(
    client, written, mentor, mentee
):
    demo.agree_all(written)
    theirs = written.contact_for("mentor")
    before = {field: getattr(theirs, field) for field in ("by_phone", "phone_details")}
    revision = written.sections_by_kind["contact"].revision
    client_for(client, mentee)
    data = {
        "revision": revision,
        "mentee-by_chat": "on", "mentee-chat_details": "Signal @milo",
        "mentee-response_time": "same_day",
        "mentor-by_phone": "on", "mentor-phone_details": "+44 99 MENTEE WROTE THIS",
        "mentor-response_time": "one_week",
    }  # fmt: skip
    response = client.post(edit_url(written, "contact"), data)
    assert response.status_code == 302
    agreement = fresh(written)
    mine, theirs = agreement.contact_for("mentee"), agreement.contact_for("mentor")
    assert (mine.by_chat, mine.chat_details, mine.response_time) == (
        True,
        "Signal @milo",
        "same_day",
    )
    assert {field: getattr(theirs, field) for field in ("by_phone", "phone_details")} == before
    assert theirs.response_time != "one_week"
    # Still a section edit: both agree again.
    section = agreement.sections_by_kind["contact"]
    assert section.revision == revision + 1
    assert not section.mentor_agreed_at and not section.mentee_agreed_at


def test_a_post_carrying_only_the_other_partys_fields_is_refused_as_unchanged(
    client, written, mentee
):
    revision = written.sections_by_kind["contact"].revision
    client_for(client, mentee)
    fields = form_fields(client.get(edit_url(written, "contact")))
    data = {**fields, "mentor-by_chat": "on", "mentor-chat_details": "Hijacked"}
    with assert_unchanged(written):
        response = client.post(edit_url(written, "contact"), data, follow=True)
    assert "Nothing changed." in response.text
    assert fresh(written).sections_by_kind["contact"].revision == revision
    assert fresh(written).contact_for("mentor").chat_details == ""


def test_contact_conflict_keeps_my_input_and_saves_knowingly(client, written, mentor, mentee):
    revision = written.sections_by_kind["contact"].revision
    # The mentor opens the page; meanwhile the mentee saves their own preferences.
    mentor_fields = form_fields(client_for(client, mentor).get(edit_url(written, "contact")))
    client_for(client, mentee)
    mentee_data = {
        **form_fields(client.get(edit_url(written, "contact"))),
        "mentee-preferred_times": "Evenings",
    }
    assert client.post(edit_url(written, "contact"), mentee_data).status_code == 302

    client_for(client, mentor)
    data = {**mentor_fields, "mentor-preferred_times": "Mornings"}
    events = AuditEvent.objects.count()
    response = client.post(edit_url(written, "contact"), data)
    assert response.status_code == 409
    assert AuditEvent.objects.count() == events
    assert 'value="Mornings"' in response.text
    assert "Evenings" in response.text  # the mentee's change, among theirs
    assert fresh(written).contact_for("mentor").preferred_times != "Mornings"

    again = form_fields(response)
    assert again["revision"] == str(revision + 1)
    assert client.post(edit_url(written, "contact"), again).status_code == 302
    agreement = fresh(written)
    assert agreement.contact_for("mentor").preferred_times == "Mornings"
    assert agreement.contact_for("mentee").preferred_times == "Evenings"


# The app's other forms ------------------------------------------------------------


def test_other_form_pages_speak_the_same_language(client, program, program_admin, mentor):
    client_for(client, program_admin)
    new_pairing = client.get(reverse("agreements:pairing_new", args=[program.uuid])).text
    settings_page = client.get(reverse("agreements:program_settings", args=[program.uuid])).text
    account = client_for(client, mentor).get(reverse("agreements:account")).text
    for page in (new_pairing, settings_page, account):
        assert "asteriskField" not in page
        assert "---------" not in page
        assert 'type="date"' not in page
    assert label_text(new_pairing, "id_start_date") == "Start date (optional)"
    assert label_text(new_pairing, "id_mentor_email") == "Mentor's email"
    assert "For example: 8 Apr 2027. The pair can set or change it" in new_pairing
    assert '<option value="">Choose a time zone</option>' in account
    # Needed once locked as program policy: not marked optional.
    assert label_text(settings_page, "id_term_months") == "Term length (months)"
    assert "Needed if it is program policy." in settings_page


def test_a_pairing_takes_its_dates_as_the_app_shows_them(program):
    form = PairingForm(
        {
            "mentor_name": "Maria", "mentor_email": "maria@example.com",
            "mentee_name": "Milo", "mentee_email": "milo@example.com",
            "start_date": "4 Jan 2027", "exit_date": "4 July 2027",
        },
        program=program,
    )  # fmt: skip
    assert form.is_valid(), form.errors
    assert (form.cleaned_data["start_date"], form.cleaned_data["exit_date"]) == (
        START,
        datetime.date(2027, 7, 4),
    )


@pytest.mark.parametrize(("typed", "year"), [("8 Apr 0027", 27), ("9999-09-01", 9999)])
def test_a_year_that_cannot_be_meant_is_refused(typed, year):
    with pytest.raises(ValidationError) as refused:
        DateField().clean(typed)
    assert refused.value.messages == [f"The year {year} cannot be right: check the date."]
