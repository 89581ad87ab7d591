"""Nothing a pair writes reaches a program admin unless both share it.

A unique canary string sits in every confidential field of an agreement: its
sections, check-in notes, goal progress, an off-limits topic added after
signing, a closing note, the notes of a meeting and of a pause, a survey
comment. The test crawls every page, export, search and sort a program admin
can reach (the Outcomes page and its CSVs too), and the emails the program's
actions send, and asserts no canary appears. Then the pair shares one
section: exactly that section's canary appears, on the pairing page only.
Then one of them withdraws, and it is gone on the next request. A section's
discussion is private even when the section is shared: its comment canary
appears, on the pairing page only, once both share the discussion too.
"""

import datetime
import io
import logging

import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django_q.models import Failure, OrmQ, Schedule, Success
from django_q.tasks import async_task

from agreements import dashboard, demo, mailbox, outcomes
from agreements.models import Confidentiality, Effect, Proposal, Section, SurveyResponse
from tests.helpers import client_for, fresh

CANARY = "CANARY7f3a"


def canary(where):
    return f"{CANARY}-{where}"


def _hide(agreement, kind):
    """Replace every free-text field of one section with its canary."""
    Kind = Section.Kind
    mark = canary(kind)
    if kind == Kind.CONTACT:
        for preference in agreement.contact_preferences.all():
            preference.email_details = f"{mark}@example.com"
            preference.video_details = mark
            preference.preferred_times = mark
            preference.save()
    elif kind == Kind.SCHEDULE:
        agreement.schedule.location = mark
        agreement.schedule.save()
    elif kind == Kind.GOALS:
        for goal in agreement.goals.all():
            goal.description, goal.success_measure = mark, mark
            goal.save()
    elif kind == Kind.CHECKINS:
        agreement.checkins.update(focus=mark)
    elif kind == Kind.CONFIDENTIALITY:
        confidentiality = agreement.confidentiality
        for field in (
            "work_matters",
            "personal_matters",
            "mentor_areas",
            "exceptions_notes",
            "line_manager_by_mentor",
            "line_manager_by_mentee",
        ):
            setattr(confidentiality, field, mark)
        confidentiality.save()
    elif kind == Kind.OFF_LIMITS:
        for number, topic in enumerate(agreement.off_limits_topics.all()):
            topic.topic = f"{mark} {number}"
            topic.save()


# The term holds dates and numbers only, the language a language code:
# nothing confidential to hide.
HIDDEN_KINDS = [
    kind for kind in Section.Kind.values if kind not in {Section.Kind.TERM, Section.Kind.LANGUAGE}
]
LIFE = [
    "checkin-note",
    "progress-note",
    "answer-note",
    "added-topic",
    "closing-note",
    # A comment on the goals: private even once the goals are shared.
    "comment",
    # A declined proposal on the confidentiality, its reason and the answer.
    "proposal",
    "proposal-reason",
    "declined",
    # A meeting's notes, the one who logged it and the one who corrected it,
    # and a pause's note.
    "meeting-mentor",
    "meeting-mentee",
    "pause-note",
    # The mentor's comment on the midpoint survey: theirs alone.
    "survey-comment",
]


@pytest.fixture
def secret(agreement):
    """An agreement in force, a canary in every confidential field."""
    start = timezone.localdate() - datetime.timedelta(days=60)
    demo.write_all(agreement, by=agreement.mentor, start=start)
    for kind in HIDDEN_KINDS:
        current = fresh(agreement)
        current.save_section(
            kind,
            by=agreement.mentor,
            expected_revision=current.sections_by_kind[kind].revision,
            save=lambda current=current, kind=kind: _hide(current, kind),
        )
    current = fresh(agreement)
    proposal = current.propose_change(
        Section.Kind.CONFIDENTIALITY,
        by=agreement.mentee,
        expected_revision=current.sections_by_kind["confidentiality"].revision,
        save=lambda: Confidentiality.objects.filter(agreement=agreement).update(
            work_matters=canary("proposal")
        ),
        form_data={"work_matters": [canary("proposal")]},
        reason=canary("proposal-reason"),
    )
    fresh(agreement).decline_proposal(proposal.pk, by=agreement.mentor, response=canary("declined"))
    demo.agree_all(agreement)
    demo.sign_as(agreement, agreement.mentor)
    demo.sign_as(agreement, agreement.mentee)
    current = fresh(agreement)
    checkin = current.content_in_force.checkins[0]
    current.write_checkin_record(
        planned_date=checkin.date,
        held_on=checkin.date,
        progress=[(goal, "at_risk", canary("progress-note")) for goal in current.goals_in_force()],
        working="needs_changes",
        note=canary("checkin-note"),
        by=agreement.mentor,
    )
    current.answer_checkin(
        planned_date=checkin.date,
        working="needs_changes",
        note=canary("answer-note"),
        by=agreement.mentee,
    )
    current.add_off_limits_topic(topic=canary("added-topic"), rule="never", by=agreement.mentee)
    current.comment_on(Section.Kind.GOALS, by=agreement.mentee, text=canary("comment"))
    write_meeting_notes(current)
    # Written as a row: this term's midpoint has not come yet.
    SurveyResponse.objects.create(
        agreement=current,
        program=current.program,
        party="mentor",
        moment="midpoint",
        satisfaction=2,
        growth=2,
        recommend=3,
        comment=canary("survey-comment"),
        answered_at=timezone.now() - datetime.timedelta(days=120),
    )
    current.write_closing_note(
        by=agreement.mentee,
        achieved=canary("closing-note"),
        stay_in_touch="yes",
        how_to_reach=canary("closing-note"),
    )
    return fresh(agreement)


