import datetime

import pytest
from django.urls import reverse

from agreements import demo
from agreements.exceptions import SectionInvalid
from agreements.models import Agreement
from tests.helpers import START, assert_unchanged, client_for, fresh


def edit_url(agreement, kind):
    return reverse("agreements:section_edit", args=[agreement.uuid, kind])


def agree_url(agreement, kind):
    return reverse("agreements:section_agree", args=[agreement.uuid, kind])


def term_data(start="2027-01-04", exit_="2027-07-01", revision=0, **extra):
    return {
        "revision": revision,
        "start_date": start,
        "exit_date": exit_,
        "notice_days": 14,
        "closing_conversation": "on",
        **extra,
    }


def formset_data(prefix, rows, revision, initial=0):
    data = {
        "revision": revision,
        f"{prefix}-TOTAL_FORMS": len(rows),
        f"{prefix}-INITIAL_FORMS": initial,
        f"{prefix}-MIN_NUM_FORMS": 0,
        f"{prefix}-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{index}-{key}"] = value
    return data


@pytest.fixture
def mentor_client(client, mentor):
    return client_for(client, mentor)


def test_saving_a_section_records_who_and_when(mentor_client, agreement, mentor):
    response = mentor_client.post(edit_url(agreement, "term"), term_data())
    assert response.status_code == 302
    assert response["Location"].endswith("#section-term")
    section = fresh(agreement).sections_by_kind["term"]
    assert section.updated_by == mentor
    assert section.revision == 1
    page = mentor_client.get(reverse("agreements:detail", args=[agreement.uuid]))
    assert "Last changed by Maria Mentor" in page.text


def test_exit_before_start_is_a_clear_form_error(mentor_client, agreement):
    response = mentor_client.post(
        edit_url(agreement, "term"), term_data(start="2027-05-01", exit_="2027-04-01")
    )
    assert response.status_code == 200
    assert "The exit date must be after the start date." in response.text
    assert fresh(agreement).term.start_date is None


def test_checkin_outside_the_term_is_a_clear_form_error(mentor_client, agreement):
    mentor_client.post(edit_url(agreement, "term"), term_data())
    data = formset_data("checkins", [{"date": "2027-09-01", "focus": "Late"}], revision=0)
    response = mentor_client.post(edit_url(agreement, "checkins"), data)
    assert response.status_code == 200
    assert "Choose a date from the start date" in response.text
    assert not agreement.checkins.exists()


def test_checkins_need_a_term_first(mentor_client, agreement):
    data = formset_data("checkins", [{"date": "2027-03-01", "focus": ""}], revision=0)
    response = mentor_client.post(edit_url(agreement, "checkins"), data)
    assert "Set the start and exit dates" in response.text
    assert not agreement.checkins.exists()


def test_term_change_that_strands_a_checkin_is_refused(mentor_client, agreement):
    mentor_client.post(edit_url(agreement, "term"), term_data())
    data = formset_data("checkins", [{"date": "2027-06-01", "focus": ""}], revision=0)
    assert mentor_client.post(edit_url(agreement, "checkins"), data).status_code == 302
    response = mentor_client.post(
        edit_url(agreement, "term"), term_data(exit_="2027-05-01", revision=1)
    )
    assert "would fall outside the new term" in response.text
    assert fresh(agreement).term.exit_date == datetime.date(2027, 7, 1)


