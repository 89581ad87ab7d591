from django.core import mail
from django.urls import reverse

from agreements.models import User
from tests.helpers import PASSWORD


def test_login_with_email_address(client, mentor):
    response = client.post(
        reverse("login"), {"username": "Mentor@Example.com", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("agreements:home")


def test_wrong_password_is_refused(client, mentor):
    response = client.post(reverse("login"), {"username": mentor.email, "password": "nope"})
    assert response.status_code == 200
    assert "Please enter a correct email address and password." in response.text


def test_auth_pages_use_the_app_layout(client):
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


def test_pages_forbid_third_party_content(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_repeated_wrong_passwords_lock_the_account_out(client, mentor):
    for email in ["mentor@example.com", "Mentor@example.com", "MENTOR@example.com "] * 2:
        client.post(reverse("login"), {"username": email, "password": "wrong"})
    response = client.post(reverse("login"), {"username": mentor.email, "password": PASSWORD})
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
            {"username": mentor.email, "password": "wrong"},
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
        {"username": mentor.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.50, 192.0.2.10",
        **headers,
    )
    assert response.status_code == 429
    # The same account from another client address is not locked out.
    response = client.post(
        reverse("login"),
        {"username": mentor.email, "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="192.0.2.10, 192.0.2.99",
        **headers,
    )
    assert response.status_code == 302
