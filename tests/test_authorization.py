"""The authorization matrix: every URL of the app, for every role, in every
state of an agreement, gives the answer written here.

A route missing from ``MATRIX`` fails ``test_every_route_is_in_the_matrix``,
so a new page cannot skip the check. Outsiders always get 404, never 403, so
that an answer does not reveal that a pairing exists. (The Django admin's own
routes are for superusers only; ``test_django_admin`` covers them.)
"""

import datetime

import pytest
from allauth.socialaccount.models import SocialApp
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from agreements import demo
from agreements.invitations import invitation_tokens
from agreements.models import Agreement, CalendarFeed, MeetingSchedule, Proposal, User
from agreements.services import pairing_create
from tests.helpers import assert_unchanged, fresh, make_active, make_user
from tests.saml_idp import new_idp

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "mentor",
    "mentee",
    "other_mentor",
    "other_mentee",
    "program_admin",
    "other_admin",
    "superuser",
]
PARTIES = {"mentor", "mentee"}
STATES = ["draft", "awaiting", "active", "ended"]

LOGIN = "login"  # a redirect to the login page
OK, ACCEPTED, REDIRECT, FORBIDDEN, NOT_FOUND, NOT_ALLOWED = 200, 202, 302, 403, 404, 405
# allauth's answers to a single sign-on step taken out of turn.
BAD_REQUEST, UNAUTHORIZED = 400, 401


def by_state(draft, awaiting, active, ended):
    return dict(zip(STATES, (draft, awaiting, active, ended), strict=True))


def every_state(answer):
    return by_state(answer, answer, answer, answer)