def test_goals_are_a_list_with_owner_measure_and_date(mentor_client, agreement):
    rows = [
        {
            "owner": "mentee",
            "description": "Speak at a conference",
            "success_measure": "A talk given",
            "target_date": "2027-05-01",
        },
        {
            "owner": "mentor",
            "description": "Listen more",
            "success_measure": "Mentee feedback",
            "target_date": "2027-06-01",
        },
    ]
    response = mentor_client.post(edit_url(agreement, "goals"), formset_data("goals", rows, 0))
    assert response.status_code == 302
    assert sorted(agreement.goals.values_list("owner", flat=True)) == ["mentee", "mentor"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Null\x00byte", "Null characters are not allowed."),
        ("x" * 100_000, "Ensure this value has at most 200 characters"),
    ],
)
def test_bad_text_is_a_form_error_and_changes_nothing(mentor_client, agreement, value, message):
    rows = [{"topic": value, "rule": "never"}]
    response = mentor_client.post(
        edit_url(agreement, "off_limits"), formset_data("topics", rows, 0)
    )
    assert response.status_code == 200
    assert message in response.text
    assert not agreement.off_limits_topics.exists()
    assert fresh(agreement).sections_by_kind["off_limits"].revision == 0


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\u2028", "\x0c"])
def test_a_text_of_more_than_fifty_lines_is_a_form_error_and_changes_nothing(
    mentor_client, agreement, newline
):
    """The line limit bounds the longest PDF the forms allow (docs/how-it-works.md)."""

    def goals(lines):
        text = newline.join(f"Step {number}" for number in range(lines))
        row = {"owner": "mentee", "description": text, "success_measure": "Done"}
        return formset_data("goals", [{**row, "target_date": "2027-05-01"}], 0)

    response = mentor_client.post(edit_url(agreement, "goals"), goals(51))

    assert response.status_code == 200
    assert "Keep this to at most 50 lines (it has 51)" in response.text
    assert not agreement.goals.exists()
    assert fresh(agreement).sections_by_kind["goals"].revision == 0

    assert mentor_client.post(edit_url(agreement, "goals"), goals(50)).status_code == 302
    assert len(agreement.goals.get().description.splitlines()) == 50


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert('x')</script>",
        "{{ agreement.mentor.password }} {% debug %}",
        "Emoji 🎉🚀 and مرحبا بالعالم and שלום",
    ],
)
def test_markup_and_any_script_are_stored_and_shown_literally(mentor_client, agreement, value):
    rows = [{"topic": value, "rule": "mentee_raises"}]
    response = mentor_client.post(
        edit_url(agreement, "off_limits"), formset_data("topics", rows, 0)
    )
    assert response.status_code == 302
    assert agreement.off_limits_topics.get().topic == value
    page = mentor_client.get(reverse("agreements:detail", args=[agreement.uuid]))
    assert "<script>alert" not in page.text
    if "<" in value:
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page.text
    else:
        assert value in page.text


def test_contact_needs_details_for_a_chosen_channel(mentor_client, agreement):
    data = {
        "revision": 0,
        "mentor-by_email": "on",
        "mentor-email_details": "",
        "mentor-response_time": "one_day",
    }
    response = mentor_client.post(edit_url(agreement, "contact"), data)
    assert response.status_code == 200
    assert "Give the details for email." in response.text


def test_custom_frequency_needs_a_description(mentor_client, agreement):
    data = {
        "revision": 0, "frequency": "custom", "frequency_custom": "", "duration_minutes": 60,
        "format": "video", "arranged_by": "mentee", "agenda_by": "both", "notice_hours": 24,
    }  # fmt: skip
    response = mentor_client.post(edit_url(agreement, "schedule"), data)
    assert "Describe how often you will meet." in response.text
    assert fresh(agreement).schedule.frequency == ""


def test_only_the_mentee_can_consent_to_a_third_party(client, agreement, mentor, mentee):
    data = {
        "revision": 0, "work_matters": "Feedback", "line_manager_by_mentor": "Nothing",
        "yields_to_risk_of_harm": "on", "third_party_allowed": "on",
        "third_party_name": "Dr Supervisor", "third_party_limits": "No names",
        "third_party_consent": "on",
    }  # fmt: skip
    client_for(client, mentor).post(edit_url(agreement, "confidentiality"), data)
    assert fresh(agreement).confidentiality.third_party_consent is False
    client_for(client, mentee).post(edit_url(agreement, "confidentiality"), {**data, "revision": 1})
    assert fresh(agreement).confidentiality.third_party_consent is True


def test_status_cannot_be_set_through_a_form(mentor_client, ready):
    # Awaiting signatures; an unchanged save carrying a status must not activate it.
    revision = ready.sections_by_kind["term"].revision
    data = term_data(exit_="2027-07-05", revision=revision, status="active", activated_at="2027")
    response = mentor_client.post(edit_url(ready, "term"), data, follow=True)
    assert "Nothing changed." in response.text
    assert fresh(ready).status == Agreement.Status.AWAITING_SIGNATURES
    assert fresh(ready).activated_at is None


def test_agree_is_post_only(mentor_client, agreement):
    url = agree_url(agreement, "term")
    assert mentor_client.get(url).status_code == 405


