"""Every screen, for every hand: each page the app shows, as each role sees it,
at a phone's width and a desktop's, in real headless Chromium. This harness is
what keeps the accessibility statement true.

What it opens:
- in each state of the agreement (draft, awaiting, active, ended), as the
  mentor, the mentee and the program admin, every route of the authorization
  matrix (tests/test_authorization.py) that answers that role 200 with an HTML
  page and shows the agreement: the pair's pages, the program's pages, and the
  pair's home and calendar;
- once (with the agreement in force), every other such route, as each role
  that sees pages (mentor, mentee, program admin, superuser, anonymous); the
  public pages as anonymous and as the mentor, for both menus;
- pages that only a POST or a link reaches, and the error states: a sign form
  sent with a wrong password, then the signature; a section saved over the
  other party's newer edit (409) and the save before it; a CSV import with
  problems in its lines, one refused whole, one ready and one created; an
  empty new-pairing form; a failed login and the lockout page; the verify
  page's three answers; the invitation and password-reset forms; the 404 page.

Every route added to the matrix is opened here without more code. Each page,
at 390 x 844 and at 1280 x 900:
1. does not scroll sideways: scrollWidth <= innerWidth;
2. has no axe-core violation at the wcag2a, wcag2aa, wcag21a, wcag21aa and
   wcag22aa tags (the axe-core bundled by axe-playwright-python, injected by
   Playwright's evaluate, which the page's Content-Security-Policy does not
   apply to: the policy stays on, and is checked to be sent, for the app's
   own scripts);
3. loads without a failed request or a console error (a CSP refusal is one);
4. is saved, to be looked at, as
   test-artifacts/screens/<state>-<role>-<page>-<width>.png ("any" for the
   pages opened once); each test also writes <test>.json there with every
   violation found (rule, impact, nodes, axe's summary) and the boxes that
   scroll sideways inside the page (allowed, but what they hide is out of
   sight).

A test collects every problem it meets and fails once at the end with all of
them, each naming the page, the width, and for axe the rule, its impact and
the nodes, so that one run shows everything.

Every language, at no extra cost: each role's browser reads the app in the
language of the switcher's cookie (settings.LANGUAGE_COOKIE_NAME), taken from
ROTATION by row (the state; "any" for the pages opened once; "results" for the
error and result pages) and role. A cell of two or more languages is taken in
turn, page by page (the pages at both widths in one language). Each page's
<html lang> and dir are checked to be the language's, so the rotation cannot
silently do nothing; the language is saved with each page in <test>.json.

    row       mentor        mentee        program_admin  anonymous  superuser
    draft     de            en-gb         ar             -          -
    awaiting  en-gb         ar            de             -          -
    active    en-gb, de     ar, en-gb     en-gb          -          -
    ended     pt-br         es            es             -          -
    any       en-gb, fr     de            pt-br, fr      all six    all six
    results   fr            pt-br         ar             -          -

("all six": en-gb, fr, es, de, pt-br, ar in turn, the superuser's from de.)
So the pair, the program admin, and anonymous and the superuser each see
every language; German and Arabic the pair's pages (the section forms in a
draft, signing, every page of an agreement in force) and the program's
pages, at 390 px as at 1280; and about a third of the pages stay in English,
the language the words are written in. test_every_language_is_seen_by_each_kind
checks this against settings.LANGUAGES, so a language added there must be
added here. Run:
    .venv/bin/pytest -n0 -p no:cacheprovider tests/test_screens.py
"""

import itertools
import json
import re
from urllib.parse import urlsplit

import pytest
from allauth.mfa.models import Authenticator
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from tests.helpers import PASSWORD
from tests.test_authorization import (
    ALIASES,
    MATRIX,
    OK,
    PARTIES,
    STATES,
    expected,
    url_for,
    users,
    world,
)
from tests.test_browser import ARTIFACTS, Person

pytestmark = pytest.mark.browser

