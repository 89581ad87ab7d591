"""A program that asks its members to log in with its single sign-on: a
session that logged in another way is shown the program's providers instead of
any of its pages (and nothing moves), the pages open after a login with one of
them, outsiders still get a 404, and only an admin who logged in with it may
turn the rule on."""

import datetime
import re
import socket
import time
from urllib.parse import urlencode

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.messages import get_messages
from django.db import connection, reset_queries
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from agreements.models import CalendarFeed, MeetingSchedule, Proposal, SharingConsent, User
from tests.helpers import (
    assert_unchanged,
    client_for,
    fresh,
    make_active,
    make_agreement,
    make_program,
)
from tests.test_program_template import settings_url, template_data

ASKED = "Test Programme asks its members to log in with their organisation's single sign-on"
NOT_SIGNED_ON = "Log in with the program&#x27;s single sign-on first"


def make_app(provider_id, name):
    # Rendering its button reads only the row: the server is asked at login.
    return SocialApp.objects.create(
        provider="openid_connect",
        provider_id=provider_id,
        name=name,
        client_id="c",
        secret="s",
        settings={"server_url": f"https://{provider_id}.example.test"},
    )


def sign_on_with(client, app):
    """The session as a login at ``app`` leaves it (``sign_on.remember``)."""
    session = client.session
    session["sign_on"] = {"app": app.pk, "provider": app.name, "auth_time": int(time.time())}
    session.save()
    return client


def require_sign_on(program):
    program.sign_on_required = True
    program.save()
    return program


def login_url(app, next_url):
    url = reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})
    return f"{url}?{urlencode({'process': 'login', 'next': next_url})}"


@pytest.fixture
def university(program):
    """The program's own provider."""
    app = make_app("university", "University")
    program.sign_on_providers.add(app)
    return app


@pytest.fixture
def installation():
    """A provider connected to no program: the installation's."""
    return make_app("installation", "Installation Login")


@pytest.fixture
def elsewhere(other_program):
    """A provider connected to another program only."""
    app = make_app("elsewhere", "Elsewhere Login")
    other_program.sign_on_providers.add(app)
    return app


@pytest.fixture
def strict(program, university):
    return require_sign_on(program)


@pytest.fixture
def active(program, mentor, mentee, program_admin, agreement):
    """In force for 60 days (its first check-in due today), with a proposal
    waiting on the schedule: every page of the pair has something to show."""
    schedule = fresh(agreement).sections_by_kind["schedule"]
    agreement.propose_change(
        "schedule",
        by=mentee,
        expected_revision=schedule.revision,
        save=lambda: MeetingSchedule.objects.filter(agreement=agreement).update(
            location="The library"
        ),
        form_data={"location": ["The library"]},
        reason="Quieter.",
    )
    return make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=60))


def values(agreement):
    proposal = Proposal.objects.get(section__agreement=agreement)
    return {
        "uuid": agreement.uuid,
        "date": agreement.checkins.first().date.isoformat(),
        "proposal": [proposal.section.kind, proposal.pk],
    }


def party_url(name, agreement, *args):
    return reverse(f"agreements:{name}", args=[agreement.uuid, *args])


# Every page of an agreement in force its mentor and mentee open, and what
# they get without the rule (tests/test_authorization.py, state "active").
PARTY_PAGES = {
    "detail": (200, lambda a, v: party_url("detail", a)),
    "section_edit": (200, lambda a, v: party_url("section_edit", a, "goals")),
    "section_history": (200, lambda a, v: party_url("section_history", a, "goals")),
    "section_discussion": (200, lambda a, v: party_url("section_discussion", a, "goals")),
    "section_proposal": (200, lambda a, v: party_url("section_proposal", a, *v["proposal"])),
    "sign": (302, lambda a, v: party_url("sign", a)),
    "pdf": (302, lambda a, v: party_url("pdf", a)),
    "version_list": (200, lambda a, v: party_url("version_list", a)),
    "version_compare": (200, lambda a, v: party_url("version_compare", a)),
    "version_detail": (200, lambda a, v: party_url("version_detail", a, 1)),
    "version_pdf": (302, lambda a, v: party_url("version_pdf", a, 1)),
    "trail": (200, lambda a, v: party_url("trail", a)),
    "checkins": (200, lambda a, v: party_url("checkins", a)),
    "checkin_record": (200, lambda a, v: party_url("checkin_record", a, v["date"])),
    "meetings": (200, lambda a, v: party_url("meetings", a)),
    "off_limits_add": (200, lambda a, v: party_url("off_limits_add", a)),
    "exit": (200, lambda a, v: party_url("exit", a)),
    "closing_note": (200, lambda a, v: party_url("closing_note", a)),
    "calendar_ics": (200, lambda a, v: party_url("calendar_ics", a)),
    "sharing": (200, lambda a, v: party_url("sharing", a)),
}

