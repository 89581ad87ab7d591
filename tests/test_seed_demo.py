import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agreements import dashboard
from agreements.models import Agreement, CheckInRecord, ClosingNote, Program, Signature, User


def test_seed_demo_creates_pairings_in_every_state(db, capsys):
    call_command("seed_demo", force=True)
    out = capsys.readouterr().out
    assert "admin@example.com" in out and "mentoring-demo" in out
    program = Program.objects.get()
    assert program.admins.filter(email="admin@example.com").exists()
    statuses = sorted(Agreement.objects.values_list("status", flat=True))
    assert statuses == ["active"] * 3 + ["awaiting"] + ["draft"] * 3 + ["ended"]
    assert Signature.objects.filter(voided_at__isnull=True).count() == 9
    ended = Agreement.objects.get(status="ended")
    assert ended.end_reason == Agreement.EndReason.COMPLETED
    assert ClosingNote.objects.filter(agreement=ended).count() == 2
    # Eli and Chen's first check-in is recorded, Gus and Hana's and Kai and
    # Lena's both are; Ines and Jamal's is overdue.
    assert CheckInRecord.objects.count() == 5
    # Every dashboard flag has a pairing to show.
    summary = dashboard.summary(program, today=timezone.localdate())
    assert all(flag["count"] == 1 for flag in summary["flags"])
    assert Agreement.objects.get(mentor__email="eli@example.com").shared_kinds() == ["goals"]
    assert not User.objects.get(email="noor@example.com").has_usable_password()
    assert program.policy() == {
        "exceptions_notes": program.exceptions_notes,
        "notice_days": 14,
    }
    call_command("seed_demo", force=True)  # a second run changes nothing
    assert Agreement.objects.count() == 8


def test_seed_demo_refuses_to_run_outside_debug(db):
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo")
    assert not Program.objects.exists()