def test_agreeing_an_empty_section_shows_why_not(mentor_client, agreement):
    url = agree_url(agreement, "term")
    response = mentor_client.post(url, {"revision": 0}, follow=True)
    assert "is not complete yet" in response.text
    assert fresh(agreement).sections_by_kind["term"].mentor_agreed_at is None


def test_agree_marks_the_section_for_me_only(client, agreement, mentor, mentee):
    demo.write_all(agreement, by=mentee, start=START)
    client_for(client, mentor)
    url = agree_url(agreement, "term")
    assert client.post(url, {"revision": 1}).status_code == 302
    section = fresh(agreement).sections_by_kind["term"]
    assert section.mentor_agreed_at and not section.mentee_agreed_at


def test_agreeing_a_version_i_did_not_see_is_refused(client, agreement, mentor, mentee):
    demo.write_all(agreement, by=mentee, start=START)
    client_for(client, mentor)
    page = client.get(reverse("agreements:detail", args=[agreement.uuid]))
    assert 'name="revision" value="1"' in page.text
    # Meanwhile the mentee adds a topic, so the mentor's page is out of date.
    demo.write_section(agreement, "off_limits", by=mentee, start=START)
    url = agree_url(agreement, "off_limits")
    response = client.post(url, {"revision": 1}, follow=True)
    assert "Off-limits topics changed since you opened the page." in response.text
    assert fresh(agreement).sections_by_kind["off_limits"].mentor_agreed_at is None


def test_edit_through_the_form_clears_both_marks(client, agreement, mentor, mentee):
    demo.write_all(agreement, by=mentee, start=START)
    demo.agree_all(agreement)
    revision = fresh(agreement).sections_by_kind["term"].revision
    client_for(client, mentor)
    client.post(edit_url(agreement, "term"), term_data(start="2027-01-05", revision=revision))
    section = fresh(agreement).sections_by_kind["term"]
    assert not section.mentor_agreed_at and not section.mentee_agreed_at


def test_saving_unchanged_content_keeps_the_marks(client, agreement, mentor, mentee):
    demo.write_all(agreement, by=mentee, start=START)
    demo.agree_all(agreement)
    revision = fresh(agreement).sections_by_kind["term"].revision
    client_for(client, mentor)
    response = client.post(
        edit_url(agreement, "term"), term_data(exit_="2027-07-05", revision=revision), follow=True
    )
    assert "Nothing changed." in response.text
    assert fresh(agreement).sections_by_kind["term"].is_agreed


@pytest.fixture
def active(agreement, mentor, mentee):
    demo.write_all(agreement, by=mentor, start=START)
    demo.agree_all(agreement)
    demo.sign_as(agreement, mentor)
    demo.sign_as(agreement, mentee)
    return fresh(agreement)


def test_an_active_agreement_is_not_edited_but_proposed(mentor_client, active):
    """In force, the edit page only proposes: what it sends leaves the
    section as it is, as a proposal that starts an amendment once accepted."""
    url = edit_url(active, "term")
    page = mentor_client.get(url)
    assert page.status_code == 200
    assert "Save Term" not in page.text
    revision = active.sections_by_kind["term"].revision
    response = mentor_client.post(url, term_data(start="2027-02-01", revision=revision))
    assert response.status_code == 302
    after = fresh(active)
    assert after.term.start_date == START
    assert not after.is_amending
    assert after.sections_by_kind["term"].proposals.get().status == "open"


def test_an_agreement_under_notice_cannot_be_edited(mentor_client, mentee, active):
    fresh(active).give_notice(by=mentee)
    url = edit_url(active, "term")
    assert mentor_client.get(url).status_code == 403
    revision = active.sections_by_kind["term"].revision
    with assert_unchanged(active):
        response = mentor_client.post(url, term_data(start="2027-02-01", revision=revision))
    assert response.status_code == 403
    page = mentor_client.get(reverse("agreements:detail", args=[active.uuid]))
    assert "I agree to this section" not in page.text
    assert f"{edit_url(active, 'term')}" not in page.text


