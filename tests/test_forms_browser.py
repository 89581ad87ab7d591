"""The "Add another" button of the section formsets (static/js/formset.js), in
real headless Chromium: a row is added in place, focused, numbered and saved,
and the button gives way to a note at the most a section holds."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from agreements import demo
from tests.helpers import START, fresh
from tests.test_browser import Person


@pytest.mark.browser
def test_add_another_adds_a_row_in_place_and_it_is_saved(chromium, live_server, agreement, mentor):
    demo.write_all(agreement, by=mentor, start=START)
    goals = agreement.goals.count()
    maria = Person(chromium, live_server, mentor, "Mentor")
    maria.log_in()
    page = maria.page
    page.goto(live_server.url + reverse("agreements:section_edit", args=[agreement.uuid, "goals"]))
    total = page.locator("#id_goals-TOTAL_FORMS")
    rows = total.input_value()
    expect(page.locator(".formset-row")).to_have_count(int(rows))

    page.get_by_role("button", name="Add another goal").click()

    # The new row is on the page, counted, and has the focus; nothing left the page.
    expect(page.locator(".formset-row")).to_have_count(int(rows) + 1)
    assert total.input_value() == str(int(rows) + 1)
    new = f"#id_goals-{rows}-owner"
    expect(page.locator(new)).to_be_focused()
    expect(page.locator(".formset-row").last.locator("legend")).to_have_text("New goal")
    assert "__prefix__" not in page.locator(".formset-row").last.inner_html()

    row = page.locator(".formset-row").last
    row.get_by_label("Whose goal").select_option(label="Mentor")
    row.get_by_label("Goal", exact=True).fill("Added in place")
    row.get_by_label("How success is measured").fill("It is saved")
    row.get_by_label("Target date").fill("8 Apr 2027")
    page.get_by_role("button", name="Save goals").click()
    expect(page.get_by_role("alert")).to_contain_text("Goals saved.")
    saved = fresh(agreement).goals.get(description="Added in place")
    assert saved.target_date.isoformat() == "2027-04-08"
    assert fresh(agreement).goals.count() == goals + 1
    assert maria.failures == []


@pytest.mark.browser
def test_add_another_stops_at_the_most_a_section_holds(chromium, live_server, agreement, mentor):
    for number in range(28):
        agreement.off_limits_topics.create(topic=f"Topic {number}", rule="never")
    maria = Person(chromium, live_server, mentor, "Mentor")
    maria.log_in()
    page = maria.page
    url = reverse("agreements:section_edit", args=[agreement.uuid, "off_limits"])
    page.goto(live_server.url + url)
    # 28 rows and the empty one: one more reaches the 30 the section holds.
    button = page.get_by_role("button", name="Add another topic")
    button.click()
    expect(button).to_be_hidden()
    expect(page.get_by_text("This section holds at most 30 topics.")).to_be_visible()
    assert page.locator("#id_topics-TOTAL_FORMS").input_value() == "30"
    assert re.search(r"topics-29-topic", page.content())
    assert maria.failures == []
