"""Pairing people who have no account yet: the invitation and its one-time link."""

import datetime
import re

import pytest
from django.test import Client
from django.urls import reverse

from agreements.invitations import invitation_tokens
from agreements.models import Agreement, User
from tests.helpers import client_for

NEW_PASSWORD = "a long and fresh passphrase 42"


@pytest.fixture
def admin_client(client, program_admin):
    return client_for(client, program_admin)


def invite(admin_client, program, mentor, mentee, **extra):
    return admin_client.post(
        reverse("agreements:pairing_new", args=[program.uuid]),
        {
            "mentor_name": mentor[0],
            "mentor_email": mentor[1],
            "mentee_name": mentee[0],
            "mentee_email": mentee[1],
            **extra,
        },
    )


def link_in(message):
    return re.search(r"https?://[^\s]+/accounts/invitation/[^\s]+", message.body).group(0)


def path_of(url):
    return "/" + url.split("/", 3)[3]


def test_new_people_are_invited_existing_ones_notified(
    admin_client, program, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            admin_client, program, ("Anyone", mentor.email), ("Nour Newcomer", "Nour@Example.com")
        )
    assert response.status_code == 302
    newcomer = User.objects.get(email="nour@example.com")
    assert newcomer.full_name == "Nour Newcomer"
    assert not newcomer.has_usable_password()
    to_newcomer = next(m for m in mailoutbox if m.to == ["nour@example.com"])
    to_mentor = next(m for m in mailoutbox if m.to == [mentor.email])
    assert "invited" in to_newcomer.subject
    assert "expires in 7 days" in to_newcomer.body
    assert "/accounts/invitation/" in to_newcomer.body
    assert "Maria Mentor" in to_newcomer.body
    assert "/accounts/invitation/" not in to_mentor.body
    assert "Nour Newcomer" in to_mentor.body


def test_the_link_sets_a_password_once_and_signs_in(
    admin_client, program, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, program, ("M", mentor.email), ("Nour Newcomer", "nour@example.com"))
    link = path_of(link_in(next(m for m in mailoutbox if m.to == ["nour@example.com"])))
    visitor = Client()
    response = visitor.get(link, follow=True)
    assert "Welcome: choose your password" in response.text
    form_url = response.redirect_chain[-1][0]
    response = visitor.post(
        form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert "Welcome, Nour Newcomer" in response.text
    agreement = Agreement.objects.get()
    assert str(agreement.uuid) in response.text  # signed in, the agreement listed
    assert User.objects.get(email="nour@example.com").check_password(NEW_PASSWORD)
    # The link worked once.
    response = Client().get(link, follow=True)
    assert "This invitation link no longer works" in response.text


def test_a_mismatched_password_is_a_form_error(
    admin_client, program, mentor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin_client, program, ("M", mentor.email), ("Nour", "nour@example.com"))
    visitor = Client()
    response = visitor.get(path_of(link_in(mailoutbox[-1])), follow=True)
    response = visitor.post(
        response.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": "other"}
    )
    assert "The two password fields didn’t match." in response.text
    assert not User.objects.get(email="nour@example.com").has_usable_password()


def test_the_link_expires(settings, program, program_admin, monkeypatch):
    user = User.objects.create_user("late@example.com", None, full_name="Lou Late")
    token = invitation_tokens.make_token(user)
    assert invitation_tokens.check_token(user, token)
    lifetime = datetime.timedelta(days=settings.INVITATION_TIMEOUT_DAYS, hours=1)
    later = datetime.datetime.now() + lifetime  # noqa: DTZ005 (Django's tokens use naive time)
    monkeypatch.setattr(invitation_tokens, "_now", lambda: later)
    assert not invitation_tokens.check_token(user, token)


@pytest.mark.parametrize("token", ["", "abc", "zzzz-zzzz", "1-" + "0" * 32])
def test_a_forged_link_does_not_work(program, token):
    user = User.objects.create_user("x@example.com", None, full_name="X")
    assert not invitation_tokens.check_token(user, token)


def test_a_password_reset_token_is_not_an_invitation(db):
    from django.contrib.auth.tokens import default_token_generator

    user = User.objects.create_user("x@example.com", None, full_name="X")
    assert not invitation_tokens.check_token(user, default_token_generator.make_token(user))


def test_names_with_markup_are_escaped_on_the_page(admin_client, program, mentor):
    invite(admin_client, program, ("M", mentor.email), ("<b>Bold</b> {{ x }}", "b@example.com"))
    response = admin_client.get(reverse("agreements:program", args=[program.uuid]))
    assert "&lt;b&gt;Bold&lt;/b&gt; {{ x }}" in response.text