@pytest.mark.parametrize("goals", [1, 25])
def test_agreement_page_queries_do_not_grow_with_content(
    mentor_client, agreement, mentor, django_assert_max_num_queries, goals
):
    demo.write_all(agreement, by=mentor, start=START)
    for index in range(goals):
        agreement.goals.create(
            owner="mentee", description=f"Goal {index}", success_measure="Done",
            target_date=START + datetime.timedelta(days=index),
        )  # fmt: skip
        agreement.checkins.create(date=START + datetime.timedelta(days=index + 1))
    # 20: the content (its one-to-one sections with the agreement), the
    # signatures, the records since signing (check-ins, closing notes,
    # meetings, pauses, survey answers: empty for a draft, read all the same),
    # the sections' discussions (who read them when, the comments, the
    # proposals; the newest comments' text when there are any) and the menu's
    # count of what waits for the reader.
    with django_assert_max_num_queries(20):
        response = mentor_client.get(reverse("agreements:detail", args=[agreement.uuid]))
    assert response.status_code == 200
    assert f"Goal {goals - 1}" in response.text


def test_history_shows_every_change_with_who_and_when(client, agreement, mentor, mentee):
    demo.write_section(agreement, "term", by=mentor, start=START)
    demo.write_section(agreement, "term", by=mentee, start=START + datetime.timedelta(days=1))
    url = reverse("agreements:section_history", args=[agreement.uuid, "term"])
    response = client_for(client, mentor).get(url)
    assert response.status_code == 200
    revisions = [(revision.revision, diff) for revision, diff in response.context["changes"]]
    assert [revision for revision, _diff in revisions] == [2, 1]
    assert {"field": "Start date", "before": "2027-01-04", "after": "2027-01-05"} in revisions[0][1]
    assert "Milo Mentee" in response.text and "Maria Mentor" in response.text


def test_outsider_gets_404_for_history(client, agreement, outsider):
    url = reverse("agreements:section_history", args=[agreement.uuid, "term"])
    assert client_for(client, outsider).get(url).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("duration_minutes", 1, "Ensure this value is greater than or equal to 5."),
        ("duration_minutes", 601, "Ensure this value is less than or equal to 600."),
        ("notice_hours", 721, "Ensure this value is less than or equal to 720."),
        ("format", "", "This field is required."),
    ],
)
def test_schedule_values_out_of_range_are_refused(mentor_client, agreement, field, value, message):
    data = {
        "revision": 0, "frequency": "weekly", "duration_minutes": 60, "format": "video",
        "arranged_by": "mentee", "agenda_by": "both", "notice_hours": 24, field: value,
    }  # fmt: skip
    response = mentor_client.post(edit_url(agreement, "schedule"), data)
    assert response.status_code == 200
    assert message in response.text
    assert fresh(agreement).schedule.frequency == ""


def test_changes_are_shown_in_words_not_stored_values(client, agreement, mentor, mentee):
    demo.write_section(agreement, "schedule", by=mentor, start=START)
    url = reverse("agreements:section_history", args=[agreement.uuid, "schedule"])
    changes = client_for(client, mentee).get(url).context["changes"][0][1]
    assert {"field": "Frequency", "before": "—", "after": "Every two weeks"} in changes
    assert {"field": "Duration (minutes)", "before": "—", "after": "60"} in changes
    assert {"field": "Who sets the agenda", "before": "—", "after": "The mentee"} in changes


@pytest.mark.parametrize(
    "data",
    [
        {"revision": 0},  # no management form at all
        {"revision": "9" * 30, "goals-TOTAL_FORMS": "x", "goals-INITIAL_FORMS": "0"},
        {"revision": 0, "goals-TOTAL_FORMS": "1", "goals-INITIAL_FORMS": "0",
         "goals-0-owner": "boss", "goals-0-target_date": "2027-02-30",
         "goals-0-description": "A", "goals-0-success_measure": "B"},
        {"revision": 0, "goals-TOTAL_FORMS": "1", "goals-INITIAL_FORMS": "1",
         "goals-0-id": "999999", "goals-0-owner": "mentee", "goals-0-target_date": "2027-02-01",
         "goals-0-description": "A", "goals-0-success_measure": "B"},
    ],
)  # fmt: skip
def test_tampered_or_invalid_formset_is_a_form_error_not_a_500(mentor_client, agreement, data):
    response = mentor_client.post(edit_url(agreement, "goals"), data)
    assert response.status_code == 200
    assert 'class="alert alert-danger"' in response.text or "invalid-feedback" in response.text
    assert not agreement.goals.exists()