def write_meeting_notes(agreement):
    """A meeting the mentor logged and the mentee corrected, each with a note,
    and a pause planned with a note (the pairing page tells of it)."""
    today = timezone.localdate()
    meeting = agreement.log_meeting(
        held_on=today - datetime.timedelta(days=3),
        duration_minutes=60,
        format="video",
        note=canary("meeting-mentor"),
        by=agreement.mentor,
    )
    agreement.correct_meeting(
        number=meeting.pk,
        held_on=meeting.held_on,
        duration_minutes=50,
        format="video",
        note=canary("meeting-mentee"),
        by=agreement.mentee,
    )
    agreement.pause_meetings(
        starts_on=today + datetime.timedelta(days=1),
        until=today + datetime.timedelta(days=10),
        note=canary("pause-note"),
        by=agreement.mentee,
    )


def admin_pages(agreement):
    """Every page and export a program admin can reach for this program."""
    program = agreement.program
    pid, aid = program.uuid, agreement.uuid
    today = timezone.localdate()
    wide = f"from={today.year - 4}-{today.month:02d}&to={today:%Y-%m}"
    board = reverse("agreements:program", args=[pid])
    export = reverse("agreements:program_export", args=[pid])
    queries = [""]
    queries += [f"sort={key}" for key, _ in dashboard.COLUMNS]
    queries += [f"sort=-{key}" for key, _ in dashboard.COLUMNS]
    queries += [f"status={status}" for status in ("draft", "awaiting", "active", "ended")]
    queries += [f"flag={flag}" for flag in dashboard.Flag.values]
    # Search is case-insensitive: a lower-case query would find a canary, yet
    # the search box showing it back is not mistaken for a leak.
    queries += [f"q={CANARY.lower()}"]
    queries += [f"q={canary(where).lower()}" for where in HIDDEN_KINDS + LIFE]
    return (
        [f"{board}?{query}" for query in queries]
        + [f"{export}?{query}" for query in queries]
        + [
            reverse(f"agreements:{name}", args=[pid, aid])
            for name in ("pairing", "pairing_end", "pairing_repair")
        ]
        + [
            reverse(f"agreements:{name}", args=[pid])
            for name in ("program_settings", "pairing_new", "pairing_import")
        ]
        + [reverse("agreements:home"), reverse("agreements:program_list")]
        # The Outcomes page over five years, and each of its CSVs.
        + [f"{reverse('agreements:program_outcomes', args=[pid])}?{wide}"]
        + [
            f"{reverse('agreements:program_outcomes_csv', args=[pid, chart])}?{wide}"
            for chart in outcomes.CHARTS
        ]
    )


def text_of(response):
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def crawl(client, agreement):
    """{url: text} of every admin page, plus error pages and form errors."""
    pages = {}
    for url in admin_pages(agreement):
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        pages[url] = text_of(response)
    program, aid = agreement.program.uuid, agreement.uuid
    # Form errors and refusals render pages too.
    for name, data in (("pairing_end", {"reason": ""}), ("pairing_repair", {"mentor_email": "x"})):
        url = reverse(f"agreements:{name}", args=[program, aid])
        pages[f"POST {url}"] = text_of(client.post(url, data))
    missing = reverse("agreements:pairing", args=[program, "00000000-0000-0000-0000-000000000000"])
    pages["404"] = text_of(client.get(missing))
    pages["agreement page"] = text_of(client.get(reverse("agreements:detail", args=[aid])))
    return pages