# Every route of the pair that moves something, posted to.
PARTY_MOVES = {
    "section_edit": lambda a, v: party_url("section_edit", a, "goals"),
    "section_agree": lambda a, v: party_url("section_agree", a, "goals"),
    "proposal_accept": lambda a, v: party_url("proposal_accept", a, *v["proposal"]),
    "proposal_decline": lambda a, v: party_url("proposal_decline", a, *v["proposal"]),
    "proposal_withdraw": lambda a, v: party_url("proposal_withdraw", a, *v["proposal"]),
    "sign": lambda a, v: party_url("sign", a),
    "amend": lambda a, v: party_url("amend", a),
    "withdraw_amendment": lambda a, v: party_url("withdraw_amendment", a),
    "checkin_record": lambda a, v: party_url("checkin_record", a, v["date"]),
    "checkin_answer": lambda a, v: party_url("checkin_answer", a, v["date"]),
    "meetings": lambda a, v: party_url("meetings", a),
    "meeting_confirm": lambda a, v: party_url("meeting_confirm", a, 1),
    "meeting_decline": lambda a, v: party_url("meeting_decline", a, 1),
    "meeting_correct": lambda a, v: party_url("meeting_correct", a, 1),
    "meetings_pause": lambda a, v: party_url("meetings_pause", a),
    "meetings_resume": lambda a, v: party_url("meetings_resume", a),
    "survey": lambda a, v: party_url("survey", a, "midpoint"),
    "off_limits_add": lambda a, v: party_url("off_limits_add", a),
    "exit": lambda a, v: party_url("exit", a),
    "closing_note": lambda a, v: party_url("closing_note", a),
    "sharing_share": lambda a, v: party_url("sharing_share", a, "goals"),
    "sharing_withdraw": lambda a, v: party_url("sharing_withdraw", a, "goals"),
    "sharing_share_discussion": lambda a, v: party_url("sharing_share_discussion", a, "goals"),
    "sharing_withdraw_discussion": lambda a, v: party_url(
        "sharing_withdraw_discussion", a, "goals"
    ),
}


def pairing_url(name, program, agreement):
    return reverse(f"agreements:{name}", args=[program.uuid, agreement.uuid])


# Every page of a program, and of one of its pairings, its admin opens.
ADMIN_PAGES = {
    "program": lambda p, a: reverse("agreements:program", args=[p.uuid]),
    "export": lambda p, a: reverse("agreements:program_export", args=[p.uuid]),
    "outcomes": lambda p, a: reverse("agreements:program_outcomes", args=[p.uuid]),
    "outcomes_csv": lambda p, a: reverse(
        "agreements:program_outcomes_csv", args=[p.uuid, "statuses"]
    ),
    "settings": lambda p, a: settings_url(p),
    "pairing_new": lambda p, a: reverse("agreements:pairing_new", args=[p.uuid]),
    "pairing_import": lambda p, a: reverse("agreements:pairing_import", args=[p.uuid]),
    "pairing": lambda p, a: pairing_url("pairing", p, a),
    "pairing_end": lambda p, a: pairing_url("pairing_end", p, a),
    "pairing_repair": lambda p, a: pairing_url("pairing_repair", p, a),
}

ADMIN_MOVES = {
    **{name: ADMIN_PAGES[name] for name in ("settings", "pairing_new", "pairing_import")},
    **{name: ADMIN_PAGES[name] for name in ("pairing_end", "pairing_repair")},
    "pairing_remind": lambda p, a: pairing_url("pairing_remind", p, a),
}

