"""Stored files: never half a file on a full disk; `verify_storage` checks every
sealed PDF against the SHA-256 on record."""

import datetime
import errno
import io
import os
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, storages
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from agreements import tasks
from agreements.models import Agreement, AgreementVersion
from agreements.storage import AtomicFileSystemStorage
from tests.helpers import fresh, make_active

BIG = os.urandom(256 * 1024)


def sh(*command, check=True):
    # Fixed commands without a shell; mount and umount need root.
    return subprocess.run(command, capture_output=True, text=True, check=check)  # noqa: S603


def files_under(root):
    return sorted(
        os.path.relpath(os.path.join(folder, name), root)
        for folder, _dirs, names in os.walk(root)
        for name in names
    )


@pytest.fixture
def small_disk(tmp_path, settings):
    """MEDIA_ROOT on a 64 KiB tmpfs: a real full disk. Mounting needs root,
    which the test machines have."""
    path = tmp_path / "small"
    path.mkdir()
    mount = sh("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path), check=False)
    if mount.returncode:
        pytest.skip(f"Cannot mount a tmpfs here (needs root): {mount.stderr.strip()}")
    try:
        settings.MEDIA_ROOT = path
        yield path
    finally:
        sh("umount", str(path))


def test_default_storage_is_the_atomic_one():
    assert isinstance(storages["default"], AtomicFileSystemStorage)


def test_save_open_and_delete_a_file(settings):
    storage = storages["default"]
    name = storage.save("agreements/x/sealed.pdf", ContentFile(b"%PDF-1.7 whole"))
    assert name == "agreements/x/sealed.pdf"
    with storage.open(name, "rb") as file:
        assert file.read() == b"%PDF-1.7 whole"
    # An existing file is never replaced: the second one gets a name of its own.
    other = storage.save("agreements/x/sealed.pdf", ContentFile(b"%PDF-1.7 other"))
    assert other != name
    assert files_under(settings.MEDIA_ROOT) == sorted(
        os.path.join("agreements", "x", os.path.basename(n)) for n in (name, other)
    )
    storage.delete(name)
    assert not storage.exists(name)
    with storage.open(other, "rb") as file:
        assert file.read() == b"%PDF-1.7 other"


def test_a_storage_allowed_to_overwrite_replaces_the_file_whole(tmp_path):
    storage = AtomicFileSystemStorage(location=tmp_path / "files", allow_overwrite=True)
    storage.save("a.pdf", ContentFile(b"first"))
    assert storage.save("a.pdf", ContentFile(b"second")) == "a.pdf"
    assert files_under(tmp_path / "files") == ["a.pdf"]
    with storage.open("a.pdf", "rb") as file:
        assert file.read() == b"second"


def test_a_full_disk_leaves_neither_half_a_file_nor_a_temporary_one(small_disk):
    # Django's own storage leaves the truncated file under the final name...
    with pytest.raises(OSError) as plain:
        FileSystemStorage(location=small_disk).save("plain.pdf", ContentFile(BIG))
    assert plain.value.errno == errno.ENOSPC
    assert files_under(small_disk) == ["plain.pdf"]
    assert 0 < os.path.getsize(small_disk / "plain.pdf") < len(BIG)
    os.remove(small_disk / "plain.pdf")

    # ...this one leaves nothing at all.
    storage = storages["default"]
    with pytest.raises(OSError) as full:
        storage.save("agreements/x/sealed.pdf", ContentFile(BIG))
    assert full.value.errno == errno.ENOSPC
    assert files_under(small_disk) == []

    # Once there is room, the same save stores the whole file under its name.
    sh("mount", "-o", "remount,size=1m", str(small_disk))
    name = storage.save("agreements/x/sealed.pdf", ContentFile(BIG))
    assert name == "agreements/x/sealed.pdf"
    assert files_under(small_disk) == ["agreements/x/sealed.pdf"]
    with storage.open(name, "rb") as file:
        assert file.read() == BIG


# A worker stopped mid-store ----------------------------------------------------


class Stopped(Exception):
    """Stands for the task timeout or a lost database, between storing a file
    and committing the row that names it."""


def stop_once(monkeypatch, model, method):
    original = getattr(model, method)
    calls = []

    def stopping(self, *args, **kwargs):
        calls.append(method)
        if len(calls) == 1:
            raise Stopped
        return original(self, *args, **kwargs)

    monkeypatch.setattr(model, method, stopping)


def stored(folder):
    return {path.name for path in folder.iterdir()}


def named(version):
    return {field.name.rsplit("/", 1)[1] for field in (version.pdf, version.unsealed_pdf) if field}


@pytest.mark.parametrize(
    ("model", "method"),
    [(AgreementVersion, "save"), (Agreement, "audit")],
    ids=["while-keeping-the-rendering", "while-storing-the-seal"],
)
def test_a_seal_stopped_before_commit_leaves_one_sealed_pdf_once_it_is_done(
    agreement, settings, monkeypatch, django_capture_on_commit_callbacks, model, method
):
    with django_capture_on_commit_callbacks(execute=False):
        active = make_active(agreement, start=timezone.localdate())
    version = AgreementVersion.objects.get(agreement=active)
    folder = settings.MEDIA_ROOT / "agreements" / str(active.uuid)
    stop_once(monkeypatch, model, method)

    with pytest.raises(Stopped):
        tasks.seal_version(version_id=version.pk)
    # The stopped attempt left a file that no row names.
    assert stored(folder) - named(AgreementVersion.objects.get(pk=version.pk))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.seal_version(version_id=version.pk)

    version.refresh_from_db()
    assert version.is_sealed
    assert stored(folder) == named(version) == {version.pdf.name.rsplit("/", 1)[1]}


def test_a_final_record_stopped_before_commit_leaves_one_file_once_it_is_done(
    ended, monkeypatch, settings
):
    folder = settings.MEDIA_ROOT / "agreements" / str(ended.uuid)
    Agreement.objects.filter(pk=ended.pk).update(final_sealed_at=None, final_pdf="")
    stop_once(monkeypatch, Agreement, "audit")

    with pytest.raises(Stopped):
        tasks.seal_final_pdf(agreement_id=ended.pk)
    (left,) = folder.glob("final-*")  # the stopped attempt's file, named by no row
    assert not fresh(ended).final_pdf
    tasks.seal_final_pdf(agreement_id=ended.pk)

    ended = fresh(ended)
    (kept,) = folder.glob("final-*")
    assert kept.name == ended.final_pdf.name.rsplit("/", 1)[1] != left.name


# verify_storage ----------------------------------------------------------------


@pytest.fixture
def ended(agreement, django_capture_on_commit_callbacks):
    """Signed by both (its version sealed), then ended on its exit date (its
    final record sealed): two stored PDFs."""
    start = timezone.localdate() - datetime.timedelta(days=60)
    with django_capture_on_commit_callbacks(execute=True):
        active = make_active(agreement, start=start)
    with django_capture_on_commit_callbacks(execute=True):
        assert active.end_if_due(active.content_in_force.term.exit_date)
    ended = fresh(agreement)
    assert ended.final_sealed_at and ended.final_pdf
    assert AgreementVersion.objects.get(agreement=ended).is_sealed
    return ended


def verify_storage():
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_storage", stdout=out, stderr=err)
    except CommandError as exc:
        return str(exc), err.getvalue().splitlines()
    return out.getvalue().strip(), err.getvalue().splitlines()


def test_verify_storage_reports_every_sealed_pdf_intact(ended, django_assert_num_queries):
    with django_assert_num_queries(2):
        summary, problems = verify_storage()
    assert (summary, problems) == ("Checked 2 files: all match.", [])


def test_verify_storage_names_a_missing_file_and_fails(ended):
    version = AgreementVersion.objects.get(agreement=ended)
    version.pdf.storage.delete(version.pdf.name)

    summary, problems = verify_storage()

    assert summary == "Checked 2 files: 1 problem."
    assert problems == [f"Agreement {ended.uuid}, version 1: {version.pdf.name} MISSING."]


def test_verify_storage_names_an_altered_file_and_fails(ended):
    path = ended.final_pdf.path
    with open(path, "r+b") as file:
        file.seek(1000)
        byte = file.read(1)
        file.seek(1000)
        file.write(bytes([byte[0] ^ 0x01]))

    summary, problems = verify_storage()

    assert summary == "Checked 2 files: 1 problem."
    assert problems == [
        f"Agreement {ended.uuid}, final: {ended.final_pdf.name} "
        "ALTERED: its SHA-256 differs from the record."
    ]


def test_verify_storage_exits_with_status_1_for_cron(ended):
    AgreementVersion.objects.get(agreement=ended).pdf.delete(save=False)
    with pytest.raises(CommandError) as failed:
        call_command("verify_storage", stdout=io.StringIO(), stderr=io.StringIO())
    assert failed.value.returncode == 1
