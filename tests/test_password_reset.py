"""Password-reset emails are limited per account and per client address,
without the page ever telling whether an address has an account."""

import logging
import socket
import time

from django.core import mail
from django.test import override_settings
from django.urls import reverse

from agreements.forms import accounts
from agreements.models import Effect, User


def ask_for_reset(client, email, **extra):
    """Posts the form; returns what the person sees: the status and where it leads."""
    response = client.post(reverse("password_reset"), {"email": email}, **extra)
    return response.status_code, response.get("Location")


def reset_emails(user):
    """The reset emails promised to ``user``."""
    return Effect.objects.filter(
        kind=Effect.Kind.EMAIL,
        key__startswith="email:password_reset:",
        key__endswith=f":user:{user.pk}",
    ).count()


def use_up_the_account_limit(client, user):
    for _ in range(accounts.RESETS_PER_ACCOUNT):
        ask_for_reset(client, user.email)
    assert reset_emails(user) == accounts.RESETS_PER_ACCOUNT


def test_the_fourth_reset_within_the_hour_sends_nothing(
    client, mentor, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            ask_for_reset(client, mentor.email)
    assert len(mail.outbox) == 3

    with django_capture_on_commit_callbacks(execute=True):
        ask_for_reset(client, mentor.email)

    assert len(mail.outbox) == 3
    assert reset_emails(mentor) == 3


def test_a_limited_request_looks_like_any_other(client, mentor):
    allowed = ask_for_reset(client, mentor.email)
    unknown = ask_for_reset(client, "nobody@example.com")
    use_up_the_account_limit(client, mentor)

    limited = ask_for_reset(client, mentor.email)

    assert reset_emails(mentor) == accounts.RESETS_PER_ACCOUNT
    assert allowed == unknown == limited == (302, reverse("password_reset_done"))


def test_another_account_is_not_limited(client, mentor, mentee):
    use_up_the_account_limit(client, mentor)
    ask_for_reset(client, mentor.email)

    ask_for_reset(client, mentee.email)

    assert reset_emails(mentor) == accounts.RESETS_PER_ACCOUNT
    assert reset_emails(mentee) == 1


def test_variants_of_the_address_share_one_count(client, mentor):
    for email in ["mentor@example.com", "Mentor@Example.com", " MENTOR@EXAMPLE.COM "]:
        ask_for_reset(client, email)
    assert reset_emails(mentor) == 3

    ask_for_reset(client, "mentor@EXAMPLE.com")

    assert reset_emails(mentor) == 3


def test_resets_work_again_once_the_window_has_passed(client, mentor, monkeypatch):
    # A real expiry, in five seconds instead of an hour: the four requests
    # fit in it (well under a second, even on a busy machine).
    monkeypatch.setattr(accounts, "RESET_WINDOW", 5)
    use_up_the_account_limit(client, mentor)
    ask_for_reset(client, mentor.email)
    assert reset_emails(mentor) == accounts.RESETS_PER_ACCOUNT

    time.sleep(5.1)
    ask_for_reset(client, mentor.email)

    assert reset_emails(mentor) == accounts.RESETS_PER_ACCOUNT + 1


def test_one_client_address_is_limited_across_accounts(client, mentor):
    """Someone working through a list of addresses from one machine is
    stopped, whether or not the addresses have accounts; others are not."""
    crowded = {"REMOTE_ADDR": "203.0.113.7"}
    for number in range(accounts.RESETS_PER_CLIENT):
        assert ask_for_reset(client, f"guess{number}@example.com", **crowded)[0] == 302

    answer = ask_for_reset(client, mentor.email, **crowded)

    assert answer == (302, reverse("password_reset_done"))
    assert reset_emails(mentor) == 0
    ask_for_reset(client, mentor.email, REMOTE_ADDR="198.51.100.9")
    assert reset_emails(mentor) == 1


def test_resets_still_work_when_the_cache_does_not_answer(client, mentor, caplog):
    """Redis down: the email goes out, unlimited, and the error is logged."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now: every cache call is refused.
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
        }
    }

    with override_settings(CACHES=unreachable), caplog.at_level(logging.ERROR):
        answer = ask_for_reset(client, mentor.email)

    assert answer == (302, reverse("password_reset_done"))
    assert reset_emails(mentor) == 1
    # Asked once, not again for the account: an address with an account
    # does not take longer to answer than one without.
    assert caplog.text.count("the cache did not answer") == 1


def test_the_addresses_of_one_ipv6_block_share_a_count(client, mentor):
    """A client given a /64 has billions of addresses: they count as one."""
    for number in range(accounts.RESETS_PER_CLIENT):
        ask_for_reset(
            client, f"guess{number}@example.com", REMOTE_ADDR=f"2001:db8:1:2::{number + 1:x}"
        )

    ask_for_reset(client, mentor.email, REMOTE_ADDR="2001:db8:1:2:ffff::1")
    assert reset_emails(mentor) == 0
    ask_for_reset(client, mentor.email, REMOTE_ADDR="2001:db8:1:3::1")
    assert reset_emails(mentor) == 1


def test_the_reset_finds_the_account_as_the_login_does(client, db):
    """By the one form of its address: its case is the address, the dotless
    ı is not an i."""
    ines = User.objects.create_user("ines@example.com", "x", full_name="Inès")

    ask_for_reset(client, "\u0131nes@example.com")
    assert reset_emails(ines) == 0
    ask_for_reset(client, "INES@Example.com")
    assert reset_emails(ines) == 1
