"""Single sign-on with a SAML 2.0 identity provider, through allauth's real
flow: the login POST sends the browser to the IdP with an AuthnRequest, the
IdP (tests/saml_idp.py) posts a signed response to the ACS, and allauth's
second half of the ACS (acs/finish) logs the person in, or refuses.

Who the person is here is the app's rule (``SocialAccountAdapter``): the
account whose address is the one the IdP verified, in its one form."""

import datetime

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from lxml import etree

from agreements.models import Effect, Program, Signature, User
from tests.helpers import assert_unchanged, make_ready, make_user
from tests.saml_idp import EMAIL_ADDRESS, authn_request, new_idp, request_id, tamper
from tests.sso import page_forms

# python3-saml refuses single-label hosts such as Django's "testserver".
HOST = "mentorship.example.test"
SP_ENTITY_ID = f"https://{HOST}/saml"
ORG = "example-university"
AT = {"HTTP_HOST": HOST, "secure": True}

REFUSED_UNVERIFIED = "Your organisation did not send a confirmed email address"
REFUSED_NAME = "Your organisation sent a name that cannot be shown on an agreement"
FAILED = "Logging in with your organisation did not work, or was cancelled."
SIGNUP_CLOSED = "No account here yet"
METADATA = {"md": "urn:oasis:names:tc:SAML:2.0:metadata"}


@pytest.fixture(scope="module")
def idp():
    return new_idp()


@pytest.fixture
def saml_app(db, idp, settings):
    """The IdP as a superuser connects it: a SocialApp of allauth's saml
    provider, found by its organisation slug (``client_id``). Its
    ``provider_id`` is the IdP's entity ID, as allauth's documentation asks:
    a SAML uid is unique only within its IdP, and SocialAccount rows are
    keyed by (provider_id, uid)."""
    settings.ALLOWED_HOSTS = [HOST]
    return SocialApp.objects.create(
        provider="saml",
        provider_id=idp.entity_id,
        name="University of Example",
        client_id=ORG,
        settings=idp.app_settings(sp_entity_id=SP_ENTITY_ID),
    )


@pytest.fixture
def ines(db):
    return make_user("ines@example.com", "Ines Mentor")


def start_login(client, idp):
    """The person presses "Log in with University of Example": allauth sends
    them to the IdP with an AuthnRequest. Returns its ID."""
    response = client.post(reverse("saml_login", args=[ORG]), **AT)
    assert response.status_code == 302, response.content
    assert response["Location"].startswith(idp.sso_url + "?SAMLRequest=")
    return request_id(response["Location"])


def saml_response(idp, in_response_to, **claims):
    """What the IdP posts back for the request ``in_response_to``: by default
    a verified address and a name, for the person "u-ines"."""
    acs_path = reverse("saml_acs", args=[ORG])
    fields = {
        "acs_url": f"https://{HOST}{acs_path}",
        "audience": SP_ENTITY_ID,
        "in_response_to": in_response_to,
        "name_id": "u-ines",
        "email": "ines@example.com",
        "name": "Ines Mentor",
    }
    return idp.response(**(fields | claims))


def post_to_acs(client, saml_response):
    """The browser posts the IdP's answer to the ACS, which keeps it and sends
    the browser on to its second half, where the login happens."""
    acs = client.post(reverse("saml_acs", args=[ORG]), {"SAMLResponse": saml_response}, **AT)
    assert acs.status_code == 302
    assert acs["Location"] == reverse("saml_finish_acs", args=[ORG])
    return client.get(acs["Location"], **AT)


def sign_on(client, idp, **claims):
    """The whole round trip; returns the last answer and the SAMLResponse."""
    answer = saml_response(idp, start_login(client, idp), **claims)
    return post_to_acs(client, answer), answer


def logged_in_as(client):
    """The account this browser's session is logged into, or None."""
    user_id = client.session.get("_auth_user_id")
    return None if user_id is None else User.objects.get(pk=user_id)


def security_notices():
    return [
        (effect.args["to"], effect.args["change"])
        for effect in Effect.objects.filter(key__startswith="email:security_notice:")
    ]


def creating_program(admin, app):
    """A program that lets ``app``'s people get an account by logging in."""
    program = Program.objects.create(name="Open Programme", sign_on_creates_accounts=True)
    program.admins.add(admin)
    program.sign_on_providers.add(app)
    return program


# Logging in -----------------------------------------------------------------------