# Who may use a route:
#   "party": the agreement's mentor and mentee get the answer by state,
#            everyone else signed in 404, anonymous the login page.
#   "admin": the program's admins get the answer by state, everyone else
#            signed in 404, anonymous the login page.
#   "user":  anyone signed in gets the answer; anonymous the login page.
#   "superuser": superusers get the answer, everyone else signed in 404,
#            anonymous the login page.
#   "public": everyone gets the answer, signed in or not.
#   "entrance": anonymous gets the answer, anyone signed in a redirect home.
# POST-only routes answer GET with 405 (after the login check) and are also
# posted to by every role but those allowed, which must change nothing.
MATRIX = {
    # The pair's pages ------------------------------------------------------
    "agreements:detail": ("party", every_state(OK)),
    # Active: the page proposes the change, which starts an amendment.
    "agreements:section_edit": ("party", by_state(OK, OK, OK, FORBIDDEN)),
    "agreements:section_agree": ("party", every_state(NOT_ALLOWED)),
    "agreements:section_history": ("party", every_state(OK)),
    "agreements:section_discussion": ("party", every_state(OK)),
    "agreements:section_proposal": ("party", every_state(OK)),
    "agreements:proposal_accept": ("party", every_state(NOT_ALLOWED)),
    "agreements:proposal_decline": ("party", every_state(NOT_ALLOWED)),
    "agreements:proposal_withdraw": ("party", every_state(NOT_ALLOWED)),
    "agreements:sign": ("party", by_state(REDIRECT, OK, REDIRECT, REDIRECT)),
    # A draft is being prepared by the worker (202); signed: to the sealed
    # version; ended: the final record (here still being sealed).
    "agreements:pdf": ("party", by_state(ACCEPTED, ACCEPTED, REDIRECT, REDIRECT)),
    "agreements:amend": ("party", every_state(NOT_ALLOWED)),
    "agreements:withdraw_amendment": ("party", every_state(NOT_ALLOWED)),
    "agreements:version_list": ("party", every_state(OK)),
    # Pages of what does not exist yet (no signed version, no check-in to
    # answer, nothing in force to leave) are 404 for the pair too.
    "agreements:version_compare": ("party", by_state(NOT_FOUND, NOT_FOUND, OK, OK)),
    "agreements:version_detail": ("party", by_state(NOT_FOUND, NOT_FOUND, OK, OK)),
    "agreements:version_pdf": ("party", by_state(NOT_FOUND, NOT_FOUND, REDIRECT, REDIRECT)),
    "agreements:trail": ("party", every_state(OK)),
    "agreements:checkins": ("party", by_state(REDIRECT, REDIRECT, OK, OK)),
    "agreements:checkin_record": ("party", by_state(NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)),
    "agreements:checkin_answer": ("party", every_state(NOT_FOUND)),
    "agreements:meetings": ("party", by_state(REDIRECT, REDIRECT, OK, OK)),
    "agreements:meeting_confirm": ("party", every_state(NOT_ALLOWED)),
    "agreements:meeting_decline": ("party", every_state(NOT_ALLOWED)),
    # No meeting is logged in these states: nothing to correct.
    "agreements:meeting_correct": ("party", every_state(NOT_FOUND)),
    "agreements:meetings_pause": ("party", every_state(NOT_ALLOWED)),
    "agreements:meetings_resume": ("party", every_state(NOT_ALLOWED)),
    # The end-of-term survey (url_for's moment): not open 60 days into the
    # term, open for 60 days after the end (here, today).
    "agreements:survey": ("party", by_state(NOT_FOUND, NOT_FOUND, NOT_FOUND, OK)),
    "agreements:off_limits_add": ("party", by_state(NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)),
    "agreements:exit": ("party", by_state(NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)),
    "agreements:closing_note": ("party", by_state(NOT_FOUND, NOT_FOUND, OK, NOT_FOUND)),
    "agreements:calendar_ics": ("party", by_state(NOT_FOUND, NOT_FOUND, OK, OK)),
    "agreements:sharing": ("party", every_state(OK)),
    "agreements:sharing_share": ("party", every_state(NOT_ALLOWED)),
    "agreements:sharing_withdraw": ("party", every_state(NOT_ALLOWED)),
    "agreements:sharing_share_discussion": ("party", every_state(NOT_ALLOWED)),
    "agreements:sharing_withdraw_discussion": ("party", every_state(NOT_ALLOWED)),
    # The program admin's pages ----------------------------------------------
    "agreements:program": ("admin", every_state(OK)),
    "agreements:program_export": ("admin", every_state(OK)),
    "agreements:program_outcomes": ("admin", every_state(OK)),
    "agreements:program_outcomes_csv": ("admin", every_state(OK)),
    "agreements:program_settings": ("admin", every_state(OK)),
    "agreements:pairing_new": ("admin", every_state(OK)),
    "agreements:pairing_import": ("admin", every_state(OK)),
    "agreements:pairing": ("admin", every_state(OK)),
    "agreements:pairing_remind": ("admin", every_state(NOT_ALLOWED)),
    "agreements:pairing_end": ("admin", by_state(OK, OK, OK, REDIRECT)),
    "agreements:pairing_repair": ("admin", by_state(OK, OK, OK, REDIRECT)),
    # Anyone signed in -------------------------------------------------------
    "agreements:home": ("user", every_state(OK)),
    "agreements:account": ("user", every_state(OK)),
    "agreements:calendar": ("user", every_state(OK)),
    "agreements:calendar_regenerate": ("user", every_state(NOT_ALLOWED)),
    "agreements:program_list": ("user", every_state(OK)),
    "password_change": ("user", every_state(OK)),
    "password_change_done": ("user", every_state(OK)),
    "logout": ("user", every_state(NOT_ALLOWED)),
    "account_logout": ("user", every_state(NOT_ALLOWED)),
    "account_change_password": ("user", every_state(OK)),
    "account_reauthenticate": ("user", every_state(OK)),
    # The second factor: adding, changing or removing one asks for the
    # password again first; pages of a factor the person has not got are 404.
    "mfa_index": ("user", every_state(OK)),
    "mfa_activate_totp": ("user", every_state(REDIRECT)),
    "mfa_deactivate_totp": ("user", every_state(NOT_FOUND)),
    "mfa_view_recovery_codes": ("user", every_state(NOT_FOUND)),
    "mfa_download_recovery_codes": ("user", every_state(NOT_FOUND)),
    "mfa_generate_recovery_codes": ("user", every_state(REDIRECT)),
    "mfa_list_webauthn": ("user", every_state(OK)),
    "mfa_add_webauthn": ("user", every_state(REDIRECT)),
    "mfa_edit_webauthn": ("user", every_state(REDIRECT)),
    "mfa_remove_webauthn": ("user", every_state(REDIRECT)),
    "mfa_reauthenticate": ("user", every_state(REDIRECT)),
    "mfa_reauthenticate_webauthn": ("user", every_state(REDIRECT)),
    # Signing in --------------------------------------------------------------
    # The login page and its next steps; someone signed in is sent home.
    "login": ("entrance", every_state(OK)),
    "account_login": ("entrance", every_state(OK)),
    # Only halfway through a login (a password typed, a factor to come).
    "mfa_authenticate": ("entrance", every_state(LOGIN)),
    "mfa_login_webauthn": ("entrance", every_state(LOGIN)),
    # Single sign-on: starting it (a page that posts to it), the provider's
    # answer (refused here: no login was started), the SAML metadata, and
    # allauth's pages for a cancelled or failed one and an inactive account.
    "openid_connect_login": ("public", every_state(OK)),
    "openid_connect_callback": ("public", every_state(UNAUTHORIZED)),
    "saml_login": ("public", every_state(OK)),
    "saml_acs": ("public", every_state(REDIRECT)),
    "saml_finish_acs": ("public", every_state(UNAUTHORIZED)),
    "saml_sls": ("public", every_state(BAD_REQUEST)),
    "saml_metadata": ("public", every_state(OK)),
    "socialaccount_login_cancelled": ("public", every_state(OK)),
    "socialaccount_login_error": ("public", every_state(UNAUTHORIZED)),
    "account_inactive": ("public", every_state(OK)),
    # Superusers only --------------------------------------------------------
    "agreements:sent_emails": ("superuser", every_state(OK)),
    # Public -----------------------------------------------------------------
    "agreements:calendar_feed": ("public", every_state(OK)),
    "verify": ("public", every_state(OK)),
    "verify_root_certificate": ("public", every_state(OK)),
    "invitation_accept": ("public", every_state(REDIRECT)),
    "password_reset": ("public", every_state(OK)),
    "account_reset_password": ("public", every_state(OK)),
    "password_reset_done": ("public", every_state(OK)),
    "password_reset_confirm": ("public", every_state(OK)),
    "password_reset_complete": ("public", every_state(OK)),
    "how_it_works": ("public", every_state(OK)),
    "accessibility": ("public", every_state(OK)),
    "language": ("public", every_state(NOT_ALLOWED)),
}

