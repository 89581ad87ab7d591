"""The first visit's screens in a real browser, in the states the matrix's
harness (tests/test_screens.py) does not reach: the Sent emails page with an
invitation in it and one email opened, and the home page of someone who runs
a program and has an agreement of their own. Each, at 390 and 1280 px, does
not scroll sideways and has no axe-core violation; screenshots go to
test-artifacts/screens/demo-*.png."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import expect

from agreements import mailbox
from agreements.models import User
from tests.helpers import PASSWORD, invite_newcomers, make_agreement
from tests.test_browser import ARTIFACTS, Person
from tests.test_screens import AXE_OPTIONS, WIDTHS

pytestmark = pytest.mark.browser

SCREENS = ARTIFACTS / "screens"


def check(person, name):
    """The page as it is, at each width: (what is wrong)."""
    problems = []
    page = person.page
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        scroll_width, inner_width = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth]"
        )
        if scroll_width > inner_width:
            problems.append(f"{name}-{width}: scrolls sideways, {scroll_width} > {inner_width}")
        for violation in Axe().run(page, options=AXE_OPTIONS).response["violations"]:
            targets = [node["target"] for node in violation["nodes"]]
            problems.append(f"{name}-{width}: axe {violation['id']} on {targets[:3]}")
        page.screenshot(path=SCREENS / f"demo-{name}-{width}.png", full_page=True)
    return problems


def test_the_sent_emails_page_and_an_admins_home_in_the_browser(
    chromium,
    live_server,
    settings,
    tmp_path,
    program,
    program_admin,
    mentor,
    django_capture_on_commit_callbacks,
):
    SCREENS.mkdir(parents=True, exist_ok=True)
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = mailbox.FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    with django_capture_on_commit_callbacks(execute=True):
        invite_newcomers(program, program_admin)
    root = User.objects.create_superuser("root@example.com", PASSWORD, full_name="Root")
    problems = []

    superuser = Person(chromium, live_server, root, "Superuser")
    superuser.log_in()
    superuser.page.goto(live_server.url + reverse("agreements:sent_emails"))
    problems += check(superuser, "sent-emails")
    superuser.page.get_by_role("link", name="You are invited").first.click()
    link = superuser.page.get_by_role("link", name="/accounts/invitation/")
    expect(link).to_be_visible()
    problems += check(superuser, "sent-email")

    # The admin of the program, also mentored in it: the program comes first.
    make_agreement(program, mentor, program_admin, program_admin)
    admin = Person(chromium, live_server, program_admin, "Admin")
    admin.log_in()
    expect(admin.page.get_by_role("heading", name="Programs you run")).to_be_visible()
    problems += check(admin, "home-admin-and-mentee")

    for name in ("how_it_works", "accessibility"):
        superuser.page.goto(live_server.url + reverse(name))
        problems += check(superuser, name.replace("_", "-"))
    assert problems == []
    assert superuser.failures == admin.failures == []