SCREENS = ARTIFACTS / "screens"
WIDTHS = {390: {"width": 390, "height": 844}, 1280: {"width": 1280, "height": 900}}
ROLES = ["anonymous", "mentor", "mentee", "program_admin", "superuser"]
AXE = Axe()
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
    # Only what fails: the passes would make every answer many times larger.
    "resultTypes": ["violations"],
}
# Pages of anyone signed in that list the pair's agreements: checked in each state.
LISTS_THE_AGREEMENT = {"agreements:home", "agreements:calendar"}
WRONG_PASSWORD = "not the password"
EVERY = ("en-gb", "fr", "es", "de", "pt-br", "ar")
FROM_DE = EVERY[3:] + EVERY[:3]
# The table of the module's docstring; None: the role opens no page in that row.
# fmt: off
ROTATION = {
    #           anonymous  mentor           mentee           program_admin    superuser
    "draft":    (None,     "de",            "en-gb",         "ar",            None),
    "awaiting": (None,     "en-gb",         "ar",            "de",            None),
    "active":   (None,     ("en-gb", "de"), ("ar", "en-gb"), "en-gb",         None),
    "ended":    (None,     "pt-br",         "es",            "es",            None),
    "any":      (EVERY,    ("en-gb", "fr"), "de",            ("pt-br", "fr"), FROM_DE),
    "results":  (None,     "fr",            "pt-br",         "ar",            None),
}
# fmt: on
KINDS = {
    "pair": {"mentor", "mentee"},
    "admin": {"program_admin"},
    "anonymous and superuser": {"anonymous", "superuser"},
}
SCROLL_BOXES = """() => [...document.querySelectorAll("body *")]
    .filter((box) => ["auto", "scroll"].includes(getComputedStyle(box).overflowX)
        && box.scrollWidth > box.clientWidth + 1)
    .map((box) => `${box.tagName.toLowerCase()}${box.id ? "#" + box.id : ""}`
        + [...box.classList].map((name) => "." + name).join("")
        + ` ${box.scrollWidth} > ${box.clientWidth}`)"""


def changes_with_state(name, role):
    access, _answers = MATRIX[name]
    if access in {"party", "admin"}:
        return True
    return name in LISTS_THE_AGREEMENT and role in PARTIES


def pages(role, state, *, with_state):
    """The matrix's routes that answer ``role`` 200 in ``state``."""
    for name in sorted(MATRIX):
        if expected(name, role, state) != OK:
            continue
        if changes_with_state(name, role) != with_state:
            continue
        # Names kept for allauth's links to pages that have another name here.
        if name in ALIASES:
            continue
        # Public pages look the same to everyone signed in: the mentor stands for them.
        if MATRIX[name][0] == "public" and role not in {"anonymous", "mentor"}:
            continue
        yield name


def languages(row, role):
    """The languages ``role`` reads in, in turn, in ``row`` of ROTATION."""
    cell = ROTATION[row][ROLES.index(role)]
    if cell is None:
        return ()
    return (cell,) if isinstance(cell, str) else cell


