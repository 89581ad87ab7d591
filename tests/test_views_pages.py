"""The public pages: how this works, and the accessibility statement."""

import io
import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from pypdf import PdfReader

from agreements.pdf import draft_html, draft_pdf
from tests.helpers import client_for, fresh, make_ready

PAGES = ["how_it_works", "accessibility"]


class Headings(HTMLParser):
    """The levels of the headings inside <main>, in document order."""

    def __init__(self):
        super().__init__()
        self.levels, self.in_main = [], False

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.in_main = True
        elif self.in_main and re.fullmatch(r"h[1-6]", tag):
            self.levels.append(int(tag[1]))

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False


def heading_levels(html):
    parser = Headings()
    parser.feed(html)
    return parser.levels


@pytest.mark.parametrize("name", PAGES)
def test_public_pages_answer_everyone(client, mentor, name):
    url = reverse(name)
    assert client.get(url).status_code == 200
    client_for(client, mentor)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("name", PAGES)
def test_headings_go_in_order(client, name):
    # Without the db fixture: a visitor's page asks the database nothing.
    levels = heading_levels(client.get(reverse(name)).text)
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(later - earlier <= 1 for earlier, later in zip(levels, levels[1:], strict=False))


def test_how_it_works_explains_the_steps_the_privacy_and_the_program(client):
    page = client.get(reverse("how_it_works")).text
    steps = ["Write it together", "Agree, section by section", "Sign.", "sealed PDF"]
    steps += ["Check in.", "Change it when you need to.", "End it."]
    positions = [page.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "What stays between the two of you" in page
    assert "What your program sees" in page
    assert "only once both of you agree" in page
    assert f'href="{reverse("accessibility")}"' in page


def test_the_home_page_and_the_login_page_link_to_how_it_works(client, mentor):
    link = f'href="{reverse("how_it_works")}"'
    assert link in client.get(reverse("login")).text
    client_for(client, mentor)
    assert link in client.get(reverse("agreements:home")).text


def test_the_accessibility_statement(client, settings):
    settings.ACCESSIBILITY_CONTACT = "access@example.org"
    page = client.get(reverse("accessibility")).text
    assert "WCAG) 2.2</a>, level AA" in page
    for tested in ("axe-core", "390 pixels wide", "keyboard alone"):
        assert tested in page
    for limit in ("PDF/UA", "Django admin"):
        assert limit in page
    assert '<a href="mailto:access@example.org">access@example.org</a>' in page


def test_the_statement_is_true_that_pdfs_are_not_tagged(agreement):
    """The statement says the PDFs are not tagged: a tagged one (with a
    structure tree) should be noticed here, and the statement changed."""
    pdf = draft_pdf(draft_html(fresh(make_ready(agreement))))
    root = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert "/StructTreeRoot" not in root
    assert "/MarkInfo" not in root
