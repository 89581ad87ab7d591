"""Two people working on one agreement at the same time.

The sequential tests play the race step by step with two clients; the threaded
ones fire both requests at once, so they need real transactions and their own
database connection per thread.
"""

import threading
from html.parser import HTMLParser

import pytest
from django.core import mail
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from agreements import content, demo
from agreements.models import (
    Agreement,
    AgreementVersion,
    AuditEvent,
    Section,
    SectionRevision,
    Signature,
    verify_chain,
)
from tests.helpers import PASSWORD, client_for

# What the pair writes into each section, in an order the forms accept:
# the term comes first because goals and check-ins must fall inside it.
SECTION_INPUT = {
    "term": {"start_date": "2026-09-01", "exit_date": "2027-06-30", "notice_days": "21"},
    "contact": {
        "mentor-by_email": "on",
        "mentor-email_details": "maria@example.com",
        "mentor-response_time": "one_day",
    },
    "schedule": {
        "frequency": "fortnightly",
        "time": "17:30",
        "time_zone": "Europe/London",
        "duration_minutes": "60",
        "format": "video",
        "location": "Video link in the calendar invite",
        "arranged_by": "mentee",
        "agenda_by": "mentee",
        "notice_hours": "24",
    },
    "goals": {
        "goals-0-owner": "mentee",
        "goals-0-description": "Lead a design review",
        "goals-0-success_measure": "Ran one review end to end",
        "goals-0-target_date": "2027-03-31",
    },
    "checkins": {"checkins-0-date": "2026-12-01", "checkins-0-focus": "Halfway review"},
    "confidentiality": {
        "work_matters": "Performance feedback and career plans",
        "line_manager_by_mentor": "Only that we meet",
    },
    "off_limits": {"topics-0-topic": "Salary negotiations", "topics-0-rule": "never"},
}
# Each party writes only their own contact preferences.
MENTEE_CONTACT = {
    "mentee-by_phone": "on",
    "mentee-phone_details": "+44 20 7946 0000",
    "mentee-response_time": "two_days",
}


class PageParser(HTMLParser):
    """The fields a browser would submit for each form, and the text of table rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms = []
        self.rows = []
        self._select = self._textarea = self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form":
            self.forms.append({})
        elif tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []
        elif not self.forms or "disabled" in attrs:
            return  # browsers do not submit disabled fields
        elif tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self.forms[-1][name] = attrs.get("value", "on")
            elif kind not in {"submit", "button"}:
                self.forms[-1][name] = attrs.get("value", "")
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select:
            # The first option counts until a selected one turns up.
            if "selected" in attrs or self._select not in self.forms[-1]:
                self.forms[-1][self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.forms[-1][name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # HTML drops the newline right after <textarea>.
            value = self.forms[-1][self._textarea]
            self.forms[-1][self._textarea] = value.removeprefix("\r\n").removeprefix("\n")
            self._textarea = None
        elif tag in {"td", "th"} and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._textarea:
            self.forms[-1][self._textarea] += data
        if self._cell is not None:
            self._cell.append(data)


def parse(response):
    parser = PageParser()
    parser.feed(response.content.decode())
    return parser


def edit_form(response):
    """The fields of the section form on an edit page, revision token included."""
    return next(form for form in parse(response).forms if "revision" in form)


def edit_url(agreement, kind):
    return reverse("agreements:section_edit", args=[agreement.uuid, kind])


def open_editor(client, agreement, kind):
    response = client.get(edit_url(agreement, kind))
    assert response.status_code == 200
    return edit_form(response)


def fill_in(client, agreement):
    """Every section filled in through its edit form, as the mentor; then the
    mentee's own contact preferences, as the mentee."""
    inputs = [(client, kind, values) for kind, values in SECTION_INPUT.items()]
    inputs.append((make_client(agreement.mentee), "contact", MENTEE_CONTACT))
    for editor, kind, values in inputs:
        fields = open_editor(editor, agreement, kind)
        response = editor.post(edit_url(agreement, kind), {**fields, **values})
        assert response.status_code == 302, (kind, response.content.decode()[:2000])


def make_client(user):
    return client_for(Client(), user)