def short(text, limit=70):
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Screens:
    """One browser context per role, signed in by a session cookie; the
    problems found on every page, and axe's findings to save beside the
    screenshots."""

    def __init__(self, request, state, row=None):
        SCREENS.mkdir(parents=True, exist_ok=True)
        # Started after the test's rows are made: Playwright runs an event loop
        # in this thread, and sealing a signed PDF (run at once in the tests)
        # cannot start its own inside one.
        self.browser = request.getfixturevalue("chromium")
        self.live_server = request.getfixturevalue("live_server")
        self.state = state
        self.row = row or state
        self.people = {}
        self.turns = {}
        self.language = {}
        self.problems = []
        self.found = {}

    def person(self, role):
        if role not in self.people:
            user = None if role == "anonymous" else users()[role]
            person = Person(self.browser, self.live_server, user, role)
            if user:
                # Signed in as a form would, without a round of the login page each.
                client = Client()
                client.force_login(user)
                session = client.cookies[settings.SESSION_COOKIE_NAME].value
                person.context.add_cookies(
                    [
                        {
                            "name": settings.SESSION_COOKIE_NAME,
                            "value": session,
                            "url": self.live_server.url,
                        }
                    ]
                )
            self.people[role] = person
            turns = languages(self.row, role)
            assert turns, f"ROTATION gives {role} no language in {self.row!r}"
            self.turns[role] = itertools.cycle(turns)
            self.next_language(role)
        return self.people[role]

    def next_language(self, role):
        """Switches ``role`` to its next language, as the switcher's cookie would."""
        self.language[role] = next(self.turns[role])
        self.people[role].context.add_cookies(
            [
                {
                    "name": settings.LANGUAGE_COOKIE_NAME,
                    "value": self.language[role],
                    "url": self.live_server.url,
                }
            ]
        )

    def visit(self, role, url, name, status=OK):
        """Opens ``url`` at each width and checks it; ``status`` is the
        answer expected at the end of any redirects."""
        person = self.person(role)
        if not self._is_html(person, url):
            return
        for width, viewport in WIDTHS.items():
            person.page.set_viewport_size(viewport)
            response = person.page.goto(self.live_server.url + url)
            if response.status != status:
                self.problems.append(
                    f"{self.label(role, name, width)}: {url} answered {response.status}, "
                    f"expected {status}"
                )
            # axe runs with the app's policy on, as a visitor's browser has it.
            if "content-security-policy" not in response.headers:
                self.problems.append(f"{self.label(role, name, width)}: no CSP header")
            self.inspect(role, name, width, page=person.page, status=response.status)
        if len(languages(self.row, role)) > 1:
            self.next_language(role)

    def here(self, role, name, status, *, want=OK, page=None):
        """Checks the page as it is now (the result of a POST, answered
        ``status`` where ``want`` was expected) at each width, resizing the
        window rather than sending the form again."""
        page = page or self.person(role).page
        if status != want:
            self.problems.append(f"{self.label(role, name)}: answered {status}, not {want}")
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            self.inspect(role, name, width, page=page, status=status)

    def label(self, role, name, width=None):
        return f"{self.state}-{role}-{name}" + (f"-{width}" if width else "")

    def inspect(self, role, name, width, *, page, status):
        label = self.label(role, name, width)
        language = self.language[role]
        scroll_width, inner_width, lang, direction = page.evaluate(
            "() => [document.documentElement.scrollWidth, window.innerWidth,"
            " document.documentElement.lang, document.documentElement.dir]"
        )
        want = (language, "rtl" if translation.get_language_info(language)["bidi"] else "ltr")
        if (lang, direction) != want:
            self.problems.append(
                f"{label}: <html lang={lang!r} dir={direction!r}>, expected "
                f"lang={want[0]!r} dir={want[1]!r}"
            )
        if scroll_width > inner_width:
            self.problems.append(
                f"{label}: scrolls sideways, scrollWidth {scroll_width} > innerWidth {inner_width}"
            )
        # Boxes that scroll sideways inside the page (a wide table in a
        # .table-responsive) are allowed, but noted for whoever looks at the
        # screenshots: a column there is out of sight.
        scroll_boxes = page.evaluate(SCROLL_BOXES)
        violations = AXE.run(page, options=AXE_OPTIONS).response["violations"]
        for violation in violations:
            targets = [" >> ".join(map(str, node["target"])) for node in violation["nodes"]]
            more = f" and {len(targets) - 3} more" if len(targets) > 3 else ""
            self.problems.append(
                f"{label}: axe {violation['id']} ({violation['impact']}): "
                f"{violation['help']}; on {', '.join(short(t) for t in targets[:3])}{more}"
            )
        self.found[label] = {
            "url": urlsplit(page.url).path,
            "language": lang,
            "scroll_width": scroll_width,
            "inner_width": inner_width,
            "scroll_boxes": scroll_boxes,
            "violations": [
                {
                    "id": violation["id"],
                    "impact": violation["impact"],
                    "help": violation["help"],
                    "nodes": [
                        {
                            "target": node["target"],
                            "html": short(node["html"], 200),
                            "summary": node.get("failureSummary", ""),
                        }
                        for node in violation["nodes"]
                    ],
                }
                for violation in violations
            ],
        }
        page.screenshot(path=SCREENS / f"{label}.png", full_page=True)
        self._note_failures(role, label, page, status)

    def _is_html(self, person, url):
        # Asked first through the context (same cookies), without following
        # redirects: a file (.ics, .csv, .pem, PDF) would start a download.
        answer = person.context.request.get(self.live_server.url + url, max_redirects=0)
        return answer.headers.get("content-type", "").startswith("text/html")

    def _note_failures(self, role, label, page, status):
        person = self.person(role)

        # The page's own answer, when it is meant to be an error page, as the
        # response and as the console's line about it.
        def expected(failure):
            return failure == f"{status} {page.url}" or (
                failure.startswith(
                    f"Failed to load resource: the server responded with a status of {status} "
                )
                and failure.endswith(f"({page.url})")
            )

        self.problems.extend(
            f"{label}: {failure}" for failure in person.failures if not expected(failure)
        )
        person.failures.clear()

    def finish(self, test_name):
        name = re.sub(r"[^\w-]+", "-", test_name).strip("-")
        (SCREENS / f"{name}.json").write_text(json.dumps(self.found, indent=1))
        for person in self.people.values():
            person.context.close()
        assert self.problems == [], f"{len(self.problems)} problems:\n" + "\n".join(self.problems)