def test_verified_address_logs_its_account_in_and_connects_it(client, saml_app, idp, mentor):
    """The IdP's address matches in its one form ("Mentor@EXAMPLE.COM" is
    mentor@example.com); the account is connected to the IdP's identifier
    and its owner is told by email."""
    finish, _ = sign_on(client, idp, name_id="u-maria", email="Mentor@EXAMPLE.COM")

    assert finish.status_code == 302
    assert finish["Location"] == reverse("agreements:home")
    assert logged_in_as(client) == mentor
    home = client.get(reverse("agreements:home"), **AT)
    assert (home.status_code, home.context["user"]) == (200, mentor)
    (account,) = SocialAccount.objects.all()
    assert (account.user, account.provider, account.uid) == (mentor, idp.entity_id, "u-maria")
    assert security_notices() == [(mentor.pk, "account_connected")]


def test_second_login_uses_the_connected_identity(client, saml_app, idp, mentor):
    """Found by the IdP's identifier, not the address: the IdP may have
    changed it since. Nothing is connected or told again."""
    sign_on(client, idp, name_id="u-maria", email="mentor@example.com")
    client.post(reverse("logout"), **AT)
    assert logged_in_as(client) is None

    finish, _ = sign_on(client, idp, name_id="u-maria", email="maria.new@example.com")

    assert finish.status_code == 302
    assert logged_in_as(client) == mentor
    assert SocialAccount.objects.get().user == mentor
    assert security_notices() == [(mentor.pk, "account_connected")]


# Answers that do not check out ----------------------------------------------------


def refused(client, saml_response, *watched):
    """Posts ``saml_response`` to the ACS and proves that it logged nobody in
    and created, connected, promised and audited nothing."""
    users, accounts = User.objects.count(), SocialAccount.objects.count()
    with assert_unchanged(*watched):
        response = post_to_acs(client, saml_response)
    assert logged_in_as(client) is None
    assert (User.objects.count(), SocialAccount.objects.count()) == (users, accounts)
    return response


def assert_sign_on_failed(response):
    """allauth's page for an answer that did not check out, which names no reason."""
    assert response.status_code == 401
    assert FAILED in response.text


@pytest.mark.parametrize("forged", ["tampered", "signed_by_another_key"])
def test_response_with_a_bad_signature_is_refused(client, saml_app, idp, mentor, forged):
    in_response_to = start_login(client, idp)
    if forged == "tampered":
        signed = saml_response(idp, in_response_to, email="someone@example.com")
        answer = tamper(signed, email=mentor.email)
    else:
        impostor = new_idp(entity_id=idp.entity_id, sso_url=idp.sso_url)
        answer = saml_response(impostor, in_response_to, email=mentor.email)

    assert_sign_on_failed(refused(client, answer, mentor))


def test_response_for_another_audience_is_refused(client, saml_app, idp, mentor):
    answer = saml_response(
        idp,
        start_login(client, idp),
        email=mentor.email,
        audience="https://elsewhere.example.test/saml",
    )

    assert_sign_on_failed(refused(client, answer, mentor))


def test_expired_response_is_refused(client, saml_app, idp, mentor):
    # Beyond the five minutes of clock drift python3-saml allows.
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    answer = saml_response(
        idp,
        start_login(client, idp),
        email=mentor.email,
        issue_instant=an_hour_ago,
        not_on_or_after=an_hour_ago,
    )

    assert_sign_on_failed(refused(client, answer, mentor))


def test_replayed_response_is_refused_in_another_browser(client, saml_app, idp, mentor):
    """A captured response, posted again from a browser that has started a
    login of its own: the response answers another request, so python3-saml's
    checks (which keep no record of responses seen) are not the only guard."""
    _, answer = sign_on(client, idp, name_id="u-maria", email=mentor.email)
    assert logged_in_as(client) == mentor
    attacker = Client()
    start_login(attacker, idp)

    response = refused(attacker, answer, mentor)

    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert SocialAccount.objects.get().user == mentor


def test_replayed_response_is_refused_after_logout(client, saml_app, idp, mentor):
    """The request a response answers is used up by the login it made, and
    logging out ends the session that made it."""
    _, answer = sign_on(client, idp, name_id="u-maria", email=mentor.email)
    client.post(reverse("logout"), **AT)
    assert logged_in_as(client) is None

    response = refused(client, answer, mentor)

    assert response.status_code == 403
    assert "Not allowed" in response.text