# What a move's form posts; each view reads what it needs and ignores the rest.
POSTED = {
    "revision": "1",
    "reason": "Enough.",
    "mentor_name": "Mara Mentor",
    "mentor_email": "mara@example.com",
    "mentee_name": "Mick Mentee",
    "mentee_email": "mick@example.com",
    "note": "A note.",
}


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def assert_asked_to_sign_on(response, url, apps):
    """The 403 page: the program named, a POST form per provider that logs
    in there and comes back to ``url``, nothing of the page asked for (the
    other people's names, the proposal; the viewer's own name is in the menu)."""
    assert response.status_code == 403, url
    assert response["Content-Type"].startswith("text/html")
    text = response.text
    assert ASKED in text, url
    for app in apps:
        action = escape(login_url(app, url))
        assert f'<form method="post" action="{action}">' in text, url
        assert f"Log in with {app.name}" in text
    assert text.count('<form method="post" action="/accounts/oidc/') == len(apps), url
    viewer = response.wsgi_request.user.full_name
    for shown_elsewhere in {"Milo Mentee", "Maria Mentor", "The library"} - {viewer}:
        assert shown_elsewhere not in text, url
    assert messages_of(response) == []


# 1. A password session is asked to log in with the program's provider -----------


@pytest.mark.parametrize("persona", ["mentor", "mentee"])
def test_a_party_with_a_password_session_is_asked_on_every_page(
    client, request, persona, strict, university, active
):
    client_for(client, request.getfixturevalue(persona))
    v = values(active)
    for _expected, url_of in PARTY_PAGES.values():
        url = url_of(active, v)
        assert_asked_to_sign_on(client.get(url), url, [university])


@pytest.mark.parametrize("persona", ["mentor", "mentee"])
def test_a_party_with_a_password_session_moves_nothing(
    client, request, persona, strict, university, active, mailoutbox
):
    client_for(client, request.getfixturevalue(persona))
    v = values(active)
    detail = party_url("detail", active)
    for url_of in PARTY_MOVES.values():
        url = url_of(active, v)
        with assert_unchanged(active, strict):
            response = client.post(url, POSTED, headers={"referer": f"http://testserver{detail}"})
        # Back, after the login, to the page the form was on: an action
        # answers only a POST.
        assert_asked_to_sign_on(response, detail, [university])
    assert not mailoutbox


def test_a_refused_post_from_elsewhere_comes_back_home(client, mentor, strict, university, active):
    client_for(client, mentor)
    url = party_url("sharing", active)
    for referer in ({}, {"referer": "https://evil.example.test/"}):
        response = client.post(url, POSTED, headers=referer)
        assert_asked_to_sign_on(response, "/", [university])


def test_the_admin_with_a_password_session_is_asked_on_every_page(
    client, program_admin, strict, university, active
):
    client_for(client, program_admin)
    for url_of in ADMIN_PAGES.values():
        url = url_of(strict, active)
        assert_asked_to_sign_on(client.get(url), url, [university])


def test_the_admin_with_a_password_session_moves_nothing(
    client, program_admin, strict, university, active, mailoutbox
):
    client_for(client, program_admin)
    dashboard = reverse("agreements:program", args=[strict.uuid])
    for url_of in ADMIN_MOVES.values():
        url = url_of(strict, active)
        with assert_unchanged(active, strict):
            response = client.post(
                url, POSTED, headers={"referer": f"http://testserver{dashboard}"}
            )
        assert_asked_to_sign_on(response, dashboard, [university])
    assert not mailoutbox


def test_the_query_string_comes_back_too(client, mentor, strict, university, active):
    client_for(client, mentor)
    url = party_url("version_compare", active) + "?from=1&to=1"
    assert_asked_to_sign_on(client.get(url), url, [university])


def test_a_superuser_admin_is_not_exempt(client, program_admin, strict, university, active):
    program_admin.is_superuser = program_admin.is_staff = True
    program_admin.save()
    client_for(client, program_admin)
    url = ADMIN_PAGES["program"](strict, active)
    assert_asked_to_sign_on(client.get(url), url, [university])


def test_a_second_factor_is_asked_for_first(client, program_admin, strict, active):
    strict.admins_need_second_factor = True
    strict.save()
    client_for(client, program_admin)
    response = client.get(ADMIN_PAGES["program"](strict, active))
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_index")


