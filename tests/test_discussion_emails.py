"""Emails about the pair's discussions, as each person chose: one as each
comment or proposal happens, a daily digest (the default), or none. Each
names what happened and where, never what was written; a digest goes out at
most once a day per agreement and person, and only with news."""

import datetime
import io
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements.models import AuditEvent, Effect, Reminder, User
from tests.helpers import client_for, fresh, make_agreement, make_user
from tests.test_concurrency import make_client
from tests.test_proposals import proposal_url, propose_location

CANARY = "CANARY-d15c"
Choice = User.DiscussionEmails
Event = AuditEvent.Kind
DAY = datetime.date(2027, 3, 1)
NEXT_DAY = DAY + datetime.timedelta(days=1)


def choose(user, choice):
    user.discussion_emails = choice
    user.save(update_fields=["discussion_emails"])


def send_digests(today=None):
    """Run the cron's command; the emails it queues are sent once it commits."""
    out = io.StringIO()
    args = ["--date", today.isoformat()] if today else []
    with TestCase.captureOnCommitCallbacks(execute=True):
        call_command("send_digests", *args, stdout=out)
    return out.getvalue()


def comment(agreement, kind, by):
    with TestCase.captureOnCommitCallbacks(execute=True):
        fresh(agreement).comment_on(kind, by=by, text=f"{CANARY} comment")


def propose(agreement, by):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return propose_location(
            agreement, by=by, location=f"{CANARY} place", reason=f"{CANARY} reason"
        )


def answer(agreement, proposal, by, action):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = make_client(by).post(
            proposal_url(agreement, proposal, action), {"response": f"{CANARY} response"}
        )
    assert response.status_code == 302


def link(name, agreement, *args):
    return "http://testserver" + reverse(f"agreements:{name}", args=[agreement.uuid, *args])


def assert_nothing_written_in(messages):
    assert messages
    for message in messages:
        assert CANARY not in message.subject + message.body


def digests():
    return sorted(
        (r.recipient.email, r.about) for r in Reminder.objects.filter(kind=Reminder.Kind.DIGEST)
    )


# As it happens ------------------------------------------------------------------------


def test_as_it_happens_each_move_is_emailed_once_to_the_other_party_without_its_words(
    settings, ready, mentor, mentee, mailoutbox
):
    settings.SITE_URL = "http://testserver"
    choose(mentor, Choice.IMMEDIATELY)
    choose(mentee, Choice.IMMEDIATELY)

    comment(ready, "goals", mentor)
    declined = propose(ready, mentee)
    answer(ready, declined, mentor, "decline")
    accepted = propose(ready, mentee)
    answer(ready, accepted, mentor, "accept")

    assert [(m.to[0], m.subject) for m in mailoutbox] == [
        (mentee.email, "Maria Mentor commented on “Goals”"),
        (mentor.email, "Milo Mentee proposes a change to “Meeting schedule”"),
        (mentee.email, "Maria Mentor declined your proposal on “Meeting schedule”"),
        (mentor.email, "Milo Mentee proposes a change to “Meeting schedule”"),
        (mentee.email, "Maria Mentor accepted your proposal on “Meeting schedule”"),
    ]
    commented, proposed, no, _proposed, yes = (m.body for m in mailoutbox)
    assert f"\n{link('section_discussion', ready, 'goals')}\n" in commented
    assert "commented on the section “Goals” of your mentoring agreement in Test Programme" in (
        commented
    )
    assert f"\n{link('section_proposal', ready, 'schedule', declined.pk)}\n" in proposed
    assert f"\n{link('section_proposal', ready, 'schedule', declined.pk)}\n" in no
    assert f"\n{link('section_proposal', ready, 'schedule', accepted.pk)}\n" in yes
    assert "http://testserver" + reverse("agreements:account") in commented
    assert_nothing_written_in(mailoutbox)

    # Told again about the same moves (a retried request, a second worker): nothing more.
    mailoutbox.clear()
    with TestCase.captureOnCommitCallbacks(execute=True):
        for event in ready.audit_events.filter(
            kind__in=[Event.SECTION_COMMENTED, Event.PROPOSAL_MADE, Event.PROPOSAL_DECLINED]
        ):
            fresh(ready)._tell_of_discussion(event, by=event.actor)
    assert mailoutbox == []
    # Nothing for the digest either: they hear of it once.
    assert send_digests(DAY) == "Queued 0 digests to send.\n"