def test_unverified_address_is_refused(client, saml_app, idp, mentor, program_admin):
    """Not even where the IdP's people may get an account."""
    creating_program(program_admin, saml_app)
    answer = saml_response(idp, start_login(client, idp), email=mentor.email, email_verified=False)

    response = refused(client, answer, mentor)

    assert response.status_code == 403
    assert REFUSED_UNVERIFIED in response.text


# Lookalike addresses --------------------------------------------------------------


@pytest.mark.parametrize(
    "lookalike",
    [
        pytest.param("\u0131nes@example.com", id="dotless-i"),
        pytest.param("\uff49nes@example.com", id="fullwidth-i"),
        pytest.param("in\u200bes@example.com", id="zero-width-space"),
        # NFKC, which email_key applies, folds the long s into an s.
        pytest.param("ine\u017f@example.com", id="long-s"),
        # And the Kelvin sign into a K, which Python lower-cases to a k.
        pytest.param("\u212ate@example.com", id="kelvin-sign"),
        pytest.param("INE\u017f@EXAMPLE.COM", id="long-s-upper-case"),
        # The dotted capital I lower-cases to an i and a combining dot.
        pytest.param("\u0130nes@example.com", id="dotted-capital-i"),
    ],
)
def test_lookalike_address_never_logs_into_the_real_account(
    client, saml_app, idp, ines, program_admin, lookalike
):
    """Even where the IdP's people may get an account: the lookalike gets
    one of its own, or none, never ines@example.com's."""
    creating_program(program_admin, saml_app)
    answer = saml_response(idp, start_login(client, idp), name_id="u-lookalike", email=lookalike)

    # Refused: neither ines's account nor a second one beside it.
    response = refused(client, answer, ines)

    assert response.status_code == 403
    assert not SocialAccount.objects.filter(user=ines).exists()
    assert (ines.pk, "account_connected") not in security_notices()


def test_lookalike_address_gets_no_account_of_the_real_address(
    client, saml_app, idp, program_admin
):
    """Nor does it make the account that the real address would later be
    matched into: its own, or none."""
    creating_program(program_admin, saml_app)

    sign_on(client, idp, name_id="u-lookalike", email="\u017fam@example.com", name="Sam Impostor")

    assert not User.objects.filter(email="sam@example.com").exists()


# People without an account --------------------------------------------------------


def test_unknown_person_is_told_accounts_come_from_invitations(client, saml_app, idp, mentor):
    users = User.objects.count()
    with assert_unchanged(mentor):
        response, _ = sign_on(client, idp, name_id="u-nora", email="nora@example.com")

    assert_told_to_ask_for_an_invitation(client, response, users)


def assert_told_to_ask_for_an_invitation(client, response, users):
    assert response.status_code == 200
    assert SIGNUP_CLOSED in response.text
    assert logged_in_as(client) is None
    assert User.objects.count() == users
    assert not SocialAccount.objects.exists()


def test_program_connected_to_the_idp_lets_it_create_accounts(client, saml_app, idp, program_admin):
    creating_program(program_admin, saml_app)

    response, _ = sign_on(
        client, idp, name_id="u-nora", email="Nora.New@EXAMPLE.com", name="  Nora   Newcomer "
    )

    assert response.status_code == 302
    nora = logged_in_as(client)
    assert (nora.email, nora.full_name) == ("nora.new@example.com", "Nora Newcomer")
    assert not nora.has_usable_password()
    account = SocialAccount.objects.get(user=nora)
    assert (account.provider, account.uid) == (idp.entity_id, "u-nora")
    home = client.get(reverse("agreements:home"), **AT)
    assert (home.status_code, home.context["user"]) == (200, nora)


def test_an_account_single_sign_on_made_logs_in_with_it_again(client, saml_app, idp, program_admin):
    """Not paired yet, so in none of the provider's programs: the provider
    that made it still speaks for it."""
    creating_program(program_admin, saml_app)
    sign_on(client, idp, name_id="u-nora", email="nora.new@example.com", name="Nora Newcomer")
    nora = logged_in_as(client)
    client.post(reverse("logout"), **AT)

    response, _ = sign_on(client, idp, name_id="u-nora", email="nora.new@example.com")

    assert response.status_code == 302
    assert logged_in_as(client) == nora


