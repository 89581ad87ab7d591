"""Tables on narrow screens and the program dashboard's layout: every cell of a
stacking table names its column, the dashboard lists each pairing once, as a
row whose cells name their columns, and in a real browser the rows stack as
cards on a phone while the dashboard's table fits a desktop without sideways
scrolling."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements import dashboard
from agreements.pdf import draft_html
from tests.helpers import PASSWORD, client_for, fresh, make_active
from tests.test_browser import Person
from tests.test_dashboard import (
    dashboard_url,
    flagged,  # noqa: F401 - a fixture
)


class StackTables(HTMLParser):
    """Each table of the given class (stack-table): its headers (their
    accessible names), and each row's cells as (data-label, role)."""

    def __init__(self, css_class):
        super().__init__()
        self.css_class, self.tables, self._in = css_class, [], False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and self.css_class in (attrs.get("class") or "").split():
            self._in = True
            self.tables.append({"role": attrs.get("role"), "headers": [], "rows": []})
        elif not self._in:
            return
        elif tag == "th":
            self.tables[-1]["headers"].append(attrs.get("aria-label", ""))
            self._header = "aria-label" not in attrs
        elif tag == "tr" and self.tables[-1]["headers"]:
            self.tables[-1]["rows"].append([])
        elif tag == "td":
            self.tables[-1]["rows"][-1].append((attrs.get("data-label"), attrs.get("role")))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in = False
        elif tag == "th":
            self._header = False

    def handle_data(self, data):
        if self._in and getattr(self, "_header", False):
            self.tables[-1]["headers"][-1] += data.strip()


def stack_tables(html, css_class="stack-table"):
    parser = StackTables(css_class)
    parser.feed(html)
    return parser.tables


def assert_labelled(tables):
    assert tables
    for table in tables:
        assert table["role"] == "table"
        assert table["rows"]
        for row in table["rows"]:
            assert row == [(header, "cell") for header in table["headers"]]


def test_the_agreement_pages_tables_name_each_cell_s_column(client, active, mentor):
    client_for(client, mentor)
    page = client.get(reverse("agreements:detail", args=[active.uuid])).text
    tables = stack_tables(page)
    # The promises-kept chart's table, then the sections'.
    assert [table["headers"][0] for table in tables] == ["Month", "Whose goal", "Date", "Topic"]
    assert_labelled(tables)


def test_the_audit_trail_and_the_comparison_name_each_cell_s_column(client, active, mentor):
    client_for(client, mentor)
    trail = client.get(reverse("agreements:trail", args=[active.uuid])).text
    assert_labelled(stack_tables(trail))
    active.start_amendment(by=mentor)
    goal = fresh(active).goals.first()
    goal.description += " Then mentor a colleague."
    goal.save()
    compare = client.get(reverse("agreements:version_compare", args=[active.uuid])).text
    changes, *sides = stack_tables(compare)
    assert changes["headers"] == ["What", "Version 1", "Amendment draft"]
    assert_labelled([changes, *sides])


def test_the_pdf_keeps_its_tables(active):
    html = draft_html(fresh(active))
    assert_labelled(stack_tables(html))
    assert 'class="table content-table stack-table"' in html


def test_sort_menu_offers_every_column_both_ways():
    offered = [value for value, _label in dashboard.SORT_CHOICES]
    assert sorted(offered) == sorted(
        [key for key in dashboard.SORTS] + [f"-{key}" for key in dashboard.SORTS]
    )
    assert offered[0] == dashboard.DEFAULT_SORT


def test_dashboard_shows_each_pairing_once_in_a_row_that_names_its_columns(
    client,
    program,
    program_admin,
    flagged,  # noqa: F811
):
    client_for(client, program_admin)
    page = client.get(dashboard_url(program, sort="exit")).text
    [table] = stack_tables(page, "dashboard-table")
    assert table["headers"] == [
        "Mentor",
        "Mentee",
        "Status",
        "Flags",
        "Created",
        "Start",
        "Exit",
        "Next check-in",
        "Last activity",
    ]
    assert len(table["rows"]) == 4
    assert_labelled([table])
    # Once: no second copy of the rows for narrow screens.
    assert page.count(flagged["ending"].mentor.email) == 1
    rows = page.split('<tbody role="rowgroup">')[1].split("</tbody>")[0]
    for label in ("Unsigned 14+ days", "Check-in overdue", "Exit within 30 days"):
        assert rows.count(label) == 1
    assert rows.count("1 overdue") == 1
    # A row without flags says so to a screen reader, and shows no empty label.
    assert page.count('class="flags no-flags"') == 1
    assert '<option value="exit" selected>Exit, soonest first</option>' in page
    assert 'name="sort"' in page and 'type="hidden" name="sort"' not in page


def test_an_empty_dashboard_says_so_once(client, program, program_admin):
    client_for(client, program_admin)
    page = client.get(dashboard_url(program)).text
    assert page.count("No pairings yet.") == 1
    assert "dashboard-table" not in page


@pytest.fixture
def signed(agreement):
    # Made before the browser starts: sealing cannot run inside Playwright's
    # event loop.
    return make_active(agreement, start=timezone.localdate())


@pytest.mark.browser
def test_rows_stack_on_a_phone_and_the_dashboard_fits_a_desktop(
    signed,
    flagged,  # noqa: F811
    chromium,
    live_server,
    program,
    program_admin,
    mentor,
):
    agreement = signed
    person = Person(chromium, live_server, mentor, "Mentor")
    person.log_in()
    page = person.page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + reverse("agreements:detail", args=[agreement.uuid]))
    goals = page.locator("#section-goals table")
    assert goals.locator("tbody tr").first.evaluate("e => getComputedStyle(e).display") == "block"
    assert goals.evaluate("e => e.getBoundingClientRect().right") <= 390
    # Still a table to a screen reader, headers and all.
    assert goals.get_by_role("columnheader", name="Whose goal").count() == 1
    assert goals.get_by_role("cell", name="Mentee", exact=True).count() >= 1

    admin = Person(chromium, live_server, program_admin, "Admin")
    board = admin.page
    board.goto(live_server.url + reverse("login"))
    board.locator("input[name=login]").fill(program_admin.email)
    board.locator("input[name=password]").fill(PASSWORD)
    board.get_by_role("button", name="Log in", exact=True).click()
    board.wait_for_load_state()
    board.goto(live_server.url + dashboard_url(program))
    box = board.get_by_role("region", name="Pairings table")
    rows = box.locator("tbody tr")
    sort_link = box.locator("thead a").first
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth")
    assert rows.first.evaluate("e => getComputedStyle(e).display") == "table-row"
    assert sort_link.is_visible()
    board.set_viewport_size({"width": 390, "height": 844})
    # Each pairing a card, inside the phone's width, each cell beside its column's name.
    assert rows.count() == 5
    assert rows.first.evaluate("e => getComputedStyle(e).display") == "block"
    assert rows.first.evaluate("e => e.getBoundingClientRect().right") <= 390
    assert (
        rows.first.locator("td").first.evaluate("e => getComputedStyle(e, '::before').content")
        == '"Mentor" / ""'
    )
    assert board.evaluate("document.documentElement.scrollWidth <= innerWidth")
    # Still a table to a screen reader; the hidden headers' links leave the tab order.
    assert box.get_by_role("columnheader", name="Next check-in").count() == 1
    assert not sort_link.is_visible()
    box.focus()
    board.keyboard.press("Tab")
    assert board.evaluate("document.activeElement.closest('tbody') !== null")
    assert person.failures == admin.failures == []