# The names allauth links to, for pages that have another name above: the
# same addresses, checked under both names here, looked at once elsewhere.
ALIASES = {
    "account_login",
    "account_logout",
    "account_reset_password",
    "account_change_password",
}

# Someone who runs exactly one program goes straight to its dashboard, from
# the list of programs and, having no agreement of their own, from home.
USER_OVERRIDES = {
    ("agreements:program_list", "program_admin"): REDIRECT,
    ("agreements:program_list", "other_admin"): REDIRECT,
    ("agreements:home", "program_admin"): REDIRECT,
    ("agreements:home", "other_admin"): REDIRECT,
}


def routes(patterns=None, namespace="", params=()):
    """{name: its URL parameters} for every named route outside the Django admin."""
    found = {}
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        own = params + tuple(pattern.pattern.regex.groupindex)
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            found.update(routes(pattern.url_patterns, inner, own))
        elif isinstance(pattern, URLPattern) and pattern.name:
            found[f"{namespace}{pattern.name}"] = own
    return found


def test_every_route_is_in_the_matrix():
    assert set(routes()) - set(MATRIX) == set(), "add these routes to MATRIX"
    assert set(MATRIX) - set(routes()) == set(), "these routes no longer exist"


def world(request, state):
    """Two pairings in one program, another program, a superuser and the
    agreement under test in ``state``."""
    program = request.getfixturevalue("program")
    request.getfixturevalue("other_program")
    admin = request.getfixturevalue("program_admin")
    agreement = request.getfixturevalue("agreement")
    pairing_create(
        program=program,
        mentor=make_user("other-mentor@example.com", "Oscar Othermentor"),
        mentee=make_user("other-mentee@example.com", "Olive Othermentee"),
        created_by=admin,
    )
    User.objects.create_superuser("root@example.com", "x", full_name="Root")
    # An identity provider of each kind (never contacted here).
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="university",
        name="University",
        client_id="mentorship",
        secret="s",
        settings={"server_url": "https://idp.example.test"},
    )
    SocialApp.objects.create(
        provider="saml",
        provider_id="university-saml",
        name="University (SAML)",
        client_id="university",
        # The test client's host has no dot, which python3-saml refuses by default.
        settings=new_idp().app_settings(
            sp_entity_id="https://mentorship.example.test/saml", allow_single_label_domains=True
        ),
    )
    # A discussion with something in it, and a proposal, for their pages and
    # the section card.
    agreement.comment_on(
        "goals", by=agreement.mentee, text="Could one goal be about speaking in meetings?"
    )
    schedule = fresh(agreement).sections_by_kind["schedule"]
    agreement.propose_change(
        "schedule",
        by=agreement.mentee,
        expected_revision=schedule.revision,
        save=lambda: MeetingSchedule.objects.filter(agreement=agreement).update(
            location="The library, second floor"
        ),
        form_data={"location": ["The library, second floor"]},
        reason="Quieter than the café.",
    )
    if state == "awaiting":
        demo.write_all(agreement, by=agreement.mentor, start=timezone.localdate())
        demo.agree_all(agreement)
    elif state in {"active", "ended"}:
        # In force for 60 days: the first check-in is due today.
        agreement = make_active(agreement, start=timezone.localdate() - datetime.timedelta(days=60))
        if state == "ended":
            agreement.give_notice(by=agreement.mentee)
            assert fresh(agreement).notice_given_at
            Agreement.objects.filter(pk=agreement.pk).update(ends_on=timezone.localdate())
            fresh(agreement).end_if_due(timezone.localdate())
    agreement = fresh(agreement)
    assert agreement.status == {"awaiting": "awaiting"}.get(state, state)
    return {"program": program, "agreement": agreement}