def submit(page, form):
    """Sends ``form`` (a locator) with its submit button; the final answer's status."""
    with page.expect_navigation() as navigation:
        form.locator("button[type=submit]").first.click()
    return navigation.value.status


@pytest.mark.parametrize("state", STATES)
def test_pages_that_show_the_agreement_in_each_state(live_server, request, state):
    # live_server: the rows made here are committed, for its thread to see.
    w = world(request, state)
    screens = Screens(request, state)
    for role in ROLES:
        for name in pages(role, state, with_state=True):
            screens.visit(role, url_for(name, w), name.split(":")[-1])
    screens.finish(request.node.name)


def test_pages_that_do_not_change_with_the_state(live_server, request):
    w = world(request, "active")
    agreement = w["agreement"]
    screens = Screens(request, "any")
    # Anonymous first: signing the others in would spoil the mentor's reset link.
    for role in ROLES:
        for name in pages(role, "active", with_state=False):
            screens.visit(role, url_for(name, w), name.split(":")[-1])

    # Reached by a link from an email: the newcomer's form to choose a password.
    screens.visit("anonymous", url_for("invitation_accept", w), "invitation-form")
    # The verify page's answers: not a fingerprint, unknown, and a version on record.
    verify = reverse("verify")
    screens.visit("anonymous", f"{verify}?sha256=not-a-hash", "verify-bad-hash")
    screens.visit("anonymous", f"{verify}?sha256={'0' * 64}", "verify-unknown")
    version = agreement.version_in_force
    screens.visit("anonymous", f"{verify}?sha256={version.content_hash}", "verify-found")
    # Outsiders get 404, and so does a page that does not exist.
    screens.visit("superuser", url_for("agreements:detail", w), "404", status=404)
    screens.visit("mentor", "/no-such-page/", "404", status=404)

    # A failed login, then the lockout page once the limit is reached.
    page = screens.person("anonymous").page
    page.goto(live_server.url + reverse("login"))
    form = page.locator("main form[method=post]")
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        form.locator("input[name=login]").fill(agreement.mentee.email)
        form.locator("input[name=password]").fill(WRONG_PASSWORD)
        status = submit(page, form)
        if attempt == 0:
            screens.here("anonymous", "login-failed", status)
    # django-axes answers a locked-out login with 429 Too Many Requests.
    screens.here("anonymous", "login-locked-out", status, want=429)

    # With an authenticator app, the login's next step asks for its code.
    other_mentor = users()["other_mentor"]
    Authenticator.objects.create(
        user=other_mentor, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    page.goto(live_server.url + reverse("login"))
    form.locator("input[name=login]").fill(other_mentor.email)
    form.locator("input[name=password]").fill(PASSWORD)
    screens.here("anonymous", "mfa-authenticate", submit(page, form))
    # Adding one: the password again, then the app's QR code and secret.
    page = screens.person("mentor").page
    page.goto(live_server.url + reverse("mfa_activate_totp"))
    form = page.locator("main form[method=post]")
    screens.here("mentor", "reauthenticate", OK)
    form.locator("input[name=password]").fill(PASSWORD)
    screens.here("mentor", "totp-activate", submit(page, form))
    screens.finish(request.node.name)


def test_error_and_result_pages(live_server, request):
    w = world(request, "awaiting")
    agreement, program = w["agreement"], w["program"]
    screens = Screens(request, "awaiting", row="results")

    # The mentor signs with a wrong password, then signs.
    page = screens.person("mentor").page
    page.goto(live_server.url + reverse("agreements:sign", args=[agreement.uuid]))
    form = page.locator("main form[method=post]")
    form.locator("input[name=full_name]").fill(agreement.mentor.full_name)
    form.locator("input[name=consent]").check()
    form.locator("input[name=password]").fill(WRONG_PASSWORD)
    screens.here("mentor", "sign-failed", submit(page, form))
    with translation.override(screens.language["mentor"]):
        wrong = translation.gettext("That is not your password. Nothing was signed.")
    if not page.get_by_text(wrong).count():
        screens.problems.append("awaiting-mentor-sign-failed: the wrong password is not named")
    form.locator("input[name=full_name]").fill(agreement.mentor.full_name)
    form.locator("input[name=consent]").check()
    form.locator("input[name=password]").fill(PASSWORD)
    screens.here("mentor", "signed", submit(page, form))

    # The mentee asks for the agreement's own language as its second: refused.
    mentee = screens.person("mentee")
    page = mentee.page
    page.goto(
        live_server.url + reverse("agreements:section_edit", args=[agreement.uuid, "language"])
    )
    form = page.locator("main form[method=post]")
    form.locator("select[name=second_language]").select_option(
        form.locator("select[name=language]").input_value()
    )
    screens.here("mentee", "language-refused", submit(page, form))

    # The mentee edits a section in two tabs: the second save is over the first.
    edit = reverse("agreements:section_edit", args=[agreement.uuid, "confidentiality"])
    first, second = mentee.page, mentee.context.new_page()
    for tab, text in ((first, "Feedback on my work"), (second, "My career plans")):
        tab.goto(live_server.url + edit)
        tab.locator("main form[method=post] textarea[name=work_matters]").fill(text)
    screens.here("mentee", "section-saved", submit(first, first.locator("main form[method=post]")))
    second.on("response", mentee._note_failure)
    second.on("console", mentee._note_error)
    status = submit(second, second.locator("main form[method=post]"))
    screens.here("mentee", "section-conflict", status, want=409, page=second)
    second.close()

    # The program admin imports pairings: problems in lines, a file refused
    # whole, a file ready to import, then the pairings created.
    page = screens.person("program_admin").page
    upload = reverse("agreements:pairing_import", args=[program.uuid])
    files = {
        "import-problems": (
            "mentor_email,mentor_name,mentee_email,mentee_name,start_date,exit_date\n"
            "not-an-email,=cmd(),ana@example.org,Ana,2027-13-01,\n"
            "mentor@example.com,Maria Mentor,mentor@example.com,Maria Mentor,,\n"
        ),
        "import-refused": "who,what\nsomeone,something\n",
        "import-ready": (
            "mentor_email,mentor_name,mentee_email,mentee_name\n"
            'wei.chen@example.org,Wei Chen,jo.smith@example.org,"Smith, Jo"\n'
        ),
    }
    for name, text in files.items():
        page.goto(live_server.url + upload)
        form = page.locator("main form", has=page.locator("input[type=file]"))
        form.locator("input[type=file]").set_input_files(
            {"name": "pairings.csv", "mimeType": "text/csv", "buffer": text.encode()}
        )
        screens.here("program_admin", name, submit(page, form))
    confirm = page.locator("main form", has=page.locator("input[name=csv_text]"))
    screens.here("program_admin", "import-created", submit(page, confirm))

    # A new pairing sent empty.
    page.goto(live_server.url + reverse("agreements:pairing_new", args=[program.uuid]))
    status = submit(page, page.locator("main form[method=post]"))
    screens.here("program_admin", "pairing-new-empty", status)
    screens.finish(request.node.name)


def test_every_language_is_seen_by_each_kind():
    """The rotation of the module's docstring shows every language to the
    pair, the program admin, and anonymous and the superuser; German and
    Arabic to the pair and the program admin in the states' pages."""
    codes = {code for code, _name in settings.LANGUAGES}
    assert set(EVERY) == codes
    for kind, roles in KINDS.items():
        seen = {code for row in ROTATION for role in roles for code in languages(row, role)}
        assert seen == codes, f"{kind} never reads {codes - seen}"
    for roles in (KINDS["pair"], KINDS["admin"]):
        seen = {code for row in STATES for role in roles for code in languages(row, role)}
        assert {"de", "ar"} <= seen