def canaries_in(pages):
    return {
        where for where in HIDDEN_KINDS + LIFE for text in pages.values() if canary(where) in text
    }


def test_the_fixture_really_hides_canaries(secret, client):
    """The pair sees every canary: the crawl below looks for strings that exist."""
    client_for(client, secret.mentor)
    page = client.get(reverse("agreements:detail", args=[secret.uuid])).text
    page += client.get(reverse("agreements:checkins", args=[secret.uuid])).text
    page += client.get(reverse("agreements:meetings", args=[secret.uuid])).text
    page += client.get(reverse("agreements:survey", args=[secret.uuid, "midpoint"])).text
    proposal = Proposal.objects.get(section__agreement=secret)
    page += client.get(
        reverse("agreements:section_proposal", args=[secret.uuid, "confidentiality", proposal.pk])
    ).text
    for where in HIDDEN_KINDS + LIFE:
        if where != "closing-note":  # shown on the exit page, not these
            assert canary(where) in page, where


def test_nothing_unshared_reaches_an_admin(
    secret, client, program_admin, mailoutbox, django_capture_on_commit_callbacks
):
    client_for(client, program_admin)
    pages = crawl(client, secret)
    assert canaries_in(pages) == set()
    # The pairing page tells of the pair's pause: its dates, not its note.
    pairing = reverse("agreements:pairing", args=[secret.program.uuid, secret.uuid])
    assert "Pause planned from" in pages[pairing]
    # Searching for a canary finds nothing, on the page and in the export.
    board = reverse("agreements:program", args=[secret.program.uuid])
    assert client.get(board, {"q": CANARY.lower()}).context["rows"] == []
    export = reverse("agreements:program_export", args=[secret.program.uuid])
    assert text_of(client.get(export, {"q": CANARY.lower()})).count("\n") == 1  # header only
    # The program's emails carry no content either.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("agreements:pairing_remind", args=[secret.program.uuid, secret.uuid]))
    assert len(mailoutbox) == 2
    assert not any(CANARY in message.body + message.subject for message in mailoutbox)


def test_a_shared_section_and_only_it_appears_until_withdrawn(secret, client, program_admin):
    secret.consent_to_share(Section.Kind.GOALS, by=secret.mentor)
    client_for(client, program_admin)
    # One consent shares nothing.
    assert canaries_in(crawl(client, secret)) == set()

    secret.consent_to_share(Section.Kind.GOALS, by=secret.mentee)
    pages = crawl(client, secret)
    assert canaries_in(pages) == {Section.Kind.GOALS}
    pairing = reverse("agreements:pairing", args=[secret.program.uuid, secret.uuid])
    assert [url for url, text in pages.items() if canary("goals") in text] == [pairing]
    # Shared content is still not searchable.
    board = reverse("agreements:program", args=[secret.program.uuid])
    assert client.get(board, {"q": canary("goals").lower()}).context["rows"] == []

    fresh(secret).withdraw_sharing(Section.Kind.GOALS, by=secret.mentee)
    assert canaries_in(crawl(client, secret)) == set()


def test_a_shared_sections_discussion_appears_only_once_both_share_it(
    secret, client, program_admin, mailoutbox, django_capture_on_commit_callbacks
):
    """The goals' comment canary: private while the goals are shared, and
    while one of them shares the goals' discussion; on the pairing page only
    once both do; gone again when either stops sharing it or the goals."""
    pairing = reverse("agreements:pairing", args=[secret.program.uuid, secret.uuid])
    with django_capture_on_commit_callbacks(execute=True):
        for party in (secret.mentor, secret.mentee):
            fresh(secret).consent_to_share(Section.Kind.GOALS, by=party)
        fresh(secret).consent_to_share(Section.Kind.GOALS, by=secret.mentor, scope="discussion")
    client_for(client, program_admin)
    pages = crawl(client, secret)
    assert canaries_in(pages) == {Section.Kind.GOALS}
    # The program's reminder carries no comment either.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("agreements:pairing_remind", args=[secret.program.uuid, secret.uuid]))

    with django_capture_on_commit_callbacks(execute=True):
        fresh(secret).consent_to_share(Section.Kind.GOALS, by=secret.mentee, scope="discussion")
    pages = crawl(client, secret)
    assert canaries_in(pages) == {Section.Kind.GOALS, "comment"}
    assert [url for url, text in pages.items() if canary("comment") in text] == [pairing]
    # Shared comments are not searchable either.
    board = reverse("agreements:program", args=[secret.program.uuid])
    assert client.get(board, {"q": canary("comment").lower()}).context["rows"] == []

    with django_capture_on_commit_callbacks(execute=True):
        fresh(secret).withdraw_sharing(Section.Kind.GOALS, by=secret.mentor, scope="discussion")
    assert canaries_in(crawl(client, secret)) == {Section.Kind.GOALS}
    # Shared again, then the goals themselves withdrawn: their discussion goes with them.
    with django_capture_on_commit_callbacks(execute=True):
        for party in (secret.mentor, secret.mentee):
            fresh(secret).consent_to_share(Section.Kind.GOALS, by=party, scope="discussion")
        fresh(secret).withdraw_sharing(Section.Kind.GOALS, by=secret.mentee)
    assert canaries_in(crawl(client, secret)) == set()
    # Every email of all this (the pair's sharing notices, the reminder): no content.
    assert len(mailoutbox) >= 8
    assert not any(CANARY in message.body + message.subject for message in mailoutbox)