def users():
    emails = {
        "mentor": "mentor@example.com",
        "mentee": "mentee@example.com",
        "other_mentor": "other-mentor@example.com",
        "other_mentee": "other-mentee@example.com",
        "program_admin": "admin@example.com",
        "other_admin": "other-admin@example.com",
        "superuser": "root@example.com",
    }
    return {role: User.objects.get(email=email) for role, email in emails.items()}


PROPOSAL_ROUTES = {
    "agreements:section_proposal",
    "agreements:proposal_accept",
    "agreements:proposal_decline",
    "agreements:proposal_withdraw",
}


def url_for(name, w):
    """The route's URL for the agreement under test, with a valid token where
    it needs one."""
    agreement, program = w["agreement"], w["program"]
    checkin = agreement.checkins.first()
    values = {
        "agreement_id": agreement.uuid,
        "program_id": program.uuid,
        "kind": "goals",
        "chart": "statuses",
        "moment": "end",
        "number": 1,
        "pk": 1,
        "date": (checkin.date if checkin else timezone.localdate()).isoformat(),
        "provider_id": "university",
        "organization_slug": "university",
    }
    if name in PROPOSAL_ROUTES:
        proposal = Proposal.objects.get(section__agreement=agreement)
        values["kind"], values["number"] = proposal.section.kind, proposal.pk
    if name == "agreements:calendar_feed":
        feed, _ = CalendarFeed.objects.get_or_create(user=agreement.mentor)
        values["token"] = feed.token
    elif name == "invitation_accept":
        invited = User.objects.create_user(
            f"invited-{User.objects.count()}@example.com", None, full_name="Ivy Invited"
        )
        values["uidb64"] = urlsafe_base64_encode(force_bytes(invited.pk))
        values["token"] = invitation_tokens.make_token(invited)
    elif name == "password_reset_confirm":
        values["uidb64"] = urlsafe_base64_encode(force_bytes(agreement.mentor.pk))
        values["token"] = default_token_generator.make_token(agreement.mentor)
    return reverse(name, kwargs={key: values[key] for key in routes()[name]})


