"""Time the main pages and the PDF on a throwaway SQLite database.

    .venv/bin/python scripts/benchmark.py [--pairings 2000] [--goals 30] [--runs 20]

Prints the median and 95th percentile wall time and the number of queries of
each page. Figures, not pass/fail: compare them before and after a change.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairings", type=int, default=2000)
    parser.add_argument("--goals", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp()
    # Always a throwaway file, whatever DATABASE_URL the shell exports.
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DEBUG", "true")
    os.environ["SEAL_DIR"] = f"{tmp}/seal"
    os.environ["MEDIA_ROOT"] = f"{tmp}/media"
    # Enqueued tasks are dropped: the sealing task is timed by calling it here.
    os.environ["TASKS_BACKEND"] = "django_tasks.backends.dummy.DummyBackend"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from agreements import demo
    from agreements.models import Agreement, Program, User
    from agreements.services import pairing_create
    from agreements.tasks import seal_version

    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    call_command("create_seal_keys", stdout=open(os.devnull, "w"))

    started = time.perf_counter()
    admin = User.objects.create_user("admin@bench.test", "x", full_name="Bench Admin")
    program = Program.objects.create(name="Benchmark Programme")
    program.admins.add(admin)
    users = User.objects.bulk_create(
        User(email=f"user{i}@bench.test", full_name=f"Person {i}") for i in range(args.pairings + 1)
    )
    for i in range(args.pairings):
        pairing_create(program=program, mentor=users[i], mentee=users[i + 1], created_by=admin)
    agreement = Agreement.objects.get(mentor=users[0])
    demo.write_all(agreement, by=users[0])
    for index in range(args.goals):
        agreement.goals.create(
            owner="mentee",
            description=f"Goal {index} " + "words " * 40,
            success_measure="Measured " * 20,
            target_date=agreement.term.start_date,
        )
    print(
        f"seeded {args.pairings} pairings, {args.goals} extra goals "
        f"in {time.perf_counter() - started:.1f} s"
    )

    def measure(label, client, url, runs):
        timings = []
        for _ in range(runs):
            reset_queries()
            with CaptureQueriesContext(connection) as queries:
                start = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - start) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
        timings.sort()
        p95 = timings[max(0, int(len(timings) * 0.95) - 1)]
        print(
            f"{label:<34} median {statistics.median(timings):7.1f} ms   "
            f"p95 {p95:7.1f} ms   {len(queries):3d} queries"
        )

    party, admin_client = Client(), Client()
    party.force_login(users[0])
    admin_client.force_login(admin)
    measure("home (mentor)", party, "/", args.runs)
    measure("agreement page", party, reverse("agreements:detail", args=[agreement.uuid]), args.runs)
    measure(
        "edit goals form",
        party,
        reverse("agreements:section_edit", args=[agreement.uuid, "goals"]),
        args.runs,
    )
    measure(
        "program pairing list (page 1)",
        admin_client,
        reverse("agreements:program", args=[program.uuid]),
        args.runs,
    )
    measure(
        "agreement PDF",
        party,
        reverse("agreements:pdf", args=[agreement.uuid]),
        max(3, args.runs // 4),
    )

    # The worst the forms allow: 30 goals, each with two 2,000-character words.
    worst = Agreement.objects.get(mentor=users[1])
    demo.write_all(worst, by=users[1])
    for index in range(30):
        worst.goals.create(
            owner="mentee",
            description=f"{index}" + "x" * 1999,
            success_measure=f"{index}" + "y" * 1999,
            target_date=worst.term.start_date,
        )
    other = Client()
    other.force_login(users[1])
    measure(
        "worst-case PDF (30 long goals)", other, reverse("agreements:pdf", args=[worst.uuid]), 3
    )

    # Signing, then the worker's job: render the PDF/A-3 once and seal it.
    demo.agree_all(agreement)
    demo.sign_as(agreement, users[0])
    demo.sign_as(agreement, users[1])
    version = Agreement.objects.with_content().get(pk=agreement.pk).version_in_force
    start = time.perf_counter()
    seal_version.call(version.pk)
    print(f"{'render + seal signed PDF (task)':<34} {time.perf_counter() - start:7.2f} s once")
    version.refresh_from_db()
    measure(
        "signed PDF download (stored)",
        party,
        reverse("agreements:version_pdf", args=[agreement.uuid, version.number]),
        args.runs,
    )
    measure(
        "audit trail page", party, reverse("agreements:trail", args=[agreement.uuid]), args.runs
    )
    anonymous = Client()
    measure("verify page (lookup)", anonymous, f"/verify/?sha256={version.pdf_sha256}", args.runs)


if __name__ == "__main__":
    main()
