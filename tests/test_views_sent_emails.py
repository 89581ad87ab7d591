"""The Sent emails page: the emails Django's file backend wrote, for superusers."""

import datetime
import re
from email.utils import format_datetime

import pytest
from django.core.mail import EmailMessage, get_connection
from django.urls import reverse

from agreements import mailbox
from agreements.models import User
from tests.helpers import PASSWORD, client_for, invite_newcomers

URL = reverse("agreements:sent_emails")


@pytest.fixture
def mail_files(settings, tmp_path):
    """The file backend, writing to a folder of the test's own."""
    settings.EMAIL_BACKEND = mailbox.FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    return settings.EMAIL_FILE_PATH


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser("root@example.com", PASSWORD, full_name="Root")


def written(subject, to, body="", *, at):
    return EmailMessage(
        subject, body, "mentorship@localhost", [to], headers={"Date": format_datetime(at)}
    )


def test_the_superuser_reads_an_invitation_with_its_link_clickable(
    mail_files, superuser, client, program, program_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite_newcomers(program, program_admin)
    client_for(client, superuser)
    listing = client.get(URL).text
    assert listing.count("You are invited to write a mentoring agreement") == 2
    assert "To new-mentee1@example.com" in listing
    key = next(m.key for m in mailbox.sent_emails(mail_files) if "mentee1" in m.to)
    assert f'href="?message={key}"' in listing

    page = client.get(URL, {"message": key}).text
    link = re.search(r'<a href="(http://127\.0\.0\.1:8000/accounts/invitation/[^"]+)"', page)
    assert link, "the invitation link is a link"
    assert "Hello New Mentee 1," in page
    # The link is the real one: it opens the invitee's page to choose a password.
    client.logout()
    path = "/" + link.group(1).split("/", 3)[3]
    assert client.get(path, follow=True).status_code == 200


def test_newest_first_several_per_file_and_nothing_else_read(mail_files, superuser, client):
    noon = datetime.datetime(2027, 3, 1, 12, 0, tzinfo=datetime.UTC)
    # One connection writes both of its messages to one file.
    with get_connection() as connection:
        connection.send_messages(
            [
                written("Oldest", "a@example.com", at=noon),
                written("Newest", "b@example.com", at=noon + datetime.timedelta(hours=2)),
            ]
        )
    written("Middle", "c@example.com", at=noon + datetime.timedelta(hours=1)).send()
    (mail_files / "notes.txt").write_text("Subject: Not an email of the backend\n\nHello")
    assert len(list(mail_files.glob("*.log"))) == 2

    sent = mailbox.sent_emails(mail_files)
    assert [m.subject for m in sent] == ["Newest", "Middle", "Oldest"]
    assert [m.to for m in sent] == ["b@example.com", "c@example.com", "a@example.com"]
    client_for(client, superuser)
    page = client.get(URL).text
    assert page.index("Newest") < page.index("Middle") < page.index("Oldest")
    assert "Not an email of the backend" not in page
    # The time is shown in the reader's time zone (UTC by default).
    assert "1 Mar 2027, 14:00:00" in page


def test_what_an_email_says_is_escaped(mail_files, superuser, client):
    at = datetime.datetime(2027, 3, 1, 12, 0, tzinfo=datetime.UTC)
    written(
        "<b>Bold</b>", "a@example.com", '<script>alert("x")</script> https://a.example', at=at
    ).send()
    (sent,) = mailbox.sent_emails(mail_files)
    client_for(client, superuser)
    assert "&lt;b&gt;Bold&lt;/b&gt;" in client.get(URL).text
    page = client.get(URL, {"message": sent.key}).text
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert '<a href="https://a.example" rel="nofollow">https://a.example</a>' in page


def test_non_ascii_headers_and_bodies_read_back_as_sent(mail_files):
    at = datetime.datetime(2027, 3, 1, 12, 0, tzinfo=datetime.UTC)
    subject = "“Goals” is now shared with Inès's programme"
    written(subject, "ines@example.com", "Bonjour Inès,\n\n— à bientôt\n", at=at).send()
    (sent,) = mailbox.sent_emails(mail_files)
    assert (sent.subject, sent.to, sent.sent_at) == (subject, "ines@example.com", at)
    assert sent.body == "Bonjour Inès,\n\n— à bientôt"


def test_no_emails_yet(mail_files, superuser, client, django_assert_max_num_queries):
    client_for(client, superuser)
    with django_assert_max_num_queries(3):  # the session, the user, the menu's count
        page = client.get(URL).text
    assert "No emails yet." in page


def test_an_unknown_message_is_404(mail_files, superuser, client):
    client_for(client, superuser)
    assert client.get(URL, {"message": "20270301-120000-1-0"}).status_code == 404
    assert client.get(URL, {"message": "../../etc/passwd"}).status_code == 404


@pytest.mark.parametrize(
    ("backend", "says"),
    [
        (
            "django.core.mail.backends.smtp.EmailBackend",
            "sent through the mail server smtp.example.org:587",
        ),
        (
            "django.core.mail.backends.console.EmailBackend",
            "printed on the output of the task worker",
        ),
        ("django.core.mail.backends.locmem.EmailBackend", "kept in memory"),
    ],
)
def test_without_the_file_backend_the_page_says_where_emails_go(
    settings, superuser, client, backend, says
):
    settings.EMAIL_BACKEND = backend
    settings.EMAIL_HOST, settings.EMAIL_PORT = "smtp.example.org", 587
    client_for(client, superuser)
    page = client.get(URL).text
    assert says in page
    assert "No emails yet." not in page
    assert client.get(URL, {"message": "20270301-120000-1-0"}).status_code == 200


@pytest.mark.parametrize("persona", ["mentor", "program_admin", "outsider"])
def test_everyone_but_a_superuser_gets_404(
    request, mail_files, client, persona, program, program_admin, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite_newcomers(program, program_admin)
    user = request.getfixturevalue(persona)
    user.is_staff = True  # staff, not superuser, is not enough
    user.save()
    client_for(client, user)
    (sent, *_rest) = mailbox.sent_emails(mail_files)
    for params in ({}, {"message": sent.key}):
        response = client.get(URL, params)
        assert response.status_code == 404
        assert "invitation" not in response.text


def test_anonymous_is_sent_to_log_in(client, mail_files):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
