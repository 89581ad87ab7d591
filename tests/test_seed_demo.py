"""The demo data: every state the README promises, on the day it is seeded,
and the banner `make demo` ends with."""

import datetime
import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from agreements import dashboard, mailbox, tasks
from agreements.management.commands.seed_demo import INVITED, LOGINS, PASSWORD, PEOPLE
from agreements.models import (
    Agreement,
    CheckInRecord,
    ClosingNote,
    Effect,
    Program,
    Signature,
    User,
)
from tests.helpers import client_for, fresh

README = Path(__file__).resolve().parent.parent / "README.md"
NORTHWIND = "Northwind Mentoring Programme"
CIRCLE = "Northwind Graduate Circle"


@pytest.fixture(scope="module")
def _seeded_once(module_db, django_db_blocker):
    """The demo data, seeded once for the module (it takes seconds): its
    tests read it, and what one of them changes is rolled back after it."""
    with django_db_blocker.unblock():
        out = io.StringIO()
        call_command("seed_demo", force=True, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(_seeded_once, db):
    return _seeded_once


def person(name):
    return User.objects.get(email=f"{name}@example.com")


def agreement_of(mentor, mentee):
    return Agreement.objects.with_working_copy().get(
        mentor__email=f"{mentor}@example.com", mentee__email=f"{mentee}@example.com"
    )


def today():
    return timezone.localdate()


def test_seed_demo_refuses_to_run_outside_debug(db):
    # Counted: the module's demo data may already be there.
    before = User.objects.count()
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo")
    assert User.objects.count() == before


def test_seed_demo_creates_pairings_in_every_state(seeded):
    assert "Demo data created." in seeded
    program = Program.objects.get(name=NORTHWIND)
    assert list(program.admins.values_list("email", flat=True)) == ["admin@example.com"]
    statuses = sorted(Agreement.objects.values_list("status", flat=True))
    assert statuses == ["active"] * 4 + ["awaiting"] + ["draft"] * 3 + ["ended"]
    assert Signature.objects.filter(voided_at__isnull=True).count() == 11
    ended = Agreement.objects.get(status="ended")
    assert ended.end_reason == Agreement.EndReason.COMPLETED
    assert ClosingNote.objects.filter(agreement=ended).count() == 2
    # Eli and Chen's first check-in is recorded, Gus and Hana's and Kai and
    # Lena's both are; Ines and Jamal's is overdue.
    assert CheckInRecord.objects.count() == 5
    # Every dashboard flag of Northwind has a pairing to show.
    summary = dashboard.summary(program, today=today())
    assert all(flag["count"] == 1 for flag in summary["flags"])
    assert agreement_of("eli", "chen").shared_kinds() == ["goals"]
    assert not person("noor").has_usable_password()
    assert program.policy() == {"exceptions_notes": program.exceptions_notes, "notice_days": 14}


def test_a_second_run_changes_nothing(seeded):
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    assert "Demo data already present." in out.getvalue()
    assert "It was seeded on" not in out.getvalue()
    assert Agreement.objects.count() == 9
    assert Program.objects.count() == 2


def test_a_run_on_a_later_day_says_the_states_were_those_of_the_seeding_day(seeded):
    Program.objects.update(created_at=timezone.now() - datetime.timedelta(days=3))
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    assert "what the list below says is due today was due then" in out.getvalue()
    assert "rm db.sqlite3 && rm -rf var/mail && make demo" in out.getvalue()


# What the README promises ----------------------------------------------------


def readme_logins():
    """Every login in the README's table of demo logins, in its order."""
    section = README.read_text().split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return [email for row in rows for email in re.findall(r"`([^`]+@example\.com)`", row)]


def test_the_readme_the_banner_and_the_data_have_the_same_logins(seeded):
    accounts = {email for email, _name in PEOPLE.values()} | {INVITED[0]}
    assert sorted(readme_logins()) == sorted(accounts)
    assert sorted(email for email, _what in LOGINS) == sorted(accounts)
    assert set(User.objects.values_list("email", flat=True)) == accounts
    assert f"every demo password is `{PASSWORD}`" in README.read_text()
    for email, _name in PEOPLE.values():
        assert User.objects.get(email=email).check_password(PASSWORD), email


def test_the_admin_lands_on_the_dashboard_with_the_django_admin_and_sent_emails(seeded, client):
    admin = person("admin")
    assert admin.is_superuser
    client_for(client, admin)
    program = Program.objects.get(name=NORTHWIND)
    assert client.get("/")["Location"] == reverse("agreements:program", args=[program.uuid])
    assert client.get(reverse("agreements:sent_emails")).status_code == 200
    pairing = reverse("agreements:pairing", args=[program.uuid, agreement_of("eli", "chen").uuid])
    assert "Lead a project from kick-off to delivery." in client.get(pairing).text


def test_the_drafts_and_the_signature_awaited(seeded):
    empty = agreement_of("amira", "ben")
    assert empty.status == "draft"
    assert all(section.revision == 0 for section in empty.sections.all())
    half = agreement_of("amira", "chen")
    assert half.status == "draft"
    assert sum(section.is_agreed for section in half.ordered_sections()) == 4
    awaiting = agreement_of("ben", "dana")
    assert awaiting.status == "awaiting"
    assert list(awaiting.signatures.values_list("signer__email", flat=True)) == ["ben@example.com"]
    invited = agreement_of("ben", "noor")
    assert invited.status == "draft"
    assert not Agreement.objects.for_party(person("fatima")).exists()


def test_eli_and_chen_have_a_check_in_to_record_today(seeded, client):
    active = (
        Agreement.objects.with_working_copy().with_records().get(pk=agreement_of("eli", "chen").pk)
    )
    assert active.status == "active"
    assert [checkin.date for checkin in active.checkins_to_record(today())] == [today()]
    assert active.checkin_summary(today()) == (1, 0)  # the first one held, none overdue
    client_for(client, person("eli"))
    home = client.get("/").text
    assert f"Record the check-in of {today():%-d %b %Y}" in home
    record = reverse("agreements:checkin_record", args=[active.uuid, today().isoformat()])
    assert client.get(record).status_code == 200
    client_for(client, person("chen"))
    assert "Answer “still working for you?”" in client.get("/").text


def test_the_overdue_check_in_the_exit_soon_and_the_ended(seeded):
    overdue = Agreement.objects.with_records().get(pk=agreement_of("ines", "jamal").pk)
    assert overdue.checkin_summary(today()) == (0, 1)
    ending = agreement_of("kai", "lena")
    assert 0 < (ending.end_date - today()).days <= 30
    ended = agreement_of("gus", "hana")
    assert ended.status == "ended" and ended.closing_notes.count() == 2


def test_ines_runs_a_program_and_sees_it_above_her_own_agreement(seeded, client):
    circle = Program.objects.get(name=CIRCLE)
    assert list(circle.admins.all()) == [person("ines")]
    client_for(client, person("ines"))
    page = client.get("/").text
    assert page.index("Programs you run") < page.index(CIRCLE) < page.index("Jamal Mensah")


def test_the_no_fault_exit_ends_mia_and_omars_agreement_at_once(seeded, client):
    agreement = agreement_of("mia", "omar")
    assert agreement.status == "active" and agreement.program.name == CIRCLE
    assert agreement.content_in_force.term.notice_days == 0
    client_for(client, person("mia"))
    url = reverse("agreements:exit", args=[agreement.uuid])
    assert "(at once)" in client.get(url).text
    response = client.post(url, {"note-achieved": "", "note-stay_in_touch": ""})
    assert response.status_code == 302
    ended = fresh(agreement)
    assert ended.status == "ended" and ended.end_reason == Agreement.EndReason.EARLY_EXIT


def test_noors_invitation_is_on_the_sent_emails_page(seeded, client, settings, tmp_path):
    settings.EMAIL_BACKEND = mailbox.FILE_BACKEND
    settings.EMAIL_FILE_PATH = tmp_path
    noor = person("noor")
    effect = Effect.objects.get(key__startswith="email:pairing_created:", args__to=noor.pk)
    tasks.run_effect(effect.pk)
    client_for(client, person("admin"))
    listing = client.get(reverse("agreements:sent_emails")).text
    assert "You are invited to write a mentoring agreement" in listing
    assert "noor@example.com" in listing
    (sent,) = mailbox.sent_emails(tmp_path)
    page = client.get(reverse("agreements:sent_emails"), {"message": sent.key}).text
    link = re.search(r'<a href="(http://127\.0\.0\.1:8000/accounts/invitation/[^"]+)"', page)
    assert link, "the invitation link is clickable"


# The banner ------------------------------------------------------------------


def test_the_banner_boxes_the_address_the_logins_and_where_emails_are(seeded, settings):
    settings.EMAIL_BACKEND = mailbox.FILE_BACKEND
    out = io.StringIO()
    call_command("seed_demo", force=True, worker_log="var/log/worker.log", stdout=out)
    box = [line for line in out.getvalue().splitlines() if line.startswith(("+", "|"))]
    assert box[0] == box[-1] and set(box[0]) == {"+", "-"}
    assert len({len(line) for line in box}) == 1, "every line of the box is as wide"
    assert len(box[0]) <= 80, "it fits a terminal"
    text = "\n".join(box)
    assert "http://127.0.0.1:8000 " in text
    assert f"Every demo password: {PASSWORD}" in text
    for email, _what in LOGINS:
        assert f"| {' ' * 2}{email} " in text
    assert "http://127.0.0.1:8000/emails/ (as admin@example.com)" in text
    assert "The task worker's output: var/log/worker.log" in text


def test_the_banner_says_where_emails_go_without_the_file_backend(seeded, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    out = io.StringIO()
    call_command("seed_demo", force=True, stdout=out)
    assert "printed on the output of the task worker" in out.getvalue()
    assert "/emails/" not in out.getvalue()