def test_saving_a_row_the_other_party_deleted_says_so(client, agreement, mentor, mentee):
    demo.write_all(agreement, by=mentor, start=START)
    goal = fresh(agreement).goals.all()[0]
    revision = fresh(agreement).sections_by_kind["goals"].revision
    data = formset_data(
        "goals",
        [{"id": goal.pk, "owner": "mentee", "description": "Mine", "success_measure": "M",
          "target_date": "2027-02-01"}],
        revision,
        initial=1,
    )  # fmt: skip
    goal.delete()  # the other party removed it meanwhile
    response = client_for(client, mentee).post(edit_url(agreement, "goals"), data)
    assert response.status_code == 200
    assert "This row was removed by the other party in the meantime." in response.text


def test_details_of_a_channel_not_chosen_are_not_kept(mentor_client, agreement):
    data = {
        "revision": 0, "mentor-by_email": "on", "mentor-email_details": "m@example.com",
        "mentor-phone_details": "HIDDEN CLAUSE", "mentor-response_time": "one_day",
    }  # fmt: skip
    assert mentor_client.post(edit_url(agreement, "contact"), data).status_code == 302
    agreement = fresh(agreement)
    assert agreement.contact_for("mentor").phone_details == ""
    assert "HIDDEN CLAUSE" not in str(agreement.canonical_content())


def test_swapping_two_checkin_dates_is_a_clear_error_not_a_500(mentor_client, agreement):
    mentor_client.post(edit_url(agreement, "term"), term_data())
    first, second = (
        agreement.checkins.create(date=datetime.date(2027, 2, 1)),
        agreement.checkins.create(date=datetime.date(2027, 3, 1)),
    )
    rows = [
        {"id": first.pk, "date": "2027-03-01", "focus": ""},
        {"id": second.pk, "date": "2027-02-01", "focus": ""},
    ]
    data = formset_data("checkins", rows, revision=0, initial=2)
    response = mentor_client.post(edit_url(agreement, "checkins"), data)
    assert response.status_code == 200
    assert "These changes clash with each other" in response.text
    assert list(agreement.checkins.values_list("date", flat=True)) == [
        datetime.date(2027, 2, 1),
        datetime.date(2027, 3, 1),
    ]


def test_moving_a_checkin_onto_a_deleted_ones_date_works(mentor_client, agreement):
    mentor_client.post(edit_url(agreement, "term"), term_data())
    first = agreement.checkins.create(date=datetime.date(2027, 2, 1))
    second = agreement.checkins.create(date=datetime.date(2027, 3, 1))
    rows = [
        {"id": first.pk, "date": "2027-03-01", "focus": "Moved"},
        {"id": second.pk, "date": "2027-03-01", "focus": "", "DELETE": "on"},
    ]
    data = formset_data("checkins", rows, revision=0, initial=2)
    assert mentor_client.post(edit_url(agreement, "checkins"), data).status_code == 302
    assert list(agreement.checkins.values_list("date", "focus")) == [
        (datetime.date(2027, 3, 1), "Moved")
    ]


def test_narrowing_the_term_past_a_goal_is_refused(mentor_client, agreement, mentor):
    demo.write_all(agreement, by=mentor, start=START)
    revision = fresh(agreement).sections_by_kind["term"].revision
    response = mentor_client.post(
        edit_url(agreement, "term"), term_data(exit_="2027-05-01", revision=revision)
    )
    assert "These goals&#x27; target dates would fall outside the new term" in response.text
    assert fresh(agreement).term.exit_date == datetime.date(2027, 7, 5)


def test_dates_are_checked_again_under_the_lock(agreement, mentor):
    """The other party narrowed the term after this check-in form was validated."""
    demo.write_section(agreement, "term", by=mentor, start=START)

    def save_late_checkin():
        agreement.checkins.create(date=datetime.date(2027, 12, 1))

    with assert_unchanged(agreement), pytest.raises(SectionInvalid, match="is outside the term"):
        fresh(agreement).save_section(
            "checkins", by=mentor, expected_revision=0, save=save_late_checkin
        )
    assert not agreement.checkins.exists()
    assert fresh(agreement).sections_by_kind["checkins"].revision == 0
