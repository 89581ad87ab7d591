"""A pair takes an agreement from draft to signed with the keyboard alone.

Every step is a Tab, an Enter, a Space or typed text: no click, no
``fill``, no ``focus()`` from the test. A control that cannot be reached by
Tab, a focus that lands nowhere after a move, or a form that needs a mouse
fails it.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from agreements import demo
from agreements.models import Agreement, Section
from tests.helpers import BROWSER_WAIT_MS, PASSWORD, START, fresh

pytestmark = pytest.mark.browser

# More Tabs than the longest page needs; reaching it means a control is missing.
MAX_TABS = 250

FOCUSED = """() => {
    const el = document.activeElement;
    const section = el.closest("section[id^=section-]");
    return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        name: el.getAttribute("name") || "",
        text: (el.innerText || el.value || "").trim(),
        label: el.labels && el.labels.length ? el.labels[0].innerText.trim() : "",
        section: section ? section.id : "",
    };
}"""


def tab_to(page, want, description):
    """Press Tab until the focused element matches ``want`` (a function of
    what FOCUSED reports)."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        if want(page.evaluate(FOCUSED)):
            return
    raise AssertionError(f"Tab never reached {description} on {page.url}")


def labelled(text):
    return lambda focused: focused["label"].startswith(text)


def named(text):
    return lambda focused: focused["text"] == text


def type_into(page, label, text):
    tab_to(page, labelled(label), f"the field “{label}”")
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def log_in(page, base, user):
    page.goto(base + reverse("login"))
    type_into(page, "Email", user.email)
    type_into(page, "Password", PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My agreements")).to_be_visible()


def agree_to_every_section(page):
    for kind, label in Section.Kind.choices:
        tab_to(
            page,
            lambda f, kind=kind: (
                f["section"] == f"section-{kind}" and f["text"] == "I agree to this section"
            ),
            f"“I agree” on {label}",
        )
        page.keyboard.press("Enter")
        # The confirmation is shown in the section, and has the focus.
        message = page.locator(f"#section-{kind} [data-message]")
        expect(message).to_have_text(f"You agreed to “{label}”.")
        expect(message).to_be_focused()


def sign(page, user):
    tab_to(page, named("Sign the agreement"), "the link to sign")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Sign the agreement")).to_be_visible()
    type_into(page, "Type your full name", user.full_name)
    tab_to(page, labelled("I have read this mentoring agreement in full"), "the consent box")
    page.keyboard.press("Space")
    type_into(page, "Your password", PASSWORD)
    page.keyboard.press("Enter")
    message = page.locator("[data-message]")
    # The second signature seals the PDF before the page answers (the tests
    # run tasks in the request): BROWSER_WAIT_MS allows for it.
    expect(message).to_have_text("You signed the agreement.")
    expect(message).to_be_focused()


def test_a_pair_drafts_agrees_and_signs_with_the_keyboard_alone(
    chromium, live_server, agreement, mentor, mentee
):
    # Every section but the term is written already; the mentor writes that one.
    demo.write_all(agreement, by=mentee, start=START)
    term = fresh(agreement).term
    term.exit_date = None
    term.save()
    Section.objects.filter(agreement=agreement, kind=Section.Kind.TERM).update(
        mentor_agreed_at=None, mentee_agreed_at=None
    )
    pages = {}
    for user in (mentor, mentee):
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
        context.set_default_timeout(BROWSER_WAIT_MS)
        pages[user] = context.new_page()
        log_in(pages[user], live_server.url, user)

    page = pages[mentor]
    # The skip link is the first stop, and takes focus past the menu.
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    tab_to(page, named("Open the agreement"), "the agreement")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Mentoring agreement")).to_be_visible()

    tab_to(page, lambda f: f["section"] == "section-term" and f["text"] == "Edit", "Edit term")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Term and exit")).to_be_visible()
    type_into(page, "Exit date", "30 Jun 2027")
    tab_to(page, named("Save term and exit"), "the save button")
    page.keyboard.press("Enter")
    message = page.locator("#section-term [data-message]")
    expect(message).to_contain_text("Term and exit saved.")
    expect(message).to_be_focused()
    assert fresh(agreement).term.exit_date.isoformat() == "2027-06-30"

    for user in (mentor, mentee):
        page = pages[user]
        page.goto(live_server.url + reverse("agreements:detail", args=[agreement.uuid]))
        agree_to_every_section(page)
    for user in (mentor, mentee):
        page = pages[user]
        page.goto(live_server.url + reverse("agreements:detail", args=[agreement.uuid]))
        sign(page, user)

    assert fresh(agreement).status == Agreement.Status.ACTIVE
    for page in pages.values():
        page.context.close()