def test_an_account_single_sign_on_made_can_get_a_password(
    client, saml_app, idp, program_admin, settings
):
    """So that it can sign with one: a SAML login cannot stand in for it."""
    creating_program(program_admin, saml_app)
    sign_on(client, idp, name_id="u-nora", email="nora.new@example.com", name="Nora Newcomer")
    nora = logged_in_as(client)
    client.post(reverse("logout"), **AT)

    client.post(reverse("password_reset"), {"email": "nora.new@example.com"}, **AT)

    assert Effect.objects.filter(key__startswith="email:password_reset:", args__to=nora.pk).exists()


def test_an_invitation_waiting_for_its_answer_gets_no_reset_email(client, db, settings):
    """Its link is the way in: the reset is for accounts that have a password
    or log in with single sign-on."""
    invited = User.objects.create_user("ivy@example.com", None, full_name="Ivy Invited")

    client.post(reverse("password_reset"), {"email": invited.email}, **AT)

    assert not Effect.objects.filter(key__startswith="email:password_reset:").exists()


def test_name_with_a_direction_override_creates_no_account(client, saml_app, idp, program_admin):
    """Shown as "Eve hillary": refused, whatever the program allows."""
    creating_program(program_admin, saml_app)
    users = User.objects.count()

    with assert_unchanged(program_admin):
        response, _ = sign_on(
            client, idp, name_id="u-eve", email="eve@example.com", name="Eve \u202eyrallih\u202c"
        )

    assert response.status_code == 403
    assert REFUSED_NAME in response.text
    assert logged_in_as(client) is None
    assert User.objects.count() == users
    assert not SocialAccount.objects.exists()


def test_program_connected_to_another_idp_does_not_create_accounts(
    client, saml_app, idp, program_admin
):
    other = SocialApp.objects.create(
        provider="saml",
        provider_id="https://idp.elsewhere.test/saml",
        name="Elsewhere College",
        client_id="elsewhere-college",
        settings=new_idp(entity_id="https://idp.elsewhere.test/saml").app_settings(
            sp_entity_id=SP_ENTITY_ID
        ),
    )
    creating_program(program_admin, other)
    users = User.objects.count()

    response, _ = sign_on(client, idp, name_id="u-nora", email="nora@example.com")

    assert_told_to_ask_for_an_invitation(client, response, users)


# The IdP's side of the set-up -------------------------------------------------------


