import pytest
from django.core.management import CommandError, call_command

from agreements.models import Agreement, CheckInRecord, ClosingNote, Program, Signature


def test_seed_demo_creates_pairings_in_every_state(db, capsys):
    call_command("seed_demo", force=True)
    out = capsys.readouterr().out
    assert "admin@example.com" in out and "mentoring-demo" in out
    program = Program.objects.get()
    assert program.admins.filter(email="admin@example.com").exists()
    statuses = sorted(Agreement.objects.values_list("status", flat=True))
    assert statuses == ["active", "awaiting", "draft", "draft", "ended"]
    assert Signature.objects.filter(voided_at__isnull=True).count() == 5
    ended = Agreement.objects.get(status="ended")
    assert ended.end_reason == Agreement.EndReason.COMPLETED
    assert ClosingNote.objects.filter(agreement=ended).count() == 2
    # The active pairing's first check-in is recorded; the ended one's both are.
    assert CheckInRecord.objects.count() == 3
    call_command("seed_demo", force=True)  # a second run changes nothing
    assert Agreement.objects.count() == 5


def test_seed_demo_refuses_to_run_outside_debug(db):
    with pytest.raises(CommandError, match="published password"):
        call_command("seed_demo")
    assert not Program.objects.exists()
