"""The whole agreement, from empty to signed, in real headless Chromium."""

import concurrent.futures
import datetime
import hashlib
import io
import re
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.text import capfirst
from playwright.sync_api import expect
from pypdf import PdfReader

from agreements import demo
from agreements import pdf as agreement_pdf
from agreements.models import CONSENT_STATEMENT, Agreement, Section
from agreements.models.clauses import clauses_in
from agreements.seal import validate_sealed_pdf
from agreements.templatetags.agreement_tags import mid_sentence
from tests.helpers import BROWSER_WAIT_MS, PASSWORD, fresh, make_active, make_agreement
from tests.test_negotiation_appendix import appendix_of

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class Person:
    """One party in their own browser context, with failed requests and console errors noted."""

    def __init__(self, browser, live_server, user, party, locale="en-GB"):
        self.user = user
        self.party = party
        self.base = live_server.url
        # The browser's language, which the app follows (Accept-Language).
        self.context = browser.new_context(
            accept_downloads=True, locale=locale, viewport={"width": 1280, "height": 900}
        )
        self.context.set_default_timeout(BROWSER_WAIT_MS)
        self.page = self.context.new_page()
        self.failures = []
        self.page.on("response", self._note_failure)
        self.page.on("console", self._note_error)

    # The app has no favicon; Chromium asks for one anyway.
    def _note_failure(self, response):
        if response.status >= 400 and not response.url.endswith("/favicon.ico"):
            self.failures.append(f"{response.status} {response.url}")

    def _note_error(self, message):
        # A Content-Security-Policy refusal is reported here too.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            self.failures.append(f"{message.text} ({message.location['url']})")

    def log_in(self, lands_on="My agreements"):
        page = self.page
        page.goto(self.base + reverse("login"))
        page.locator("input[name=login]").fill(self.user.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Log in", exact=True).click()
        expect(page.get_by_role("heading", name=lands_on)).to_be_visible()

    def open_agreement(self, agreement):
        self.page.goto(self.base + reverse("agreements:home"))
        self.page.get_by_role("link", name="Open the agreement").click()
        expect(self.page.get_by_role("heading", name="Mentoring agreement")).to_be_visible()
        assert str(agreement.uuid) in self.page.url

    def card(self, kind):
        return self.page.locator(f"#section-{kind}")

    def edit(self, kind, fill, screenshot=None):
        label = Section.Kind(kind).label
        self.card(kind).get_by_role("link", name="Edit").click()
        expect(self.page.get_by_role("heading", name=label)).to_be_visible()
        fill(self.page)
        if screenshot:
            self.page.screenshot(path=ARTIFACTS / screenshot, full_page=True)
        self.page.get_by_role("button", name=f"Save {label.lower()}").click()
        expect(self.page.get_by_role("alert")).to_have_text(
            f"{label} saved. Both of you need to agree to it again."
        )

    def agree_to_everything(self):
        for kind, label in Section.Kind.choices:
            self.card(kind).get_by_role("button", name="I agree to this section").click()
            expect(self.page.get_by_role("alert")).to_have_text(f"You agreed to “{label}”.")
            expect(self.card(kind)).to_contain_text(f"{self.party} agreed ✔")

    def sign(self, *, append_negotiation=False):
        page = self.page
        page.get_by_role("link", name="Sign the agreement").click()
        if append_negotiation:
            page.get_by_label("Append our discussions and proposals to the signed PDF").check()
        page.get_by_label("Type your full name").fill(self.user.full_name)
        page.get_by_label("I have read this mentoring agreement in full").check()
        page.get_by_label("Your password").fill(PASSWORD)
        page.get_by_role("button", name="Sign", exact=True).click()
        expect(page.get_by_role("alert")).to_have_text("You signed the agreement.")


def fill_mentor_contact(page):
    # Each party edits only their own preferences.
    mine = page.locator("fieldset", has_text="Your contact preferences")
    mine.get_by_label("Email", exact=True).check()
    mine.get_by_label("Email address").fill("maria@example.com")
    mine.get_by_label("Video call", exact=True).check()
    mine.get_by_label("Video call link or app").fill("Jitsi, room maria-milo")
    mine.get_by_label("Preferred days and times").fill("Weekdays 9:00–17:00")
    mine.get_by_label("Expected response time").select_option(label="Within one working day")


def fill_mentee_contact(page):
    mine = page.locator("fieldset", has_text="Your contact preferences")
    mine.get_by_label("Chat", exact=True).check()
    mine.get_by_label("Chat app and handle").fill("Signal @milo")
    mine.get_by_label("Expected response time").select_option(label="Within two working days")


def fill_term(page):
    # Dates are typed as the app shows them.
    page.get_by_label("Start date").fill("1 Sep 2026")
    page.get_by_label("Exit date").fill("30 Jun 2027")
    page.get_by_label("Notice for an early exit (days)").fill("21")


def fill_schedule(page):
    page.get_by_label("Frequency", exact=True).select_option(label="Every two weeks")
    page.get_by_label("Time of day").fill("17:30")
    page.get_by_label("Time zone").select_option("Europe/London")
    page.get_by_label("Duration (minutes)").fill("60")
    page.get_by_label("Format").select_option(label="Mixed")
    page.get_by_label("Place or link").fill("Library café, or Jitsi when travelling")
    page.get_by_label("Who arranges meetings").select_option(label="The mentee")
    page.get_by_label("Who sets the agenda").select_option(label="Both, taking turns")
    page.get_by_label("Notice to cancel or move a meeting (hours)").fill("24")


def fill_checkins(page):
    page.get_by_label("Date").fill("1 Dec 2026")
    page.get_by_label("What to review").fill("Halfway review of the goals")


def fill_goals(page):
    page.get_by_label("Whose goal").select_option(label="Mentee")
    # Required fields carry no mark; optional ones say "(optional)".
    page.get_by_label("Goal", exact=True).fill("Lead a design review on my own")
    page.get_by_label("How success is measured").fill("Ran one review end to end, with notes")
    page.get_by_label("Target date").fill("31 Mar 2027")


def fill_confidentiality(page):
    page.get_by_label("Work matters the mentee chooses to share").fill("Feedback and career plans")
    page.get_by_label("Duties to the organisation").uncheck()
    page.get_by_label("The mentor may consult a named third party").check()
    page.get_by_label("Third party", exact=True).fill("Priya, the programme coach")
    page.get_by_label("Within these limits").fill("No names, no employer details")
    page.get_by_label("The mentee consents to this consultation").check()
    page.get_by_label("What the mentor may tell the mentee's line manager").fill(
        "Only that we meet"
    )


def fill_off_limits(page):
    page.get_by_label("Topic").fill("Salary negotiations")
    page.get_by_label("Rule").select_option(label="Only if the mentee raises it")


@pytest.mark.browser
def test_pair_writes_agrees_signs_and_downloads_the_agreement(
    chromium, live_server, agreement, mentor, mentee
):
    ARTIFACTS.mkdir(exist_ok=True)
    maria = Person(chromium, live_server, mentor, "Mentor")
    milo = Person(chromium, live_server, mentee, "Mentee")
    for person in (maria, milo):
        person.log_in()
        person.open_agreement(agreement)

    maria.edit("contact", fill_mentor_contact)
    maria.edit("term", fill_term)
    maria.edit("schedule", fill_schedule)
    maria.edit("checkins", fill_checkins)
    milo.page.reload()
    milo.edit("contact", fill_mentee_contact)
    milo.edit("goals", fill_goals, screenshot="edit-goals.png")
    milo.edit("confidentiality", fill_confidentiality, screenshot="edit-confidentiality.png")
    milo.edit("off_limits", fill_off_limits)
    milo.page.screenshot(path=ARTIFACTS / "agreement-draft.png", full_page=True)

    # The draft PDF: a page says it is being prepared, looks again by itself
    # (a meta refresh, no script) and the download starts once it is ready.
    with milo.page.expect_download() as draft_info:
        milo.page.get_by_role("link", name="Draft PDF").click()
        expect(milo.page.get_by_role("heading", name="Preparing your draft PDF…")).to_be_visible()
    draft = draft_info.value
    assert draft.suggested_filename == "mentoring-agreement-maria-mentor-milo-mentee-draft.pdf"
    assert Path(draft.path()).read_bytes().startswith(b"%PDF")
    milo.open_agreement(agreement)

    maria.page.reload()
    maria.agree_to_everything()
    milo.page.reload()
    milo.agree_to_everything()
    expect(milo.page.locator(".badge[class*=status-]")).to_have_text("Awaiting signatures")

    maria.page.reload()
    maria.sign()
    milo.page.reload()
    milo.sign()
    expect(milo.page.locator(".badge[class*=status-]")).to_have_text("Active")
    maria.page.reload()
    expect(maria.page.locator(".badge[class*=status-]")).to_have_text("Active")
    expect(maria.page.get_by_role("link", name="Edit")).to_have_count(0)
    maria.page.screenshot(path=ARTIFACTS / "agreement-active.png", full_page=True)

    # The live server runs tasks at once: the signed PDF is already sealed.
    with maria.page.expect_download() as download_info:
        maria.page.get_by_role("link", name="Download the signed PDF").click()
    download = download_info.value
    assert (
        download.suggested_filename == "mentoring-agreement-maria-mentor-milo-mentee-v1-signed.pdf"
    )
    data = Path(download.path()).read_bytes()
    assert data.startswith(b"%PDF")
    # In a thread: pyHanko runs its own event loop, and Playwright's is running here.
    with concurrent.futures.ThreadPoolExecutor() as pool:
        assert pool.submit(validate_sealed_pdf, data).result().ok
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    text = re.sub(r"\s+", " ", text)
    for expected in (
        "Maria Mentor",
        "Milo Mentee",
        "Lead a design review on my own",
        "Signal @milo",
    ):
        assert expected in text

    agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
    assert agreement.status == Agreement.Status.ACTIVE
    assert sorted(s.typed_name for s in agreement.signatures_on(agreement.version_in_force)) == [
        "Maria Mentor",
        "Milo Mentee",
    ]
    assert agreement.schedule.location == "Library café, or Jitsi when travelling"
    assert agreement.confidentiality.third_party_consent is True
    assert maria.failures == milo.failures == []


def test_the_pair_negotiates_confidentiality_through_proposals_then_signs(
    chromium, live_server, agreement, mentor, mentee
):
    """The mentee proposes a change instead of saving it; the mentor counters
    it; the mentee accepts the counter, which applies as agreed by both, and
    both sign, choosing to append how they negotiated to the signed PDF."""
    ARTIFACTS.mkdir(exist_ok=True)
    demo.write_all(agreement, by=mentor)
    demo.agree_all(agreement)
    before = "Performance feedback, team dynamics, career plans."
    milos = "Performance feedback, team dynamics, career plans, and my side project."
    marias = "Performance feedback, team dynamics, career plans; side projects too."
    work_matters = "work matters the mentee chooses to share"
    maria = Person(chromium, live_server, mentor, "Mentor")
    milo = Person(chromium, live_server, mentee, "Mentee")
    for person in (maria, milo):
        person.log_in()
        person.open_agreement(agreement)

    # The mentee proposes a change instead of saving it: the section stays as it is.
    page = milo.page
    milo.card("confidentiality").get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Confidentiality")).to_be_visible()
    page.get_by_label(work_matters).fill(milos)
    page.get_by_text("Or propose it to Maria Mentor instead of saving it").click()
    page.get_by_label("Why (optional)").fill("The side project is where I most need advice.")
    page.get_by_role("button", name="Send the proposal").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your proposal is on its way to Maria Mentor. The section stays as it is until "
        "they accept it."
    )
    card = milo.card("confidentiality")
    expect(card).to_contain_text(before)
    expect(card).not_to_contain_text(milos)
    expect(card).to_contain_text("Mentor agreed ✔")
    expect(card).to_contain_text("Mentee agreed ✔")
    expect(card.get_by_role("link", name="Your proposal, waiting for Maria Mentor")).to_be_visible()

    # The mentor reads it, field by field, and counters it.
    page = maria.page
    page.reload()
    maria.card("confidentiality").get_by_role(
        "link", name="Milo Mentee proposes a change: read it and answer"
    ).click()
    changes = page.get_by_role("table", name="What it changes, field by field")
    expect(changes).to_contain_text(before)
    expect(changes).to_contain_text(milos)
    expect(page.get_by_text("The side project is where I most need advice.")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "proposal.png", full_page=True)
    page.get_by_role("link", name="Counter it: open the form filled in with this proposal").click()
    expect(page.get_by_role("heading", name="Confidentiality")).to_be_visible()
    expect(page.get_by_label(work_matters)).to_have_value(milos)
    expect(page.get_by_role("button", name="Save Confidentiality")).to_have_count(0)
    page.get_by_label(work_matters).fill(marias)
    page.screenshot(path=ARTIFACTS / "counter.png", full_page=True)
    page.get_by_role("button", name="Send the counter-proposal").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Your proposal is on its way to Milo Mentee. The section stays as it is until "
        "they accept it."
    )
    expect(maria.card("confidentiality")).to_contain_text(before)

    # The mentee accepts the counter: it applies, agreed by both.
    page = milo.page
    page.reload()
    milo.card("confidentiality").get_by_role(
        "link", name="Maria Mentor proposes a change: read it and answer"
    ).click()
    changes = page.get_by_role("table", name="What it changes, field by field")
    expect(changes).to_contain_text(before)
    expect(changes).to_contain_text(marias)
    page.get_by_role("button", name="Accept: the section then reads so").click()
    expect(page.get_by_role("alert")).to_have_text(
        "You accepted the proposal: Confidentiality now reads so, agreed by both of you."
    )
    card = milo.card("confidentiality")
    expect(card).to_contain_text(marias)
    expect(card).to_contain_text("Mentor agreed ✔")
    expect(card).to_contain_text("Mentee agreed ✔")
    expect(
        card.get_by_role("link", name="Maria Mentor proposes a change: read it and answer")
    ).to_have_count(0)

    maria.page.reload()
    maria.sign(append_negotiation=True)
    milo.page.reload()
    milo.page.get_by_role("link", name="Sign the agreement").click()
    expect(milo.page.get_by_text("Maria Mentor chose to append")).to_be_visible()
    milo.page.go_back()
    milo.sign(append_negotiation=True)
    expect(milo.page.locator(".badge[class*=status-]")).to_have_text("Active")

    agreement = fresh(agreement)
    assert agreement.status == Agreement.Status.ACTIVE
    assert agreement.content_in_force.confidentiality.work_matters == marias

    # The live server runs tasks at once: the signed PDF is sealed, and ends
    # with the negotiation both chose to append.
    with milo.page.expect_download() as download:
        milo.page.get_by_role("link", name="Download the signed PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    appendix = appendix_of(pdf)
    assert "The side project is where I most need advice." in appendix
    assert "Answered by Maria Mentor with a counter-proposal" in appendix
    assert "Maria Mentor made a counter-proposal" in appendix
    assert "Accepted by Milo Mentee" in appendix
    with concurrent.futures.ThreadPoolExecutor() as pool:
        assert pool.submit(validate_sealed_pdf, pdf).result().ok
    assert maria.failures == milo.failures == []


def test_admin_invites_a_newcomer_who_shares_a_section_with_the_program(
    chromium, live_server, program, program_admin, mentor, mailoutbox, settings
):
    """The program's side: pair someone new, who accepts the invitation; once
    both share their goals the admin reads them, and nothing else."""
    settings.SITE_URL = live_server.url
    admin = Person(chromium, live_server, program_admin, "Admin")
    # Running one program and in no pairing, the admin lands on its dashboard.
    admin.log_in(lands_on=program.name)
    page = admin.page
    page.get_by_role("link", name="New pairing").click()
    page.get_by_label("Mentor's name").fill("Anyone")
    page.get_by_label("Mentor's email").fill(mentor.email)
    page.get_by_label("Mentee's name").fill("Nour Newcomer")
    page.get_by_label("Mentee's email").fill("nour@example.com")
    page.get_by_role("button", name="Create the pairing").click()
    expect(page.get_by_role("alert")).to_contain_text("Maria Mentor and Nour Newcomer are paired.")
    expect(page.locator(".dashboard-table")).to_contain_text("nour@example.com")
    page.screenshot(path=ARTIFACTS / "dashboard.png", full_page=True)

    # The newcomer follows the emailed link and chooses a password.
    invitation = next(m for m in mailoutbox if m.to == ["nour@example.com"])
    link = re.search(r"http\S+/accounts/invitation/\S+", invitation.body).group(0)
    newcomer = Person(chromium, live_server, None, "Mentee")
    newcomer.page.goto(link)
    newcomer.page.locator("#id_new_password1").fill(PASSWORD)
    newcomer.page.locator("#id_new_password2").fill(PASSWORD)
    newcomer.page.get_by_role("button", name="Save my password and continue").click()
    expect(newcomer.page.get_by_role("alert")).to_contain_text("Welcome, Nour Newcomer.")

    # Written and agreed (as the other test does in the browser), both share
    # their goals; the admin then reads exactly that section.
    agreement = Agreement.objects.get(mentee__email="nour@example.com")
    demo.write_all(agreement, by=mentor, start=timezone.localdate())
    demo.agree_all(agreement)
    maria = Person(chromium, live_server, mentor, "Mentor")
    maria.log_in()
    for person in (maria, newcomer):
        person.page.goto(live_server.url + reverse("agreements:sharing", args=[agreement.uuid]))
        person.page.locator("#sharing-goals").get_by_role("button").first.click()
    expect(newcomer.page.get_by_role("alert")).to_contain_text("is now shared")
    page.goto(live_server.url + reverse("agreements:pairing", args=[program.uuid, agreement.uuid]))
    expect(page.locator("#section-goals")).to_contain_text("Lead a project")
    expect(page.locator("#section-confidentiality")).to_have_count(0)
    for person in (admin, maria, newcomer):
        assert person.failures == []


def say(language, text, **values):
    """``text`` as the app says it in ``language``."""
    with translation.override(language):
        words = capfirst(translation.gettext(text))
    return words % values if values else words


def test_a_french_mentor_and_a_german_mentee_write_one_agreement_each_in_their_language(
    chromium, live_server, agreement, mentor, mentee
):
    """Each browser asks for its own language; each page answers in it, dates
    included, while both edit and agree to the same agreement."""
    people = {
        "fr": Person(chromium, live_server, mentor, "Mentor", locale="fr-FR"),
        "de": Person(chromium, live_server, mentee, "Mentee", locale="de-DE"),
    }
    for language, person in people.items():
        page = person.page
        page.goto(person.base + reverse("login"))
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.locator("input[name=login]").fill(person.user.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name=say(language, "Log in"), exact=True).click()
        page.get_by_role("link", name=say(language, "Open the agreement")).click()
        expect(
            page.get_by_role("heading", name=say(language, "Mentoring agreement"))
        ).to_be_visible()

    # The French mentor writes a goal, typing its date the French way.
    marie = people["fr"].page
    marie.locator("#section-goals").get_by_role("link", name=say("fr", "Edit")).click()
    marie.get_by_label(say("fr", "whose goal")).select_option(label=say("fr", "Mentee"))
    marie.get_by_label(say("fr", "goal"), exact=True).fill("Mener une revue de design")
    marie.get_by_label(say("fr", "how success is measured")).fill("Une revue, de bout en bout")
    marie.get_by_label(say("fr", "Target date")).fill("31 mars 2027")
    goals = Section.Kind.GOALS.label
    with translation.override("fr"):
        save = say("fr", "Save %(section)s", section=mid_sentence(goals))
        saved = say(
            "fr", "%(section)s saved. Both of you need to agree to it again.", section=goals
        )
    marie.get_by_role("button", name=save).click()
    expect(marie.get_by_role("alert")).to_have_text(saved)
    target = datetime.date(2027, 3, 31)
    with translation.override("fr"):
        assert date_format(target, "SHORT_DATE_FORMAT") == "31 mars 2027"
    expect(marie.locator("#section-goals")).to_contain_text("31 mars 2027")

    # The German mentee reads it, with the date as German writes it, and agrees.
    max_ = people["de"].page
    max_.reload()
    goals_card = max_.locator("#section-goals")
    expect(goals_card).to_contain_text("Mener une revue de design")
    with translation.override("de"):
        german = date_format(target, "SHORT_DATE_FORMAT")
    assert german.startswith("31. M")
    expect(goals_card).to_contain_text(german)
    goals_card.get_by_role("button", name=say("de", "I agree to this section")).click()
    with translation.override("de"):
        agreed = say("de", "You agreed to “%(section)s”.", section=goals)
    expect(max_.get_by_role("alert")).to_have_text(agreed)

    # The mentor sees the mentee's agreement in French.
    marie.reload()
    expect(marie.locator("#section-goals")).to_contain_text(say("fr", "Mentee agreed ✔"))

    # The mentee switches to Spanish at the foot of the page: it sticks to the account.
    max_.get_by_label(say("de", "Language")).select_option("es")
    max_.get_by_role("button", name=say("de", "Change language")).click()
    expect(max_.locator("html")).to_have_attribute("lang", "es")
    expect(max_.get_by_role("heading", name=say("es", "Mentoring agreement"))).to_be_visible()
    assert Agreement.objects.get(pk=agreement.pk).mentee.language == "es"
    people["de"].page.screenshot(path=ARTIFACTS / "agreement-in-spanish.png", full_page=True)
    assert people["fr"].failures == people["de"].failures == []


def pdf_text(data):
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return re.sub(r"\s+", " ", text)


def log_in_in_own_language(person, language):
    page = person.page
    page.goto(person.base + reverse("login"))
    page.locator("input[name=login]").fill(person.user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name=say(language, "Log in"), exact=True).click()
    page.get_by_role("link", name=say(language, "Open the agreement")).click()
    expect(page.get_by_role("heading", name=say(language, "Mentoring agreement"))).to_be_visible()


def test_a_french_mentor_and_a_german_mentee_write_and_sign_one_agreement_in_spanish(
    chromium, live_server, agreement, mentor, mentee
):
    """The pair choose Spanish for the agreement: each keeps reading the app in
    their own language, and signs, and gets the signed PDF, in Spanish."""
    ARTIFACTS.mkdir(exist_ok=True)
    demo.write_all(agreement, by=mentor)
    people = {
        "fr": Person(chromium, live_server, mentor, "Mentor", locale="fr-FR"),
        "de": Person(chromium, live_server, mentee, "Mentee", locale="de-DE"),
    }
    for language, person in people.items():
        log_in_in_own_language(person, language)

    # The French mentor chooses Spanish as the language of the agreement, in French.
    marie = people["fr"]
    language_label = Section.Kind.LANGUAGE.label
    marie.card("language").get_by_role("link", name=say("fr", "Edit")).click()
    expect(
        marie.page.get_by_role("heading", name=say("fr", "Language"), exact=True)
    ).to_be_visible()
    expect(marie.page.get_by_label(say("fr", "Also show it in"))).to_have_value("")
    marie.page.get_by_label(say("fr", "Language of the agreement")).select_option(label="Español")
    with translation.override("fr"):
        save = say("fr", "Save %(section)s", section=mid_sentence(language_label))
        saved = say(
            "fr",
            "%(section)s saved. Both of you need to agree to it again.",
            section=language_label,
        )
        spanish_in_french = str(translation.get_language_info("es")["name_translated"])
    marie.page.get_by_role("button", name=save).click()
    expect(marie.page.get_by_role("alert")).to_have_text(saved)
    expect(marie.card("language")).to_contain_text(spanish_in_french)
    assert Agreement.objects.get(pk=agreement.pk).language == "es"

    # Each agrees to every section, the language included, in their own language.
    for language, person in people.items():
        person.page.reload()
        for kind, label in Section.Kind.choices:
            person.card(kind).get_by_role(
                "button", name=say(language, "I agree to this section")
            ).click()
            with translation.override(language):
                agreed = say(language, "You agreed to “%(section)s”.", section=label)
            expect(person.page.get_by_role("alert")).to_have_text(agreed)
            expect(person.card(kind)).to_contain_text(say(language, f"{person.party} agreed ✔"))
        expect(person.page.locator("html")).to_have_attribute("lang", language)

    # Each signs in their own language what reads in Spanish: the sections, and
    # the statement ticked, with its translation in the signer's language beside it.
    spanish = clauses_in("es")
    for language, person in people.items():
        page = person.page
        page.reload()
        page.get_by_role("link", name=say(language, "Sign the agreement")).click()
        expect(page.locator("html")).to_have_attribute("lang", language)
        expect(page.get_by_role("heading", level=1)).to_have_text(
            say(language, "Sign the agreement")
        )
        goals = page.locator("div[lang=es] #section-goals")
        expect(goals.get_by_role("heading")).to_contain_text(say("es", "Goals"))
        expect(page.locator("div[lang=es] #section-term")).to_contain_text(
            spanish["statements"]["no_fault_exit"]
        )
        with translation.override(language):
            in_your_language = f"{say(language, 'In your language:')} {CONSENT_STATEMENT}"
            sign = translation.pgettext("verb", "Sign")
        expect(page.get_by_text(in_your_language)).to_be_visible()
        page.get_by_label(say(language, "Type your full name")).fill(person.user.full_name)
        page.get_by_label(spanish["consent_statement"][:40]).check()
        page.get_by_label(say(language, "Your password")).fill(PASSWORD)
        page.get_by_role("button", name=sign, exact=True).click()
        expect(page.get_by_role("alert")).to_have_text(say(language, "You signed the agreement."))

    agreement = fresh(agreement)
    assert agreement.status == Agreement.Status.ACTIVE
    # The evidence keeps the statement signed, in Spanish, and the one each was shown beside it.
    signatures = agreement.signatures_on(agreement.version_in_force)
    assert {s.party: s.evidence_data["consent_translation"]["language"] for s in signatures} == {
        "mentor": "fr",
        "mentee": "de",
    }
    assert {s.evidence_data["consent_statement"] for s in signatures} == {
        spanish["consent_statement"]
    }

    # The live server runs tasks at once: the signed PDF is already sealed.
    marie.page.reload()
    with marie.page.expect_download() as download_info:
        marie.page.get_by_role("link", name=say("fr", "Download the signed PDF")).click()
    data = Path(download_info.value.path()).read_bytes()
    assert data.startswith(b"%PDF")
    (ARTIFACTS / "agreement-in-spanish.pdf").write_bytes(data)
    # In a thread: pyHanko runs its own event loop, and Playwright's is running here.
    with concurrent.futures.ThreadPoolExecutor() as pool:
        assert pool.submit(validate_sealed_pdf, data).result().ok
    text = pdf_text(data)
    for expected in (
        *(say("es", label) for label in Section.Kind.labels),
        *spanish["statements"].values(),
        spanish["consent_statement"],
        say("es", "Signatures"),
        say("es", "Completion certificate"),
    ):
        assert expected in text
    for language in ("fr", "de"):
        for heading in (*Section.Kind.labels, "Signatures", "Completion certificate"):
            assert say(language, heading) not in text

    # Someone holding the PDF checks it, in Portuguese, without an account.
    reader = Person(chromium, live_server, None, None, locale="pt-BR")
    digest = hashlib.sha256(data).hexdigest()
    reader.page.goto(f"{live_server.url}{reverse('verify')}?sha256={digest}")
    expect(reader.page.locator("html")).to_have_attribute("lang", "pt-br")
    result = reader.page.locator("#verify-result")
    expect(result.get_by_role("heading")).to_have_text(say("pt-br", "✔ Genuine, and in force"))
    expect(result).to_contain_text(
        say(
            "pt-br",
            "This exact file is the sealed PDF of version %(number)s of a mentoring "
            "agreement on record.",
            number=1,
        )
    )
    # The answer names nobody and says nothing of the content.
    expect(reader.page.locator("main")).not_to_contain_text(mentor.full_name)
    expect(reader.page.locator("main")).not_to_contain_text(say("es", "Goals"))
    assert people["fr"].failures == people["de"].failures == reader.failures == []


def test_an_arabic_agreement_reads_right_to_left(
    chromium, live_server, program, program_admin, mentor, mentee
):
    """Made by an admin who reads Arabic, for a pair who read it too: the
    agreement is in Arabic, its page right to left at any width, and so is its PDF."""
    ARTIFACTS.mkdir(exist_ok=True)
    for user in (program_admin, mentor, mentee):
        user.language = "ar"
        user.save(update_fields=["language"])
    agreement = make_agreement(program, mentor, mentee, program_admin)
    assert agreement.language == "ar"
    demo.write_all(agreement, by=mentor)

    maria = Person(chromium, live_server, mentor, "Mentor")
    maria.log_in(lands_on=say("ar", "My agreements"))
    page = maria.page
    page.goto(live_server.url + reverse("agreements:detail", args=[agreement.uuid]))
    expect(page.get_by_role("heading", name=say("ar", "Mentoring agreement"))).to_be_visible()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("html")).to_have_attribute("lang", "ar")
    expect(maria.card("confidentiality")).to_contain_text(
        clauses_in("ar")["statements"]["pairing_not_secret"]
    )
    page.screenshot(path=ARTIFACTS / "agreement-ar-1280.png", full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    page.screenshot(path=ARTIFACTS / "agreement-ar-390.png", full_page=True)
    assert maria.failures == []

    html = agreement_pdf.draft_html(fresh(agreement))
    assert '<html lang="ar" dir="rtl">' in html
    data = agreement_pdf.draft_pdf(html)
    assert data.startswith(b"%PDF")
    assert say("ar", "Mentoring agreement") in pdf_text(data)
    (ARTIFACTS / "agreement-ar.pdf").write_bytes(data)


def cancelled_meetings(person, agreement, first, last):
    """The days of the meetings the agreement's .ics cancels from ``first`` to ``last``."""
    response = person.page.request.get(
        person.base + reverse("agreements:calendar_ics", args=[agreement.uuid])
    )
    assert response.status == 200
    calendar = icalendar.Calendar.from_ical(response.body())
    return sorted(
        event.start.date()
        for event in recurring_ical_events.of(calendar).between(first, last)
        if event.get("status") == "CANCELLED" and str(event.get("summary")).startswith("Mentoring")
    )


@pytest.mark.browser
def test_the_pair_logs_and_confirms_meetings_then_pauses_and_resumes(
    chromium, live_server, agreement, mentor, mentee
):
    """Both keep the meeting log; a pause cancels the meetings inside it in the
    calendar, and resuming gives them back."""
    today = timezone.localdate()
    start = today - datetime.timedelta(days=60)  # every two weeks: five meetings so far
    active = make_active(agreement, start=start)
    maria = Person(chromium, live_server, mentor, "Mentor")
    milo = Person(chromium, live_server, mentee, "Mentee")
    meetings = live_server.url + reverse("agreements:meetings", args=[active.uuid])
    maria.log_in()
    maria.open_agreement(active)
    maria.page.get_by_role("link", name="Meetings").click()
    expect(maria.page.locator("figcaption")).to_contain_text("0 of 5 agreed meetings held")

    log = maria.page.locator("#log-a-meeting")
    for days_in in (14, 28):
        log.get_by_label("Date").fill((start + datetime.timedelta(days=days_in)).isoformat())
        log.get_by_label("How long (minutes)").fill("45")
        log.get_by_role("button", name="Log the meeting").click()
        expect(maria.page.get_by_role("alert")).to_contain_text("Meeting logged")
    expect(maria.page.locator("#log .list-group-item")).to_have_count(2)

    milo.log_in()
    milo.page.goto(meetings)
    confirm = milo.page.locator("#to-confirm").get_by_role("button", name="Confirm")
    expect(confirm).to_have_count(2)
    confirm.first.click()
    expect(milo.page.locator("#to-confirm").get_by_role("button", name="Confirm")).to_have_count(1)
    milo.page.locator("#to-confirm").get_by_role("button", name="Confirm").click()
    expect(milo.page.locator("#to-confirm")).to_have_count(0)
    expect(milo.page.locator("figcaption")).to_contain_text("2 of 5 agreed meetings held")
    milo.page.screenshot(path=ARTIFACTS / "meetings.png", full_page=True)

    # Maria pauses from tomorrow for three weeks: the calendar cancels the
    # meetings inside the pause, and only those.
    horizon = (today, today + datetime.timedelta(days=60))
    assert cancelled_meetings(maria, active, *horizon) == []
    maria.page.goto(meetings)
    pause = maria.page.locator("#pause")
    pause.get_by_label("From").fill((today + datetime.timedelta(days=1)).isoformat())
    pause.get_by_label("Until").fill((today + datetime.timedelta(days=21)).isoformat())
    pause.get_by_role("button", name="Pause meetings").click()
    expect(maria.page.locator("#pause")).to_contain_text("Paused from")
    inside = [
        day
        for day in (start + datetime.timedelta(days=14 * n) for n in range(12))
        if today < day <= today + datetime.timedelta(days=21)
    ]
    assert inside and cancelled_meetings(maria, active, *horizon) == inside

    # Milo resumes before it begins: nothing is cancelled any more.
    milo.page.goto(meetings)
    milo.page.get_by_role("button", name="Resume meetings").click()
    expect(milo.page.get_by_role("button", name="Pause meetings")).to_be_visible()
    assert cancelled_meetings(milo, active, *horizon) == []
    for person in (maria, milo):
        assert person.failures == []
