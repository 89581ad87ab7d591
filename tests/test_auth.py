import datetime

import pytest
from allauth.socialaccount.models import SocialApp
from django.core import mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from agreements.models import User
from tests.helpers import PASSWORD, run_migration


def test_login_with_email_address(client, mentor):
    response = client.post(reverse("login"), {"login": "Mentor@Example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:home")


def test_wrong_password_is_refused(client, mentor):
    response = client.post(reverse("login"), {"login": mentor.email, "password": "nope"})
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in response.text


def test_auth_pages_use_the_app_layout(client, db):
    for name in ("login", "password_reset", "password_reset_done", "password_reset_complete"):
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert "bootstrap/css/bootstrap.min.css" in response.text, name


def test_logout_is_post_only(client, mentor):
    client.force_login(mentor)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert client.get("/").status_code == 302


def test_password_change(client, mentor):
    client.force_login(mentor)
    assert "Change your password" in client.get(reverse("password_change")).text
    new = "a new long pass 42"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    mentor.refresh_from_db()
    assert mentor.check_password("a new long pass 42")


def test_password_reset_sends_a_one_time_link(client, mentor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": mentor.email})
    assert "is on its way" in client.get(response.url).text
    assert len(mail.outbox) == 1
    assert "/accounts/reset/" in mail.outbox[0].body
    assert mail.outbox[0].subject == "Reset your Mentorship password"


def test_users_are_unique_by_email_whatever_the_case(db):
    User.objects.create_user("Someone@Example.com", PASSWORD, full_name="Some One")
    assert User.objects.get_by_natural_key("someone@example.COM").full_name == "Some One"


def test_production_hashes_passwords_with_argon2():
    from mentorship import settings

    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_pages_forbid_third_party_content(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_pages_turn_off_the_browser_features_they_do_not_use(client, mentor):
    for response in (client.get(reverse("login")), log_in(client, mentor.email)):
        policy = response["Permissions-Policy"]
        for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
            assert feature in policy
        assert "publickey-credentials" not in policy


def test_repeated_wrong_passwords_lock_the_account_out(client, mentor):
    for email in ["mentor@example.com", "Mentor@example.com", "MENTOR@example.com "] * 2:
        client.post(reverse("login"), {"login": email, "password": "wrong"})
    response = client.post(reverse("login"), {"login": mentor.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many attempts" in response.text
    assert "_auth_user_id" not in client.session


def test_lockouts_count_the_address_the_audit_trail_records(client, mentor, settings, rf):
    """Behind a proxy, django-axes and the audit trail agree on the client's
    address: a forged X-Forwarded-For entry neither escapes a lockout nor
    locks out someone else."""
    from axes.models import AccessAttempt

    from agreements.models import Origin

    settings.TRUSTED_PROXY_COUNT = 1
    headers = {"REMOTE_ADDR": "10.0.0.2"}
    for forged in ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "x"]:
        client.post(
            reverse("login"),
            {"login": mentor.email, "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"{forged}, 192.0.2.10",
            **headers,
        )
    request = rf.get("/", HTTP_X_FORWARDED_FOR="198.51.100.9, 192.0.2.10", **headers)
    assert (
        list(AccessAttempt.objects.values_list("ip_address", flat=True))
        == [Origin.of(request).ip]
        == ["192.0.2.10"]
    )
    response = client.post(
        reverse("login"),
        {"login": mentor.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.50, 192.0.2.10",
        **headers,
    )
    assert response.status_code == 429
    # The same account from another client address is not locked out.
    response = client.post(
        reverse("login"),
        {"login": mentor.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.10, 192.0.2.99",
        **headers,
    )
    assert response.status_code == 302


@pytest.fixture
def ines(db):
    return User.objects.create_user("ines@example.com", PASSWORD, full_name="Inès Aubert")


def log_in(client, username, password=PASSWORD):
    return client.post(reverse("login"), {"login": username, "password": password})


def lock_out(client, username):
    for _ in range(5):
        log_in(client, username, "wrong")


NEW_PASSWORD = "a brand new passphrase 7"


def choose_password_by_link(client, user, link="password_reset_confirm"):
    """Follows the emailed link (a reset, or an invitation) and chooses
    NEW_PASSWORD there."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from agreements.invitations import invitation_tokens

    tokens = default_token_generator if link == "password_reset_confirm" else invitation_tokens
    url = reverse(link, args=[urlsafe_base64_encode(force_bytes(user.pk)), tokens.make_token(user)])
    form = client.get(url, follow=True)
    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return client.post(form.redirect_chain[-1][0], data)


def test_a_lookalike_address_neither_logs_in_nor_escapes_the_lockout(client, ines):
    """The dotless ı: PostgreSQL's case-insensitive match made ``ınes@`` find
    ``ines@``, while the lockout counted it apart, so it logged in past the
    lockout and reset the real address's count."""
    lock_out(client, "ines@example.com")
    for lookalike in ["\u0131nes@example.com", "in\u200bes@example.com", "\u0130nes@example.com"]:
        response = log_in(client, lookalike)
        assert response.status_code == 200, lookalike
        assert "The email address and/or password you specified are not correct." in response.text
        assert "_auth_user_id" not in client.session
    assert log_in(client, "ines@example.com").status_code == 429


@pytest.mark.parametrize(
    "variant", ["INES@Example.COM", " ines@example.com ", "\uff49\uff4e\uff45\uff53@example.com"]
)
def test_the_forms_of_an_address_that_mean_it_are_one_account_and_one_count(client, ines, variant):
    """Case, spaces around it and compatibility forms (fullwidth letters) are
    the address itself: they log in, and count towards its lockout."""
    assert log_in(client, variant).status_code == 302
    assert client.session["_auth_user_id"] == str(ines.pk)
    client.logout()
    lock_out(client, variant)
    assert log_in(client, "ines@example.com").status_code == 429


def test_no_second_account_can_exist_under_a_form_of_an_address(ines):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user("\uff29NES@example.com", PASSWORD, full_name="Someone Else")
    other = User(email="Other@Example.COM ", full_name="Other")
    other.save()
    assert User.objects.get(pk=other.pk).email == "other@example.com"


def test_invitations_and_imports_find_the_account_under_any_form_of_its_address(ines, program):
    from agreements.pairing_import import check_rows
    from agreements.services import person_for

    assert person_for("\uff29NES@Example.com", "Someone") == ines
    [row] = check_rows(
        program,
        ["mentor_email", "mentor_name", "mentee_email", "mentee_name"],
        [(2, ["\uff29NES@Example.com", "Inès Aubert", "new@example.com", "New Person"])],
    )
    assert (row.problems, row.mentor.email, row.mentor.account) == ([], "ines@example.com", ines)


def test_a_form_of_an_address_another_account_has_is_refused_before_saving(ines):
    """The admin's forms validate the model first: Django folds the address
    (NFKC) and the constraint compares it lower-cased, so it is refused
    there rather than failing when saved."""
    from django.core.exceptions import ValidationError

    other = User(email="ines@\uff45xample.com", full_name="Someone Else")
    with pytest.raises(ValidationError) as refused:
        other.full_clean()
    assert "email" in refused.value.message_dict


@pytest.mark.django_db(transaction=True)
def test_the_upgrade_stores_every_address_in_its_one_form():
    kept = User.objects.create_user("kept@example.com", PASSWORD, full_name="Kept")
    mixed = User.objects.create_user("mixed@example.com", PASSWORD, full_name="Mixed")
    User.objects.filter(pk=mixed.pk).update(email=" Mixed@Example.COM")

    run_migration("0015_audit_length", "0016_email_key")

    assert dict(User.objects.values_list("pk", "email")) == {
        kept.pk: "kept@example.com",
        mixed.pk: "mixed@example.com",
    }


def test_wrong_passwords_during_a_lockout_do_not_make_it_longer(client, ines):
    from axes.models import AccessAttempt

    lock_out(client, "ines@example.com")
    locked_at = timezone.now() - datetime.timedelta(minutes=50)
    AccessAttempt.objects.update(attempt_time=locked_at)

    for _ in range(3):
        assert log_in(client, "ines@example.com", "wrong").status_code == 429

    assert AccessAttempt.objects.get().attempt_time == locked_at
    AccessAttempt.objects.update(attempt_time=locked_at - datetime.timedelta(minutes=11))
    assert log_in(client, "ines@example.com").status_code == 302


@pytest.mark.parametrize("link", ["password_reset_confirm", "invitation_accept"])
def test_a_password_chosen_through_an_emailed_link_lifts_the_lockout(client, ines, link):
    lock_out(client, "ines@example.com")
    assert log_in(client, "ines@example.com").status_code == 429
    if link == "invitation_accept":
        User.objects.filter(pk=ines.pk).update(password="!")  # invited, no password yet
        ines.refresh_from_db()
    assert choose_password_by_link(client, ines, link).status_code == 302
    client.logout()

    assert log_in(client, "ines@example.com", NEW_PASSWORD).status_code == 302


def fail_from(client, address, username="ines@example.com"):
    return client.post(
        reverse("login"), {"login": username, "password": "wrong"}, REMOTE_ADDR=address
    )


def test_the_ceiling_per_account_holds_across_fifty_addresses(client, ines, settings):
    """One wrong password from each of 50 addresses never reaches the limit
    at any one of them; the ceiling across them stops the guessing at 20,
    and the guesses past it are neither tried nor counted."""
    from axes.models import AccessAttempt

    answers = [fail_from(client, f"198.51.100.{n}").status_code for n in range(1, 51)]

    assert answers == [200] * 19 + [429] * 31
    assert AccessAttempt.objects.count() == settings.LOGIN_ACCOUNT_CEILING == 20
    # The owner, at an address that never failed, cannot use the password either.
    response = client.post(
        reverse("login"),
        {"login": "ines@example.com", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.1",
    )
    assert response.status_code == 429
    assert "Reset your password" in response.text
    assert "_auth_user_id" not in client.session


def test_below_the_ceiling_the_owner_logs_in_from_another_address(client, ines):
    for n in range(1, 20):
        assert fail_from(client, f"198.51.100.{n}").status_code == 200
    response = client.post(
        reverse("login"),
        {"login": "ines@example.com", "password": PASSWORD},
        REMOTE_ADDR="192.0.2.1",
    )
    assert response.status_code == 302
    client.logout()
    # Other accounts are not touched by Inès' count.
    User.objects.create_user("ana@example.com", PASSWORD, full_name="Ana")
    assert fail_from(client, "198.51.100.99", "ana@example.com").status_code == 200


def test_the_ceiling_lifts_an_hour_after_the_last_counted_failure(client, ines):
    from axes.models import AccessAttempt

    for n in range(1, 21):
        fail_from(client, f"198.51.100.{n}")
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=59))
    assert log_in(client, "ines@example.com").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(minutes=61))
    assert log_in(client, "ines@example.com").status_code == 302


def test_a_new_password_through_the_emailed_link_lifts_the_ceiling(client, ines):
    for n in range(1, 21):
        fail_from(client, f"198.51.100.{n}")
    assert log_in(client, "ines@example.com").status_code == 429
    assert choose_password_by_link(client, ines).status_code == 302
    client.logout()  # its cookies too: the lock itself is lifted

    assert log_in(client, "ines@example.com", NEW_PASSWORD).status_code == 302


def test_an_attacker_holding_the_account_at_its_ceiling_never_shuts_its_owner_out(client, ines):
    """The browser the owner logged in with, or followed the emailed link
    in, is not held by the ceiling (a signed cookie): only by the limit at
    its own address, which the attacker's failures elsewhere do not touch."""
    from django.test import Client

    assert log_in(client, "ines@example.com").status_code == 302
    client.post(reverse("logout"))  # as a browser does: its other cookies stay
    attacker = Client()
    for n in range(1, 31):
        fail_from(attacker, f"198.51.100.{n}")
    assert log_in(attacker, "ines@example.com").status_code == 429

    assert log_in(client, "ines@example.com").status_code == 302
    assert client.session["_auth_user_id"] == str(ines.pk)


@pytest.mark.parametrize("cookie", ["another account's", "forged"])
def test_only_the_accounts_own_signed_cookie_passes_the_ceiling(client, ines, cookie):
    from django.core import signing
    from django.test import Client

    from agreements.lockouts import KNOWN_DEVICE_COOKIE

    other = User.objects.create_user("ana@example.com", PASSWORD, full_name="Ana")
    log_in(client, other.email)
    client.post(reverse("logout"))  # as a browser does: its other cookies stay
    if cookie == "forged":
        client.cookies[KNOWN_DEVICE_COOKIE] = signing.get_cookie_signer(salt="other").sign(
            client.cookies[KNOWN_DEVICE_COOKIE].value.split(":")[0]
        )
    attacker = Client()
    for n in range(1, 21):
        fail_from(attacker, f"198.51.100.{n}")

    assert log_in(client, "ines@example.com").status_code == 429


def test_the_emailed_link_makes_the_browser_one_the_ceiling_lets_in(client, ines):
    from django.test import Client

    attacker = Client()
    for n in range(1, 21):
        fail_from(attacker, f"198.51.100.{n}")
    choose_password_by_link(client, ines)
    # The attacker puts the account back at its ceiling at once.
    for n in range(21, 41):
        fail_from(attacker, f"198.51.100.{n}")

    assert log_in(client, "ines@example.com", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("name", ["Eve \u202eyrallih\u202c", "Eve\u200bAdams", "Eve\nBcc: x"])
def test_the_admin_refuses_a_name_that_reads_as_another(admin_client, name):
    response = admin_client.post(
        reverse("admin:agreements_user_add"),
        {
            "email": "eve@example.com",
            "full_name": name,
            "password1": "a long passphrase 42",
            "password2": "a long passphrase 42",
            "usable_password": "true",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="eve@example.com").exists()
    assert "full_name" in response.context["adminform"].form.errors


def test_the_admin_refuses_an_invisible_character_added_to_a_name(admin_client, ines):
    response = admin_client.post(
        reverse("admin:agreements_user_change", args=[ines.pk]),
        {
            "email": ines.email,
            "full_name": "In\u202eès",
            "is_active": "on",
            "last_login_0": "",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
        },
    )
    assert response.status_code == 200
    ines.refresh_from_db()
    assert ines.full_name == "Inès Aubert"
    assert "This name contains invisible characters" in response.text


def test_a_login_page_lets_its_forms_go_on_to_the_identity_providers(client, db):
    # form-action covers the redirect after the button's POST: without the
    # provider's origin the browser would stop on the login page.
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="university",
        name="University",
        client_id="c",
        settings={"server_url": "https://idp.example.test/realms/staff"},
    )
    SocialApp.objects.create(
        provider="saml",
        provider_id="https://sso.example.org/saml",
        name="Network",
        client_id="network",
        settings={"idp": {"sso_url": "https://sso.example.org:8443/saml/sso"}},
    )
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "form-action 'self' https://idp.example.test https://sso.example.org:8443" in policy
    # A page without the buttons keeps its forms at home.
    policy = client.get(reverse("password_reset"))["Content-Security-Policy"]
    assert "form-action 'self';" in policy or policy.endswith("form-action 'self'")


def test_a_providers_login_address_opened_by_a_link_asks_before_going_on(client, db):
    SocialApp.objects.create(
        provider="openid_connect",
        provider_id="university",
        name="University",
        client_id="c",
        settings={"server_url": "https://idp.example.test"},
    )
    response = client.get("/accounts/oidc/university/login/")
    assert response.status_code == 200
    assert "Log in with University" in response.text
    assert '<form method="post">' in response.text
    assert "form-action 'self' https://idp.example.test" in response["Content-Security-Policy"]