def test_each_admin_view_of_shared_content_is_on_the_pairs_trail(secret, client, program_admin):
    for party in (secret.mentor, secret.mentee):
        secret.consent_to_share(Section.Kind.CONFIDENTIALITY, by=party)
    client_for(client, program_admin)
    pairing = reverse("agreements:pairing", args=[secret.program.uuid, secret.uuid])
    client.get(pairing)
    client.get(pairing)
    views = secret.audit_events.filter(kind="viewed", actor=program_admin)
    assert views.count() == 2
    assert views.first().details == {"by": "program admin", "sections": ["Confidentiality"]}
    client_for(client, secret.mentee)
    trail = client.get(reverse("agreements:trail", args=[secret.uuid])).text
    assert "Ada Admin" in trail


def test_an_admin_of_another_program_sees_nothing_even_when_shared(secret, client, other_admin):
    for party in (secret.mentor, secret.mentee):
        secret.consent_to_share(Section.Kind.GOALS, by=party)
    client_for(client, other_admin)
    pairing = reverse("agreements:pairing", args=[secret.program.uuid, secret.uuid])
    response = client.get(pairing)
    assert response.status_code == 404
    assert CANARY not in response.text


def test_nothing_the_pair_wrote_reaches_the_operators_effects_queue_or_logs(
    secret, client, outsider, program_admin, caplog, settings, tmp_path
):
    """Every effect of the agreement runs in the worker (its seal, every
    email, a draft PDF and the final record, one of them failing first): the
    Django admin's effect and task-queue pages, the queue's own rows, the
    worker's log and the Sent emails page (as the demo writes emails to
    files) hold no canary."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    caplog.set_level(logging.DEBUG)
    mentor_client = client_for(client, secret.mentor)
    secret.start_amendment(by=secret.mentor)
    # The amendment's draft PDF, promised.
    assert mentor_client.get(reverse("agreements:pdf", args=[secret.uuid])).status_code == 202
    # Ended: the final record to seal, and emails to both.
    secret.end_by_program(by=program_admin, note="The program closes.")
    settings.EMAIL_BACKEND = "tests.test_canary.RefusingBackend"
    run_every_effect()
    assert Effect.objects.exclude(last_error="").exists()  # the failure is kept...
    settings.EMAIL_BACKEND = mailbox.FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path / "mail"
    for effect in Effect.objects.outstanding():
        effect.retry()
    run_every_effect()
    assert not Effect.objects.outstanding().exists()
    assert set(Effect.objects.values_list("kind", flat=True)) == set(Effect.Kind.values)

    outsider.is_staff = outsider.is_superuser = True
    outsider.save()
    client.force_login(outsider)
    pages = {}
    for model in (Effect, OrmQ, Schedule, Success, Failure):
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        pages[changelist] = client.get(changelist, {"state": "all"}).text
        for pk in model.objects.values_list("pk", flat=True):
            change = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change", args=[pk]
            )
            pages[change] = client.get(change).text
    # The site administration's pairing pages: metadata only.
    changelist = reverse("admin:agreements_agreement_changelist")
    pages[changelist] = client.get(changelist).text
    change = reverse("admin:agreements_agreement_change", args=[secret.pk])
    pages[change] = client.get(change).text
    assert "Maria Mentor" in pages[change]
    sent_emails = reverse("agreements:sent_emails")
    pages[sent_emails] = client.get(sent_emails).text
    sent = mailbox.sent_emails(settings.EMAIL_FILE_PATH)
    assert len(sent) >= 6  # signed, ended, to both; a meeting and a pause, to the mentor
    for message in sent:
        pages[message.key] = client.get(sent_emails, {"message": message.key}).text
        assert escape(message.subject) in pages[message.key]
    assert len(pages) > 10
    assert canaries_in(pages) == set()
    # django-q2 ran them, as the worker does, and kept its own records.
    assert Success.objects.exists() and OrmQ.objects.exists()
    stored = [str(row.args) + str(row.result) for row in Success.objects.all()]
    stored += [str(row.args) + str(row.result) for row in Failure.objects.all()]
    stored += [str(row.task) for row in OrmQ.objects.all()]  # the decoded payload
    stored += [effect.key + str(effect.args) + effect.last_error for effect in Effect.objects.all()]
    assert not any(CANARY in text for text in stored)
    assert CANARY not in caplog.text


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("The mail server is down.")


def run_every_effect():
    """Run what the worker would, through django-q2 in this process, three
    rounds: what one effect promises (a seal promises its emails) runs in the
    next."""
    for _round in range(3):
        for pk in Effect.objects.outstanding().values_list("pk", flat=True):
            async_task("agreements.tasks.run_effect", pk, sync=True)


def test_the_discussion_emails_hold_no_canary(
    secret, mailoutbox, django_capture_on_commit_callbacks
):
    """The secret's comment and declined proposal in the day's digests, and a
    comment and a proposal emailed as they happen: none holds what was written."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_digests", stdout=io.StringIO())
    assert len(mailoutbox) == 2  # the comment to the mentor, the answer to the mentee
    for party in (secret.mentor, secret.mentee):
        party.discussion_emails = party.DiscussionEmails.IMMEDIATELY
        party.save(update_fields=["discussion_emails"])
    with django_capture_on_commit_callbacks(execute=True):
        fresh(secret).comment_on(Section.Kind.GOALS, by=secret.mentor, text=canary("comment"))
        secret.start_amendment(by=secret.mentor)
        current = fresh(secret)
        current.propose_change(
            Section.Kind.CONFIDENTIALITY,
            by=secret.mentee,
            expected_revision=current.sections_by_kind["confidentiality"].revision,
            save=lambda: Confidentiality.objects.filter(agreement=secret).update(
                work_matters=canary("proposal")
            ),
            form_data={"work_matters": [canary("proposal")]},
            reason=canary("proposal-reason"),
        )
    assert len(mailoutbox) == 4
    assert not any(CANARY in message.body + message.subject for message in mailoutbox)


