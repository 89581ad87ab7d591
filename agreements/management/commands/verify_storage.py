import hashlib

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import pluralize

from agreements.models import Agreement, AgreementVersion


class Command(BaseCommand):
    help = (
        "Check every stored sealed PDF (each signed version's and each ended agreement's "
        "final record), on the file system or in the bucket, against the SHA-256 on record, "
        "and name each file that is missing, unreadable or altered. Exits with status 1 if "
        "any is."
    )

    def handle(self, *args, **options):
        checked = problems = 0
        for uuid, which, storage, name, recorded in _sealed_files():
            checked += 1
            state = _state(storage, name, recorded)
            if state is None:
                continue
            problems += 1
            self.stderr.write(f"Agreement {uuid}, {which}: {name or '(no file)'} {state}.")
        summary = f"Checked {checked} file{pluralize(checked)}"
        if problems:
            raise CommandError(f"{summary}: {problems} problem{pluralize(problems)}.")
        self.stdout.write(self.style.SUCCESS(f"{summary}: all match."))


def _sealed_files():
    """(agreement uuid, "version N" or "final", storage, file name, recorded
    SHA-256) of every PDF recorded as sealed, in two queries; names and
    hashes only, never content."""
    storage = AgreementVersion._meta.get_field("pdf").storage
    versions = (
        AgreementVersion.objects.filter(sealed_at__isnull=False)
        .order_by("agreement_id", "number")
        .values_list("agreement__uuid", "number", "pdf", "pdf_sha256")
    )
    for uuid, number, name, recorded in versions.iterator(chunk_size=500):
        yield uuid, f"version {number}", storage, name, recorded
    storage = Agreement._meta.get_field("final_pdf").storage
    finals = (
        Agreement.objects.filter(final_sealed_at__isnull=False)
        .order_by("pk")
        .values_list("uuid", "final_pdf", "final_pdf_sha256")
    )
    for uuid, name, recorded in finals.iterator(chunk_size=500):
        yield uuid, "final", storage, name, recorded


def _state(storage, name, recorded):
    """What is wrong with a stored file, or None if its SHA-256 is the one on
    record. Reads it in chunks, from the file system or a bucket alike."""
    if not name:
        return "MISSING"
    digest = hashlib.sha256()
    try:
        with storage.open(name, "rb") as file:
            for chunk in file.chunks():
                digest.update(chunk)
    except FileNotFoundError:
        return "MISSING"
    except OSError as exc:
        # Not a verdict on the file: the disk or the bucket did not let it be read.
        return f"UNREADABLE: {exc}"
    if digest.hexdigest() != recorded:
        return "ALTERED: its SHA-256 differs from the record"
    return None