def test_as_it_happens_the_email_is_in_the_recipients_language(ready, mentor, mentee, mailoutbox):
    choose(mentee, Choice.IMMEDIATELY)
    mentee.language = "fr"
    mentee.save(update_fields=["language"])

    comment(ready, "goals", mentor)

    [message] = mailoutbox
    # The subject is one line: its spaces, the French non-breaking ones too, are plain.
    assert "a commenté « Objectifs »" in message.subject
    assert message.body.startswith("Bonjour Milo Mentee,")


# The daily digest ---------------------------------------------------------------------


def test_daily_hears_nothing_at_once_then_one_digest_of_counts_and_links(
    settings, ready, mentor, mentee, mailoutbox
):
    settings.SITE_URL = "http://testserver"
    assert mentee.discussion_emails == Choice.DAILY  # the default
    comment(ready, "goals", mentor)
    comment(ready, "goals", mentor)
    comment(ready, "schedule", mentor)
    comment(ready, "goals", mentee)  # their own: no news to them
    proposal = propose(ready, mentor)
    assert mailoutbox == []
    assert not Effect.objects.filter(key__startswith="email:discussion").exists()

    assert send_digests(DAY) == "Queued 2 digests to send.\n"

    assert digests() == [(mentee.email, DAY), (mentor.email, DAY)]
    to_mentee = next(m for m in mailoutbox if m.to == [mentee.email])
    assert to_mentee.subject == "What is new in your agreement with Maria Mentor"
    body = to_mentee.body
    assert "in your mentoring agreement with Maria Mentor in Test Programme:" in body
    assert f"* “Goals”: 2 new comments\n  {link('section_discussion', ready, 'goals')}\n" in body
    assert (
        f"* “Meeting schedule”: 1 new comment\n  {link('section_discussion', ready, 'schedule')}"
        in body
    )
    assert (
        "* “Meeting schedule”: a proposed change waits for your answer\n"
        f"  {link('section_proposal', ready, 'schedule', proposal.pk)}\n"
    ) in body
    to_mentor = next(m for m in mailoutbox if m.to == [mentor.email])
    assert "* “Goals”: 1 new comment\n" in to_mentor.body
    assert "proposal" not in to_mentor.body.split("This message")[0]
    assert_nothing_written_in(mailoutbox)


def test_the_digest_goes_once_a_day_and_only_with_news(ready, mentor, mentee, mailoutbox):
    comment(ready, "goals", mentor)
    assert send_digests(DAY) == "Queued 1 digest to send.\n"
    assert send_digests(DAY) == "Queued 0 digests to send.\n"
    assert len(mailoutbox) == 1

    # News after the day's digest waits for the next day's, counted once.
    comment(ready, "goals", mentor)
    assert send_digests(DAY) == "Queued 0 digests to send.\n"
    assert send_digests(NEXT_DAY) == "Queued 1 digest to send.\n"
    assert len(mailoutbox) == 2
    assert "* “Goals”: 1 new comment\n" in mailoutbox[1].body

    # A day with no news: no email, no row.
    assert send_digests(NEXT_DAY + datetime.timedelta(days=1)) == "Queued 0 digests to send.\n"
    assert len(mailoutbox) == 2
    assert digests() == [(mentee.email, DAY), (mentee.email, NEXT_DAY)]


def test_the_digest_tells_the_answers_to_ones_proposals(
    settings, ready, mentor, mentee, mailoutbox
):
    settings.SITE_URL = "http://testserver"
    declined = propose(ready, mentee)
    answer(ready, declined, mentor, "decline")
    accepted = propose(ready, mentee)
    answer(ready, accepted, mentor, "accept")
    send_digests(DAY)

    [to_mentee] = [m for m in mailoutbox if m.to == [mentee.email]]
    assert (
        "* “Meeting schedule”: your proposal was accepted\n"
        f"  {link('section_proposal', ready, 'schedule', accepted.pk)}\n"
    ) in to_mentee.body
    assert (
        "* “Meeting schedule”: your proposal was declined\n"
        f"  {link('section_proposal', ready, 'schedule', declined.pk)}\n"
    ) in to_mentee.body
    # The mentor answered both: nothing waits for them.
    assert [m.to for m in mailoutbox] == [[mentee.email]]
    assert_nothing_written_in(mailoutbox)


def test_the_digest_is_about_the_recipients_own_date(ready, mentor, mentee):
    mentee.time_zone = "Pacific/Kiritimati"
    mentee.save(update_fields=["time_zone"])
    comment(ready, "goals", mentor)

    send_digests()

    zone = datetime.timezone(datetime.timedelta(hours=14))
    assert digests() == [(mentee.email, timezone.localdate(timezone=zone))]