def test_meeting_and_pause_notes_reach_no_email_trail_or_log(
    secret, client, mailoutbox, caplog, django_capture_on_commit_callbacks
):
    """Every move of the meeting log and of pauses, each with a note, sent as
    it happens: no email, no entry of the trail (its details or the pair's
    own trail page) and no log line holds a note."""
    caplog.set_level(logging.DEBUG)
    mentor, mentee = secret.mentor, secret.mentee
    today = timezone.localdate()

    def move(name, **args):
        # As a request would: its email goes out once it commits.
        with django_capture_on_commit_callbacks(execute=True):
            return getattr(fresh(secret), name)(**args)

    move("resume_meetings", by=mentor)  # the fixture's planned pause
    meeting = move(
        "log_meeting",
        held_on=today - datetime.timedelta(days=1),
        duration_minutes=30,
        format="phone",
        note=canary("meeting-mentee"),
        by=mentee,
    )
    move(
        "correct_meeting",
        number=meeting.pk,
        held_on=meeting.held_on,
        duration_minutes=40,
        format="phone",
        note=canary("meeting-mentor"),
        by=mentor,
    )
    move("decline_meeting", number=meeting.pk, by=mentee)
    move("pause_meetings", starts_on=today, until=None, note=canary("pause-note"), by=mentor)
    move("resume_meetings", by=mentee)
    # The resumption, the meeting logged, corrected and declined, the pause and
    # its end: each told to the other party.
    assert len(mailoutbox) == 6
    assert not any(CANARY in message.subject + message.body for message in mailoutbox)
    # The pair's trail records the sections' changes, theirs to read: it holds
    # none of these notes.
    notes = [canary(where) for where in ("meeting-mentor", "meeting-mentee", "pause-note")]
    details = [str(event.details) for event in secret.audit_events.all()]
    assert len(details) > 20
    assert not any(note in text for note in notes for text in details)
    client_for(client, mentor)
    trail = client.get(reverse("agreements:trail", args=[secret.uuid])).text
    assert "Meetings paused" in trail
    assert not any(note in trail for note in notes)
    assert CANARY not in caplog.text
