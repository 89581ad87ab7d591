"""Rehearse "Backup and restore" (docs/operations.md) on throwaway copies.

    .venv/bin/python scripts/backup_restore_check.py [--sqlite]

Seeds the demo data, its PDFs sealed, into a throwaway database (PostgreSQL at
PGHOST:PGPORT as PGUSER, by default 127.0.0.1:5432 as postgres; with --sqlite a
SQLite file), backs up the database, MEDIA_ROOT and SEAL_DIR as docs/operations.md
says, deletes the originals, restores into a fresh database and new folders,
and checks the restored copy: `verify_audit`, `verify_storage`, and the seal of
every restored PDF. Prints each step; exits with status 1 if any fails.
"""

import argparse
import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import ROOT


class Failed(Exception):
    pass


def run(command, *, env=None, cwd):
    """Print the command as an operator would type it, run it, return its output."""
    shown = shlex.join(command).replace(
        shlex.join([sys.executable, str(ROOT / "manage.py")]), "manage.py"
    )
    print(f"  $ {shown}")
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)  # noqa: S603
    if result.returncode:
        raise Failed(
            f"{shown} exited with status {result.returncode}:\n{result.stdout}{result.stderr}"
        )
    return result.stdout


def django_env(database_url, place):
    """The environment of a `manage.py` run against the copy in ``place``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("SEAL_")}
    # The rehearsal copies folders: never a bucket the shell happens to name
    # (docs/topology.md says how a bucket is backed up).
    env.pop("STORAGE_BUCKET", None)
    env.update(
        DJANGO_SETTINGS_MODULE="mentorship.settings",
        DATABASE_URL=database_url,
        MEDIA_ROOT=str(place / "media"),
        SEAL_DIR=str(place / "seal"),
        DEBUG="true",
        # Promised work (sealing, emails) runs in-process once each move commits.
        TASKS_SYNC="true",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    return env


class Postgres:
    label = "PostgreSQL"

    def __init__(self, work):
        self.work = work
        self.env = {
            **os.environ,
            "PGHOST": os.environ.get("PGHOST", "127.0.0.1"),
            "PGPORT": os.environ.get("PGPORT", "5432"),
            "PGUSER": os.environ.get("PGUSER", "postgres"),
        }
        self.name = f"mentorship_backup_check_{os.getpid()}"
        self.names = [self.name, f"{self.name}_restored"]

    @property
    def url(self):
        env = self.env
        return f"postgres://{env['PGUSER']}@{env['PGHOST']}:{env['PGPORT']}/{self.name}"

    def create(self):
        run(["createdb", self.name], env=self.env, cwd=self.work)

    def backup(self):
        run(
            ["pg_dump", "-Fc", "--no-owner", "-f", "backup/mentorship.dump", self.url],
            cwd=self.work,
        )

    def drop(self):
        run(["dropdb", "--force", self.name], env=self.env, cwd=self.work)

    def restore(self):
        self.name = self.names[1]
        self.create()
        run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "-d",
                self.url,
                "backup/mentorship.dump",
            ],
            cwd=self.work,
        )

    def clean_up(self):
        for name in self.names:
            command = ["dropdb", "--if-exists", "--force", name]
            subprocess.run(command, env=self.env, capture_output=True)  # noqa: S603


class SQLite:
    label = "SQLite"

    def __init__(self, work):
        self.work = work
        self.path = work / "source" / "db.sqlite3"
        self.url = f"sqlite:///{self.path}"

    def create(self):
        self.path.parent.mkdir(parents=True)

    def backup(self):
        # The online backup API: the file alone may miss what still sits in the WAL.
        print('  $ sqlite3 source/db.sqlite3 ".backup backup/db.sqlite3"  (by the Python API)')
        source = sqlite3.connect(self.path)
        target = sqlite3.connect(self.work / "backup" / "db.sqlite3")
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()

    def drop(self):
        pass  # Goes with the source folder.

    def restore(self):
        self.path = self.work / "restored" / "db.sqlite3"
        self.url = f"sqlite:///{self.path}"
        self.path.parent.mkdir(exist_ok=True)
        run(["cp", "backup/db.sqlite3", "restored/db.sqlite3"], cwd=self.work)

    def clean_up(self):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="backup-check-"))
    database = (SQLite if args.sqlite else Postgres)(work)
    try:
        check(database, work)
    except Failed as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        database.clean_up()
        shutil.rmtree(work, ignore_errors=True)
    print("Backup and restore check passed.")
    return 0


def check(database, work):
    manage = [sys.executable, str(ROOT / "manage.py")]
    source, restored = work / "source", work / "restored"

    print(f"1. Demo data with sealed PDFs in a throwaway {database.label} database, in {work}")
    database.create()
    env = django_env(database.url, source)
    for command in (["migrate"], ["create_seal_keys"], ["seed_demo", "--force"]):
        run([*manage, *command], env=env, cwd=work)
    before = run([*manage, "verify_storage"], env=env, cwd=work).strip()
    if before.startswith("Checked 0 files"):
        raise Failed("seed_demo sealed no PDF: did the promised tasks run?")
    print(f"  {before}")

    print("2. Back up: the database, then MEDIA_ROOT, then SEAL_DIR")
    (work / "backup").mkdir()
    database.backup()
    run(["cp", "-a", "source/media/.", "backup/media/"], cwd=work)
    # Kept apart and encrypted in real life (tar | gpg --symmetric); these keys are throwaway.
    run(["tar", "-C", "source/seal", "-cf", "backup/seal-keys.tar", "."], cwd=work)

    print("3. Lose the originals")
    database.drop()
    run(["rm", "-r", "source"], cwd=work)

    print("4. Restore into a fresh database and new folders: keys, database, PDFs")
    (restored / "seal").mkdir(parents=True)
    run(["tar", "-C", "restored/seal", "-xf", "backup/seal-keys.tar"], cwd=work)
    database.restore()
    run(["cp", "-a", "backup/media/.", "restored/media/"], cwd=work)

    print("5. Check the restored copy")
    env = django_env(database.url, restored)
    audit = run([*manage, "verify_audit"], env=env, cwd=work).strip()
    print(f"  verify_audit: {audit}")
    after = run([*manage, "verify_storage"], env=env, cwd=work).strip()
    print(f"  verify_storage: {after}")
    if after != before:
        raise Failed(f"before the backup: {before!r}; restored: {after!r}")
    print(f"  Signatures: {check_seals(env, restored / 'seal' / 'root-cert.pem')}")


def check_seals(env, root_cert):
    """Validate the seal of every restored PDF with pyHanko, against the
    restored root certificate; returns what was checked."""
    # Exactly the copy's environment: what django_env() left out stays out.
    os.environ.clear()
    os.environ.update(env)
    import django

    django.setup()
    from django.core.files.storage import default_storage
    from django.db import connections

    from agreements.models import Agreement, AgreementVersion
    from agreements.seal import validate_sealed_pdf

    stored = [
        *AgreementVersion.objects.filter(sealed_at__isnull=False).values_list("pdf", flat=True),
        *Agreement.objects.filter(final_sealed_at__isnull=False).values_list(
            "final_pdf", flat=True
        ),
    ]
    connections.close_all()
    for name in stored:
        with default_storage.open(name, "rb") as file:
            status = validate_sealed_pdf(file.read(), root_cert_path=root_cert)
        if not status.ok:
            raise Failed(f"the seal of {name} does not validate: {status.summary}")
    return (
        f"{len(stored)} restored PDFs are sealed, intact, unchanged and chain to the "
        "restored root certificate."
    )


if __name__ == "__main__":
    sys.exit(main())