def run_at_once(*calls):
    """Run each call in its own thread, released together; return their results in order."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.fail(
            "Concurrent requests need a file-based SQLite test database. In the default "
            "shared-cache in-memory one, a second writer fails at once with 'database table "
            "is locked' instead of waiting for the lock: set DATABASES['default']['TEST']"
            "['NAME'] to a file."
        )
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            results[index] = call()
        except BaseException as exc:  # re-raised in the test thread below
            errors.append(exc)
        finally:
            # Each thread opened its own connection; left open, it stops
            # PostgreSQL from dropping the test database at the end.
            connections.close_all()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request thread hung"
    if errors:
        raise errors[0]
    return results


# Step by step ---------------------------------------------------------------


def test_stale_save_is_refused_with_their_changes_and_my_input_kept(agreement, mentor, mentee):
    mentor_client, mentee_client = make_client(mentor), make_client(mentee)
    url = edit_url(agreement, "schedule")
    mentor_form = open_editor(mentor_client, agreement, "schedule")
    mentee_form = open_editor(mentee_client, agreement, "schedule")
    assert mentor_form["revision"] == mentee_form["revision"] == "0"

    mentor_input = {**SECTION_INPUT["schedule"], "location": "Room 4.12, Library building"}
    response = mentor_client.post(url, {**mentor_form, **mentor_input})
    assert response.status_code == 302

    mentee_input = {
        **SECTION_INPUT["schedule"],
        "frequency": "weekly",
        "location": "Café Noor & Sons, upstairs",
    }
    response = mentee_client.post(url, {**mentee_form, **mentee_input})

    assert response.status_code == 409
    page = parse(response)
    html = response.content.decode()
    assert "Maria Mentor saved this section while you were editing it" in html
    assert "Nothing of yours was saved" in html
    changes = {row[0]: row[1:] for row in page.rows if len(row) == 3}
    assert changes["Place or link"] == ["—", "Room 4.12, Library building"]
    refreshed = edit_form(response)
    assert refreshed["revision"] == "1"
    assert refreshed["location"] == "Café Noor & Sons, upstairs"
    assert refreshed["frequency"] == "weekly"

    section = Section.objects.get(agreement=agreement, kind="schedule")
    assert (section.revision, section.updated_by) == (1, mentor)
    assert list(section.revisions.values_list("revision", flat=True)) == [0, 1]
    schedule = Agreement.objects.get(pk=agreement.pk).schedule
    assert (schedule.location, schedule.frequency) == ("Room 4.12, Library building", "fortnightly")

    # Saving again from the conflict page is a knowing overwrite.
    response = mentee_client.post(url, refreshed)
    assert response.status_code == 302
    section.refresh_from_db()
    assert (section.revision, section.updated_by) == (2, mentee)
    schedule.refresh_from_db()
    assert (schedule.location, schedule.frequency) == ("Café Noor & Sons, upstairs", "weekly")


# At the same moment -----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("kind", "mentor_input", "mentee_input"),
    [
        (
            "schedule",
            {**SECTION_INPUT["schedule"], "location": "Mentor's office"},
            {**SECTION_INPUT["schedule"], "location": "Mentee's office"},
        ),
        (
            "off_limits",
            {"topics-0-topic": "Mentor's topic", "topics-0-rule": "never"},
            {"topics-0-topic": "Mentee's topic", "topics-0-rule": "mentee_raises"},
        ),
    ],
    ids=["schedule", "off_limits"],
)
def test_simultaneous_saves_with_one_token_let_exactly_one_through(
    agreement, mentor, mentee, kind, mentor_input, mentee_input
):
    clients = {"mentor": make_client(mentor), "mentee": make_client(mentee)}
    inputs = {"mentor": mentor_input, "mentee": mentee_input}
    forms = {party: open_editor(c, agreement, kind) for party, c in clients.items()}
    url = edit_url(agreement, kind)

    def save(party):
        return lambda: clients[party].post(url, {**forms[party], **inputs[party]})

    responses = dict(zip(clients, run_at_once(save("mentor"), save("mentee")), strict=True))

    codes = sorted(response.status_code for response in responses.values())
    assert codes == [302, 409]
    winner = next(party for party, response in responses.items() if response.status_code == 302)
    section = Section.objects.get(agreement=agreement, kind=kind)
    assert section.revision == 1
    assert section.updated_by == {"mentor": mentor, "mentee": mentee}[winner]
    revisions = SectionRevision.objects.filter(section=section)
    assert list(revisions.values_list("revision", flat=True)) == [0, 1]
    agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
    if kind == "schedule":
        assert agreement.schedule.location == inputs[winner]["location"]
    else:
        assert [topic.topic for topic in agreement.off_limits_topics.all()] == [
            inputs[winner]["topics-0-topic"]
        ]
    assert revisions.get(revision=1).data == content.normalise(agreement.section_data(kind))


@pytest.mark.django_db(transaction=True)
def test_both_agreeing_every_section_at_once_opens_signing(agreement, mentor, mentee):
    fill_in(make_client(mentor), agreement)
    clients = [make_client(mentor), make_client(mentee)]
    revisions = dict(Section.objects.filter(agreement=agreement).values_list("kind", "revision"))

    def agree_all(client):
        def agree():
            return [
                client.post(
                    reverse("agreements:section_agree", args=[agreement.uuid, kind]),
                    {"revision": revisions[kind]},
                )
                for kind in Section.Kind.values
            ]

        return agree

    results = run_at_once(*(agree_all(client) for client in clients))

    assert [r.status_code for responses in results for r in responses] == [302] * 2 * len(
        Section.Kind
    )
    sections = Section.objects.filter(agreement=agreement)
    assert all(section.is_agreed for section in sections)
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.AWAITING_SIGNATURES


@pytest.mark.django_db(transaction=True)
def test_both_signing_at_once_activates_the_agreement_once(
    settings, mailoutbox, agreement, mentor, mentee
):
    fill_in(make_client(mentor), agreement)
    demo.agree_all(agreement)
    clients = {mentor: make_client(mentor), mentee: make_client(mentee)}
    url = reverse("agreements:sign", args=[agreement.uuid])
    forms = {}
    for user, client in clients.items():
        response = client.get(url)
        assert response.status_code == 200
        form = next(form for form in parse(response).forms if "content_hash" in form)
        forms[user] = {**form, "full_name": user.full_name, "consent": "on", "password": PASSWORD}

    def sign(user):
        return lambda: clients[user].post(url, forms[user], follow=True)

    responses = run_at_once(sign(mentor), sign(mentee))

    for response in responses:
        assert response.status_code == 200
        assert "You signed the agreement." in response.content.decode()
    agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
    assert agreement.status == Agreement.Status.ACTIVE
    assert agreement.activated_at == max(s.signed_at for s in agreement.signatures.all())
    version = agreement.version_in_force
    assert sorted(s.party for s in agreement.signatures_on(version)) == ["mentee", "mentor"]
    # Exactly one completion: one version in force, one sealed PDF, one email each.
    assert AgreementVersion.objects.filter(agreement=agreement).count() == 1
    assert agreement.audit_events.filter(kind=AuditEvent.Kind.IN_FORCE).count() == 1
    assert agreement.audit_events.filter(kind=AuditEvent.Kind.PDF_SEALED).count() == 1
    assert version.is_sealed
    stored = list((settings.MEDIA_ROOT / "agreements" / str(agreement.uuid)).iterdir())
    assert [path.name for path in stored] == [version.pdf.name.rsplit("/", 1)[-1]]
    assert sorted(message.to[0] for message in mail.outbox) == sorted([mentor.email, mentee.email])
    assert verify_chain(agreement) is None
    assert Signature.objects.filter(agreement=agreement).count() == 2


@pytest.mark.django_db(transaction=True)
def test_double_submitted_signature_counts_once(agreement, mentor, mentee):
    fill_in(make_client(mentor), agreement)
    demo.agree_all(agreement)
    client = make_client(mentee)
    url = reverse("agreements:sign", args=[agreement.uuid])
    form = next(form for form in parse(client.get(url)).forms if "content_hash" in form)
    data = {**form, "full_name": mentee.full_name, "consent": "on", "password": PASSWORD}
    # A second tab of the same session, as a double click would give.
    other_tab = Client()
    other_tab.cookies.update(client.cookies)

    responses = run_at_once(lambda: client.post(url, data), lambda: other_tab.post(url, data))

    assert [response.status_code for response in responses] == [302, 302]
    assert Signature.objects.filter(agreement=agreement).count() == 1
    agreement.refresh_from_db()
    assert agreement.status == Agreement.Status.AWAITING_SIGNATURES