def test_metadata_names_the_acs(client, saml_app):
    """What the IdP's administrators are given: the SP's entity ID and where
    to post responses, at the installation's own address."""
    response = client.get(reverse("saml_metadata", args=[ORG]), **AT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    metadata = etree.fromstring(response.content)
    assert metadata.get("entityID") == SP_ENTITY_ID
    (acs,) = metadata.findall(".//md:SPSSODescriptor/md:AssertionConsumerService", METADATA)
    assert acs.get("Location") == f"https://{HOST}/accounts/saml/{ORG}/acs/"
    assert acs.get("Binding") == "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"


def test_metadata_of_an_unknown_organisation_is_not_found(client, saml_app):
    response = client.get(reverse("saml_metadata", args=["nobody"]), **AT)

    assert response.status_code == 404


# A superuser adds an IdP from its metadata file -----------------------------------


def idp_metadata(idp):
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{idp.entity_id}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>{idp.x509cert}</ds:X509Certificate>
      </ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
        Location="{idp.sso_url}"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>""".encode()


def add_saml_app(client, metadata, settings_json):
    return client.post(
        reverse("admin:socialaccount_socialapp_add"),
        {
            "provider": "saml",
            "provider_id": "https://idp.example.test/saml",
            "name": "Metadata University",
            "client_id": "metadata-university",
            "secret": "",
            "key": "",
            "settings": settings_json,
            "idp_metadata": SimpleUploadedFile("idp.xml", metadata, "text/xml"),
        },
    )


def test_a_superuser_adds_a_saml_idp_from_its_metadata_file(client, db, idp):
    root = User.objects.create_superuser("root@example.com", "x", full_name="Root")
    client.force_login(root)
    sp = '{"sp": {"entity_id": "https://mentorship.example.test/saml"}}'
    response = add_saml_app(client, idp_metadata(idp), sp)
    assert response.status_code == 302, response.text[:2000]
    app = SocialApp.objects.get(client_id="metadata-university")
    assert app.settings["idp"] == {
        "entity_id": idp.entity_id,
        "x509cert": idp.x509cert,
        "sso_url": idp.sso_url,
    }
    assert app.settings["sp"] == {"entity_id": "https://mentorship.example.test/saml"}


def test_a_saml_provider_is_named_by_its_idps_entity_id(client, db, idp):
    """Two IdPs under allauth's default name would share their people's
    identifiers: a new SAML provider without an ID takes its entity ID."""
    root = User.objects.create_superuser("root@example.com", "x", full_name="Root")
    client.force_login(root)
    data = {
        "provider": "saml",
        "provider_id": "",
        "name": "Typed University",
        "client_id": "typed-university",
        "secret": "",
        "key": "",
    }
    add = reverse("admin:socialaccount_socialapp_add")
    response = client.post(add, data | {"settings": "{}"})
    assert response.status_code == 200
    assert "Give the IdP&#x27;s entity ID as the provider ID" in response.text
    assert not SocialApp.objects.exists()

    settings_json = '{"idp": {"entity_id": "https://idp.typed.test/saml"}}'
    assert client.post(add, data | {"settings": settings_json}).status_code == 302
    assert SocialApp.objects.get().provider_id == "https://idp.typed.test/saml"


def test_a_file_that_is_not_metadata_is_refused_and_nothing_added(client, db, idp):
    root = User.objects.create_superuser("root@example.com", "x", full_name="Root")
    client.force_login(root)
    for junk in (
        b"<html><body>not metadata</body></html>",
        b"\x00\xff",
        b"<!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><x>&e;</x>",
    ):
        response = add_saml_app(client, junk, "{}")
        assert response.status_code == 200
        assert "This is not an identity provider&#x27;s SAML metadata" in response.text
    assert not SocialApp.objects.filter(client_id="metadata-university").exists()


# Whom a provider speaks for ---------------------------------------------------------

REFUSED_STAFF = "This account does not log in with single sign-on: use its password."
REFUSED_OUTSIDER = "your account is in none of them"


def test_a_superuser_is_never_logged_in_by_a_provider(client, saml_app, idp):
    root = User.objects.create_superuser("root@example.com", "x", full_name="Root")
    answer = saml_response(idp, start_login(client, idp), name_id="u-root", email=root.email)

    response = refused(client, answer, root)

    assert response.status_code == 403
    assert REFUSED_STAFF in response.text
    assert security_notices() == []


def test_a_closed_account_is_not_connected(client, saml_app, idp, mentor):
    mentor.is_active = False
    mentor.save()
    answer = saml_response(idp, start_login(client, idp), name_id="u-1", email=mentor.email)

    response = refused(client, answer, mentor)

    assert response.status_code == 403
    assert "This account is closed." in response.text


def test_a_programs_provider_speaks_only_for_its_people(
    client, saml_app, idp, mentor, other_admin, other_program
):
    """Connected to the other program: its admin logs in with it, the mentor
    of another program does not."""
    other_program.sign_on_providers.add(saml_app)
    answer = saml_response(idp, start_login(client, idp), name_id="u-1", email=mentor.email)

    response = refused(client, answer, mentor)

    assert response.status_code == 403
    assert REFUSED_OUTSIDER in response.text
    sign_on(client, idp, name_id="u-2", email=other_admin.email)
    assert logged_in_as(client) == other_admin


def test_a_provider_is_never_connected_to_whoever_is_logged_in(client, saml_app, idp, mentor):
    """allauth's "connect" process, asked for in the login address: refused,
    whatever address the IdP sends."""
    client.force_login(mentor)
    response = client.post(reverse("saml_login", args=[ORG]) + "?process=connect", **AT)
    answer = saml_response(
        idp, request_id(response["Location"]), name_id="u-x", email="someone@elsewhere.test"
    )

    with assert_unchanged(mentor):
        response = post_to_acs(client, answer)

    assert response.status_code == 403
    assert not SocialAccount.objects.exists()


# Confirming a signature with a fresh login at the IdP ------------------------------

AGAIN = "You logged in again with University of Example at"
# The mentor fixture as the IdP knows her.
MARIA = {"name_id": "u-maria", "email": "mentor@example.com"}


def now():
    # The IdP's clock, in the whole seconds a SAML time carries.
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def sign_data(agreement):
    return {"full_name": "Maria Mentor", "consent": "on", "content_hash": agreement.content_hash}


@pytest.fixture
def signed_on_long_ago(client, saml_app, idp, mentor, agreement):
    """The mentor logged in with the IdP on a session there 10 minutes old
    (its AuthnInstant), and an agreement ready to sign."""
    sign_on(client, idp, **MARIA, authn_instant=now() - datetime.timedelta(minutes=10))
    assert logged_in_as(client) == mentor
    return make_ready(agreement)


def log_in_again(client, idp, page, *, authn_instant, **claims):
    """Press the sign page's button: the IdP is asked to authenticate the
    person afresh (ForceAuthn), and answers with ``authn_instant``."""
    login = reverse("saml_login", args=[ORG])
    (action,) = [
        form["action"] for form in page_forms(page.text) if form["action"].startswith(login)
    ]
    redirect = client.post(action, **AT)
    request = authn_request(redirect["Location"])
    assert request.get("ForceAuthn") == "true"
    answer = saml_response(idp, request.get("ID"), **MARIA, authn_instant=authn_instant, **claims)
    return post_to_acs(client, answer)


def test_a_login_asks_the_idp_for_no_fresh_authentication(client, saml_app, idp):
    redirect = client.post(reverse("saml_login", args=[ORG]), **AT)

    assert authn_request(redirect["Location"]).get("ForceAuthn") in (None, "false")


def test_a_fresh_login_at_the_idp_confirms_the_signature(client, idp, signed_on_long_ago):
    ready = signed_on_long_ago
    sign_url = reverse("agreements:sign", args=[ready.uuid])
    page = client.get(sign_url, **AT)
    assert 'name="password"' in page.text

    fresh = now()
    finish = log_in_again(client, idp, page, authn_instant=fresh)
    assert (finish.status_code, finish["Location"]) == (302, sign_url)
    page = client.get(sign_url, **AT)
    assert 'name="password"' not in page.text
    assert AGAIN in page.text
    response = client.post(sign_url, sign_data(ready), **AT)

    assert response.status_code == 302
    evidence = Signature.objects.get(agreement=ready).evidence_data
    assert evidence["authenticated_by"] == "sign_on"
    assert evidence["evidence_format"] == "mentorship-signature/3"
    assert evidence["identity_provider"] == {
        "name": "University of Example",
        "auth_time": fresh.isoformat(),
    }


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param({}, id="its-old-session"),
        # An attribute named as the key the app keeps the time under.
        pytest.param({"authn_instant": "2999-01-01T00:00:00Z"}, id="an-attribute-so-named"),
    ],
)
def test_an_idp_that_keeps_its_old_session_does_not_confirm_it(
    client, idp, signed_on_long_ago, attributes
):
    """An IdP that ignores ForceAuthn answers with the AuthnInstant of its
    session, 10 minutes old: the password is still asked, whatever the
    attributes say."""
    ready = signed_on_long_ago
    sign_url = reverse("agreements:sign", args=[ready.uuid])
    page = client.get(sign_url, **AT)
    log_in_again(
        client,
        idp,
        page,
        authn_instant=now() - datetime.timedelta(minutes=10),
        attributes=attributes,
    )

    with assert_unchanged(ready):
        response = client.post(sign_url, sign_data(ready), **AT)

    assert response.status_code == 200
    assert response.context["form"].errors.as_data()["password"][0].code == "required"
    assert AGAIN not in response.text
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    "lookalike",
    [
        pytest.param("\u212aate@example.com", id="kelvin-sign"),
        pytest.param("\u017fam@example.com", id="long-s"),
    ],
)
def test_lookalike_address_sent_only_as_the_name_id_is_refused(
    client, saml_app, idp, program_admin, lookalike
):
    """An IdP that gives the address only as its NameID: allauth lower-cases
    it before the app sees it, but the NameID is kept as the IdP sent it."""
    creating_program(program_admin, saml_app)
    answer = saml_response(
        idp,
        start_login(client, idp),
        name_id=lookalike,
        name_id_format=EMAIL_ADDRESS,
        email=None,
        subject_id=False,
        name="Sam Impostor",
    )

    response = refused(client, answer)

    assert response.status_code == 403


def test_an_address_sent_only_as_the_name_id_logs_its_account_in(client, saml_app, idp, mentor):
    answer = saml_response(
        idp,
        start_login(client, idp),
        name_id="Mentor@Example.com",
        name_id_format=EMAIL_ADDRESS,
        email=None,
        subject_id=False,
    )

    post_to_acs(client, answer)

    assert logged_in_as(client) == mentor