def expected(name, role, state):
    access, answers = MATRIX[name]
    answer = answers[state]
    if (name, role) in USER_OVERRIDES:
        return USER_OVERRIDES[(name, role)]
    if access == "public":
        return answer
    if access == "entrance":
        return answer if role == "anonymous" else REDIRECT
    if role == "anonymous":
        return LOGIN
    if access == "user":
        return answer
    if answer == NOT_ALLOWED:
        # Refused before anything is looked up, so it reveals nothing.
        return NOT_ALLOWED
    allowed = {"party": PARTIES, "admin": {"program_admin"}, "superuser": {"superuser"}}[access]
    return answer if role in allowed else NOT_FOUND


def answer_of(response):
    if response.status_code == 302 and response["Location"].startswith(reverse("login")):
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("state", STATES)
def test_authorization_matrix(request, state):
    w = world(request, state)
    people = users()
    clients = {"anonymous": Client(headers={"host": "testserver"})}
    for role, user in people.items():
        clients[role] = Client(headers={"host": "testserver"})
        clients[role].force_login(user)
    wrong = []
    for name in sorted(MATRIX):
        for role in ROLES:
            response = clients[role].get(url_for(name, w))
            want, got = expected(name, role, state), answer_of(response)
            if got != want:
                wrong.append(f"GET {name} as {role}: {got}, expected {want}")
    assert wrong == []


# Routes whose views choose their own caching: the public root certificate,
# and the calendar feed, which calendar apps poll (private, five minutes).
OWN_CACHING = {"verify_root_certificate", "agreements:calendar_feed"}


@pytest.mark.parametrize("state", ["active"])
def test_no_cache_keeps_what_a_signed_in_person_is_shown(request, state):
    """Every route, every signed-in role: the answer (a page, a PDF, a
    calendar, a refusal) is ``private, no-store``."""
    w = world(request, state)
    kept = []
    for role, user in users().items():
        client = Client(headers={"host": "testserver"})
        client.force_login(user)
        for name in sorted(set(MATRIX) - OWN_CACHING):
            response = client.get(url_for(name, w))
            control = response.get("Cache-Control", "")
            if "no-store" not in control or "private" not in control:
                kept.append(f"GET {name} as {role}: {response.status_code}, {control!r}")
    assert kept == []


@pytest.mark.parametrize("state", STATES)
def test_outsiders_cannot_post_to_a_pairing(request, state):
    """POST-only routes of a pair or a program, posted by every role that has
    no business there: 404 (login for anonymous), and nothing changes."""
    w = world(request, state)
    people = users()
    wrong = []
    with assert_unchanged(w["agreement"], w["program"]):
        for name, (access, _answers) in sorted(MATRIX.items()):
            if access not in {"party", "admin"}:
                continue
            allowed = PARTIES if access == "party" else {"program_admin"}
            for role in ROLES:
                if role in allowed:
                    continue
                client = Client(headers={"host": "testserver"})
                if role != "anonymous":
                    client.force_login(people[role])
                response = client.post(url_for(name, w), {"reason": "x", "mentor_name": "x"})
                want = LOGIN if role == "anonymous" else NOT_FOUND
                if answer_of(response) != want:
                    wrong.append(f"POST {name} as {role}: {answer_of(response)}, expected {want}")
    assert wrong == []


def test_django_admin_is_for_superusers_only(request):
    w = world(request, "active")
    people = users()
    change = reverse("admin:agreements_agreement_change", args=[w["agreement"].pk])
    for role in ROLES:
        client = Client(headers={"host": "testserver"})
        if role != "anonymous":
            client.force_login(people[role])
        for url in (reverse("admin:index"), change):
            response = client.get(url)
            if role == "superuser":
                assert response.status_code == 200, url
            else:
                # Anonymous to the site's login page, others to the admin's.
                assert response.status_code == 302, (role, url)
                assert "/login/" in response["Location"]