def test_rendering_the_buttons_asks_no_server(
    client, mentor, strict, university, active, monkeypatch
):
    attempts = []

    def refuse(sock, address):
        attempts.append(address)
        raise OSError("no network in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    client_for(client, mentor)
    url = party_url("detail", active)
    assert_asked_to_sign_on(client.get(url), url, [university])
    assert attempts == []


def test_a_program_without_any_provider_says_so(client, mentor, program, active):
    require_sign_on(program)
    client_for(client, mentor)
    response = client.get(party_url("detail", active))
    assert response.status_code == 403
    assert ASKED in response.text
    assert "No single sign-on is set up for it yet: ask the program's admins." in response.text
    assert "/accounts/oidc/" not in response.text


# 2. A session that logged in with the program's provider opens them -------------


@pytest.mark.parametrize("persona", ["mentor", "mentee"])
def test_a_party_signed_on_with_its_provider_opens_every_page(
    client, request, persona, strict, university, active
):
    sign_on_with(client_for(client, request.getfixturevalue(persona)), university)
    v = values(active)
    wrong = []
    for name, (expected, url_of) in PARTY_PAGES.items():
        got = client.get(url_of(active, v)).status_code
        if got != expected:
            wrong.append(f"{name}: {got}, expected {expected}")
    assert wrong == []


def test_a_party_signed_on_makes_a_move(client, mentor, strict, university, active):
    sign_on_with(client_for(client, mentor), university)
    assert not SharingConsent.objects.filter(agreement=active).exists()
    response = client.post(PARTY_MOVES["sharing_share"](active, values(active)))
    assert response.status_code == 302
    assert SharingConsent.objects.filter(agreement=active, kind="goals").exists()


def test_the_admin_signed_on_with_its_provider_opens_every_page(
    client, program_admin, strict, university, active
):
    sign_on_with(client_for(client, program_admin), university)
    wrong = []
    for name, url_of in ADMIN_PAGES.items():
        response = client.get(url_of(strict, active))
        if response.status_code != 200 or messages_of(response):
            wrong.append(f"{name}: {response.status_code}")
    assert wrong == []


def test_the_admin_signed_on_makes_a_move(client, program_admin, strict, university, active):
    sign_on_with(client_for(client, program_admin), university)
    response = client.post(ADMIN_MOVES["pairing_remind"](strict, active))
    assert response.status_code == 302
    assert response["Location"] == ADMIN_PAGES["pairing"](strict, active)
    assert messages_of(response) == [
        "A reminder is on its way to Maria Mentor and Milo Mentee, each with what waits for them."
    ]


# 3. Which providers count ------------------------------------------------------


def test_another_provider_is_refused(client, mentor, strict, university, elsewhere, active):
    sign_on_with(client_for(client, mentor), elsewhere)
    url = party_url("detail", active)
    assert_asked_to_sign_on(client.get(url), url, [university])


def test_the_installations_provider_does_not_stand_in_for_the_programs(
    client, mentor, strict, university, installation, active
):
    sign_on_with(client_for(client, mentor), installation)
    url = party_url("detail", active)
    assert_asked_to_sign_on(client.get(url), url, [university])


def test_a_program_without_its_own_uses_the_installations(
    client, mentor, program, installation, elsewhere, active
):
    require_sign_on(program)
    client_for(client, mentor)
    url = party_url("detail", active)
    assert_asked_to_sign_on(client.get(url), url, [installation])
    sign_on_with(client, elsewhere)
    assert_asked_to_sign_on(client.get(url), url, [installation])
    sign_on_with(client, installation)
    assert client.get(url).status_code == 200


def test_a_deleted_provider_no_longer_counts(client, mentor, strict, university, active):
    sign_on_with(client_for(client, mentor), university)
    url = party_url("detail", active)
    assert client.get(url).status_code == 200
    replacement = make_app("university-new", "University")
    strict.sign_on_providers.set([replacement])
    university.delete()
    assert_asked_to_sign_on(client.get(url), url, [replacement])


def test_the_rule_is_per_program(client, mentor, mentee, program_admin, strict, university, active):
    relaxed = make_program("Relaxed Programme", program_admin)
    other = make_agreement(relaxed, mentor, mentee, program_admin)
    client_for(client, mentor)
    assert client.get(party_url("detail", other)).status_code == 200
    assert client.get(party_url("detail", active)).status_code == 403


# 4. Outsiders get the 404 first ------------------------------------------------


@pytest.mark.parametrize("rule", [False, True])
@pytest.mark.parametrize("persona", ["outsider", "program_admin", "other_admin"])
def test_outsiders_get_404_for_the_pairs_pages(
    client, request, persona, rule, program, university, active
):
    # A 403 would tell them the agreement exists, and how its program logs in.
    program.sign_on_required = rule
    program.save()
    client_for(client, request.getfixturevalue(persona))
    v = values(active)
    wrong = []
    for name, (_, url_of) in PARTY_PAGES.items():
        response = client.get(url_of(active, v))
        if response.status_code != 404 or "sign-on" in response.text:
            wrong.append(f"GET {name}: {response.status_code}")
    with assert_unchanged(active, program):
        for name, url_of in PARTY_MOVES.items():
            if (code := client.post(url_of(active, v), POSTED).status_code) != 404:
                wrong.append(f"POST {name}: {code}")
    assert wrong == []


@pytest.mark.parametrize("rule", [False, True])
@pytest.mark.parametrize("persona", ["mentor", "mentee", "outsider", "other_admin"])
def test_outsiders_get_404_for_the_programs_pages(
    client, request, persona, rule, program, university, active
):
    program.sign_on_required = rule
    program.save()
    client_for(client, request.getfixturevalue(persona))
    wrong = []
    for name, url_of in ADMIN_PAGES.items():
        response = client.get(url_of(program, active))
        if response.status_code != 404 or "sign-on" in response.text:
            wrong.append(f"GET {name}: {response.status_code}")
    with assert_unchanged(active, program):
        for name, url_of in ADMIN_MOVES.items():
            if (code := client.post(url_of(program, active), POSTED).status_code) != 404:
                wrong.append(f"POST {name}: {code}")
    assert wrong == []


def test_an_outsider_signed_on_with_the_provider_still_gets_404(
    client, outsider, strict, university, active
):
    sign_on_with(client_for(client, outsider), university)
    assert client.get(party_url("detail", active)).status_code == 404
    assert client.get(ADMIN_PAGES["program"](strict, active)).status_code == 404


# 5. What the check costs ---------------------------------------------------------


# How the menu's count query (agreements/context_processors.py) begins.
def queries_for(client, url):
    client.get(url)  # the session's first reads out of the way
    # The log keeps the last 9000 queries: a test this long would slide past
    # the context's indices, so start it empty and copy what it caught.
    reset_queries()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return list(queries)


def outermost(sql):
    """The statement without its subqueries (what stands in parentheses)."""
    while (inner_gone := re.sub(r"\([^()]*\)", "", sql)) != sql:
        sql = inner_gone
    return sql


def about_providers(queries):
    """The queries that look up providers: those reading a provider table
    themselves, not the menu's count, which applies the rule in a subquery of
    its one query (tests/test_waiting.py)."""
    return [q["sql"] for q in queries if '"socialaccount_' in outermost(q["sql"])]


@pytest.mark.parametrize("page", ["detail", "dashboard"])
def test_the_check_costs_one_query_and_only_under_the_rule(
    client, program, program_admin, mentor, active, page
):
    if page == "detail":
        client_for(client, mentor)
        url = party_url("detail", active)
    else:
        client_for(client, program_admin)
        url = ADMIN_PAGES["program"](program, active)
    without_provider = queries_for(client, url)

    app = make_app("university", "University")
    program.sign_on_providers.add(app)
    with_provider = queries_for(client, url)
    sign_on_with(client, app)
    with_provider_signed_on = queries_for(client, url)

    require_sign_on(program)
    under_the_rule = queries_for(client, url)

    assert len(with_provider) == len(without_provider)
    assert len(with_provider_signed_on) == len(without_provider)
    assert about_providers(without_provider) == []
    assert about_providers(with_provider_signed_on) == []
    assert len(under_the_rule) == len(without_provider) + 1
    assert len(about_providers(under_the_rule)) == 1


def test_the_installations_providers_cost_no_second_query(
    client, program, mentor, installation, active
):
    # sign_on.providers_for: the program's own or else the installation's, in one query.
    client_for(client, mentor)
    url = party_url("detail", active)
    relaxed = queries_for(client, url)
    require_sign_on(program)
    sign_on_with(client, installation)
    asked = queries_for(client, url)
    assert len(asked) == len(relaxed) + 1
    assert len(about_providers(asked)) == 1


@pytest.mark.parametrize("persona", ["mentor", "mentee", "program_admin"])
def test_a_program_that_does_not_ask_opens_as_before(
    client, request, persona, program, university, active
):
    # A provider connected, the rule off: a password session opens everything.
    client_for(client, request.getfixturevalue(persona))
    v = values(active)
    if persona != "program_admin":
        urls = {name: (code, url_of(active, v)) for name, (code, url_of) in PARTY_PAGES.items()}
    else:
        urls = {name: (200, url_of(program, active)) for name, url_of in ADMIN_PAGES.items()}
    wrong = [
        f"{name}: {got}"
        for name, (code, url) in urls.items()
        if (got := client.get(url).status_code) != code
    ]
    assert wrong == []


# 6. The setting ------------------------------------------------------------------


def form_errors(response):
    return {
        field: [error.code for error in errors]
        for field, errors in response.context["form"].errors.as_data().items()
    }


def test_the_settings_page_offers_the_setting(client, program_admin, program):
    page = client_for(client, program_admin).get(settings_url(program))
    assert page.status_code == 200
    assert "Members log in with single sign-on" in page.text
    assert 'name="sign_on_required"' in page.text


def test_turning_it_on_without_signing_on_is_refused(client, program_admin, program, university):
    client_for(client, program_admin)
    with assert_unchanged(program):
        response = client.post(
            settings_url(program), template_data(sign_on_required="on", unsigned_flag_days="20")
        )
    assert response.status_code == 200
    assert form_errors(response) == {"sign_on_required": ["not_signed_on"]}
    assert NOT_SIGNED_ON in response.text
    assert messages_of(response) == []


def test_turning_it_on_signed_on_with_another_provider_is_refused(
    client, program_admin, program, university, elsewhere, installation
):
    client_for(client, program_admin)
    for app in (elsewhere, installation):
        sign_on_with(client, app)
        with assert_unchanged(program):
            response = client.post(settings_url(program), template_data(sign_on_required="on"))
        assert form_errors(response) == {"sign_on_required": ["not_signed_on"]}


def test_turning_it_on_without_any_provider_is_refused(client, program_admin, program):
    client_for(client, program_admin)
    with assert_unchanged(program):
        response = client.post(settings_url(program), template_data(sign_on_required="on"))
    assert form_errors(response) == {"sign_on_required": ["not_signed_on"]}


def test_signed_on_with_its_provider_the_admin_turns_it_on(
    client, program_admin, program, university
):
    sign_on_with(client_for(client, program_admin), university)
    response = client.post(settings_url(program), template_data(sign_on_required="on"), follow=True)
    assert response.redirect_chain == [(settings_url(program), 302)]
    assert response.status_code == 200
    assert messages_of(response)[0].startswith("Template saved.")
    program.refresh_from_db()
    assert program.sign_on_required


def test_signed_on_with_the_installations_the_admin_of_a_program_without_its_own_turns_it_on(
    client, program_admin, program, installation
):
    sign_on_with(client_for(client, program_admin), installation)
    response = client.post(settings_url(program), template_data(sign_on_required="on"))
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.sign_on_required


def test_turning_it_off_works(client, program_admin, strict, university):
    sign_on_with(client_for(client, program_admin), university)
    response = client.post(settings_url(strict), template_data())
    assert response.status_code == 302
    strict.refresh_from_db()
    assert not strict.sign_on_required
    # A password session opens the pages again.
    client.logout()
    client_for(client, program_admin)
    assert client.get(settings_url(strict)).status_code == 200


def test_keeping_it_on_saves_the_rest(client, program_admin, strict, university):
    sign_on_with(client_for(client, program_admin), university)
    response = client.post(
        settings_url(strict), template_data(sign_on_required="on", unsigned_flag_days="20")
    )
    assert response.status_code == 302
    strict.refresh_from_db()
    assert strict.sign_on_required
    assert strict.unsigned_flag_days == 20


def test_saving_other_settings_needs_no_sign_on(client, program_admin, program, university):
    client_for(client, program_admin)
    response = client.post(settings_url(program), template_data(unsigned_flag_days="20"))
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.unsigned_flag_days == 20
    assert not program.sign_on_required


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.com", "x", full_name="Root")


@pytest.mark.parametrize("rule", [False, True])
def test_a_superuser_who_is_not_its_admin_gets_404(client, superuser, program, university, rule):
    # The program's pages are its admins' (Program.objects.administered_by):
    # a superuser connects providers and sets the rule in the Django admin.
    program.sign_on_required = rule
    program.save()
    sign_on_with(client_for(client, superuser), university)
    assert client.get(settings_url(program)).status_code == 404
    with assert_unchanged(program):
        response = client.post(settings_url(program), template_data(sign_on_required="on"))
    assert response.status_code == 404


def test_a_superuser_admin_needs_the_sign_on_like_any_admin(
    client, program_admin, program, university
):
    program_admin.is_superuser = program_admin.is_staff = True
    program_admin.save()
    client_for(client, program_admin)
    with assert_unchanged(program):
        response = client.post(settings_url(program), template_data(sign_on_required="on"))
    assert form_errors(response) == {"sign_on_required": ["not_signed_on"]}


def test_the_django_admin_offers_the_rule_and_the_providers(client, superuser, program):
    page = client_for(client, superuser).get(
        reverse("admin:agreements_program_change", args=[program.pk])
    )
    assert page.status_code == 200
    for field in ("sign_on_required", "sign_on_providers", "sign_on_creates_accounts"):
        assert f'name="{field}"' in page.text


# 7. Home and the calendar page leave out what the program keeps behind it ---------

HOME_ASKED = (
    "This program asks its members to log in with their organisation's single sign-on "
    "before they see their agreement."
)


def test_home_shows_the_program_and_how_to_log_in_not_the_agreement(
    client, mentor, strict, university, active
):
    client_for(client, mentor)
    response = client.get(reverse("agreements:home"))
    assert response.status_code == 200
    text = response.text
    assert HOME_ASKED in text
    assert strict.name in text
    home = reverse("agreements:home")
    assert f'<form method="post" action="{escape(login_url(university, home))}">' in text
    assert "Milo Mentee" not in text
    assert reverse("agreements:detail", args=[active.uuid]) not in text
    assert "You have no mentoring agreements yet" not in text


def test_home_shows_the_agreement_once_signed_on(client, mentor, strict, university, active):
    sign_on_with(client_for(client, mentor), university)
    text = client.get(reverse("agreements:home")).text
    assert HOME_ASKED not in text
    assert reverse("agreements:detail", args=[active.uuid]) in text


def test_an_admin_of_a_program_with_their_own_locked_agreement_is_not_sent_away(
    client, program_admin, other_program, mentee, strict, university
):
    # Running another program, paired in this one: home shows both, no redirect.
    other_program.admins.add(program_admin)
    make_agreement(strict, program_admin, mentee, program_admin)
    client_for(client, program_admin)
    response = client.get(reverse("agreements:home"))
    assert response.status_code == 200
    assert HOME_ASKED in response.text


def test_the_calendar_page_leaves_out_a_locked_agreement(
    client, mentor, strict, university, active
):
    client_for(client, mentor)
    assert "Milo Mentee" not in client.get(reverse("agreements:calendar")).text
    sign_on_with(client, university)
    assert "Milo Mentee" in client.get(reverse("agreements:calendar")).text


def test_home_costs_no_query_more_for_programs_that_do_not_ask(
    client, mentor, program, university, active
):
    client_for(client, mentor)
    url = reverse("agreements:home")
    before = len(queries_for(client, url))
    university.delete()
    assert len(queries_for(client, url)) == before


def test_the_calendar_feed_leaves_out_a_program_that_asks_for_single_sign_on(
    client, mentor, strict, university, active
):
    """A secret address is no login with the organisation."""
    feed = CalendarFeed.objects.create(user=mentor)
    url = reverse("agreements:calendar_feed", args=[feed.token])
    client.logout()
    assert "Milo Mentee" not in client.get(url).content.decode()
    strict.sign_on_required = False
    strict.save()
    assert "Milo Mentee" in client.get(url).content.decode()