def test_a_first_digest_looks_back_one_day(ready, mentor, mentee, mailoutbox):
    comment(ready, "goals", mentor)
    long_ago = timezone.now() - datetime.timedelta(days=2)
    ready.sections.get(kind="goals").comments.update(written_at=long_ago)

    assert send_digests(DAY) == "Queued 0 digests to send.\n"
    assert mailoutbox == []


def test_never_hears_nothing(ready, mentor, mentee, mailoutbox):
    choose(mentee, Choice.NEVER)
    comment(ready, "goals", mentor)
    proposal = propose(ready, mentor)
    answer(ready, proposal, mentee, "decline")

    assert send_digests(DAY) == "Queued 1 digest to send.\n"  # the mentor's: their answer
    assert [m.to for m in mailoutbox] == [[mentor.email]]
    assert not Reminder.objects.filter(recipient=mentee).exists()
    assert not Effect.objects.filter(args__to=mentee.pk).exists()


def test_an_ended_agreement_gets_no_digest(ready, mentor, mentee, program_admin, mailoutbox):
    comment(ready, "goals", mentor)
    fresh(ready).end_by_program(by=program_admin, note="")
    mailoutbox.clear()

    assert send_digests(DAY) == "Queued 0 digests to send.\n"
    assert not Reminder.objects.exists()


def test_a_verbose_run_lists_each_digest(ready, mentor, mentee):
    comment(ready, "goals", mentor)
    out = io.StringIO()
    call_command("send_digests", "--date", DAY.isoformat(), verbosity=2, stdout=out)
    assert out.getvalue().splitlines() == [
        f"Digest ({DAY}): agreement {ready.uuid}, mentee.",
        "Queued 1 digest to send.",
    ]


def test_the_digests_cost_a_fixed_number_of_queries_whatever_the_comments(
    program, program_admin, ready, mentor, mentee
):
    def queries(today):
        # The command's own queries: the worker sends the emails later.
        with CaptureQueriesContext(connection) as context:
            call_command("send_digests", "--date", today.isoformat(), stdout=io.StringIO())
        return len(context)

    quiet = queries(DAY)
    comment(ready, "goals", mentor)
    one = queries(DAY)
    for index in range(3):
        other = make_agreement(
            program,
            mentor,
            make_user(f"mentee{index}@example.com", f"Mentee {index}"),
            program_admin,
        )
        for kind in ("goals", "schedule", "goals", "contact"):
            comment(other, kind, mentor)
    comment(ready, "goals", mentor)
    four = queries(NEXT_DAY)

    # The agreements with news, then their comments and proposals: 3 queries.
    # Each digest then costs the agreement's row lock (3 with its transaction),
    # its claim (3 with its savepoint) and its email's promise (6: looked up,
    # then inserted, inside savepoints).
    assert quiet == 3
    assert one == quiet + 12
    assert four == quiet + 4 * 12


# The person's choice ------------------------------------------------------------------


def test_the_account_page_saves_the_choice(client, mentor):
    client_for(client, mentor)
    page = client.get(reverse("agreements:account")).text
    assert "Emails about discussions and proposals" in page
    radios = re.findall(r'type="radio"[^>]*name="discussion_emails" value="(\w+)"', page)
    assert radios == ["immediately", "daily", "never"]
    assert "never what was written" in page

    response = client.post(
        reverse("agreements:account"),
        {"language": "", "time_zone": mentor.time_zone, "discussion_emails": "never"},
    )

    assert response.status_code == 302
    mentor.refresh_from_db()
    assert mentor.discussion_emails == Choice.NEVER
    # A form sent without it (an older page) keeps the choice.
    client.post(reverse("agreements:account"), {"language": "", "time_zone": mentor.time_zone})
    mentor.refresh_from_db()
    assert mentor.discussion_emails == Choice.NEVER


def test_the_account_page_refuses_a_bogus_choice(client, mentor):
    client_for(client, mentor)

    response = client.post(
        reverse("agreements:account"),
        {"language": "de", "time_zone": "Asia/Kolkata", "discussion_emails": "hourly"},
    )

    assert response.status_code == 200
    assert "Select a valid choice." in response.text
    mentor.refresh_from_db()
    assert (mentor.discussion_emails, mentor.language, mentor.time_zone) == (
        Choice.DAILY,
        "",
        "UTC",
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_account_page_needs_a_signed_in_person(client, method):
    response = getattr(client, method)(
        reverse("agreements:account"), {"discussion_emails": "never"}
    )
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
