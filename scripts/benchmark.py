"""Time the main pages and the PDF on a throwaway SQLite database.

    .venv/bin/python scripts/benchmark.py [--pairings 2000] [--goals 30] [--runs 20]

Prints the median and 95th percentile wall time and the number of queries of
each page. Figures, not pass/fail: compare them before and after a change.
"""

import argparse
import datetime
import os
import time

from benchlib import measure, setup_throwaway_django


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairings", type=int, default=2000)
    parser.add_argument("--goals", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--active", type=int, default=200, help="active agreements to remind")
    args = parser.parse_args()

    setup_throwaway_django()
    import django.utils.timezone
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from agreements import demo
    from agreements.models import Agreement, CalendarFeed, Program, Reminder, User
    from agreements.services import pairing_create
    from agreements.tasks import seal_version

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
    # A draft PDF is rendered by the task worker, which does not run here:
    # the page says it is being prepared (202) until the file is stored.
    measure(
        "draft PDF request (the worker renders)",
        party,
        reverse("agreements:pdf", args=[agreement.uuid]),
        max(3, args.runs // 4),
        expect=(202,),
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
        "worst-case draft PDF request (30 long goals; the worker renders)",
        other,
        reverse("agreements:pdf", args=[worst.uuid]),
        3,
        expect=(202,),
    )

    # Signing, then the worker's job: render the PDF/A-3 once and seal it.
    demo.agree_all(agreement)
    demo.sign_as(agreement, users[0])
    demo.sign_as(agreement, users[1])
    version = Agreement.objects.with_working_copy().get(pk=agreement.pk).version_in_force
    start = time.perf_counter()
    seal_version(version_id=version.pk)
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

    # The agreement in force: what the pair sees from day to day.
    measure("home (mentor, active)", party, "/", args.runs)
    measure(
        "agreement page (active)",
        party,
        reverse("agreements:detail", args=[agreement.uuid]),
        args.runs,
    )
    measure(
        "check-ins page", party, reverse("agreements:checkins", args=[agreement.uuid]), args.runs
    )
    measure(
        ".ics download", party, reverse("agreements:calendar_ics", args=[agreement.uuid]), args.runs
    )
    feed = CalendarFeed.objects.create(user=users[0])
    measure(
        "calendar feed",
        anonymous,
        reverse("agreements:calendar_feed", args=[feed.token]),
        args.runs,
    )

    # The daily cron commands over many agreements in force, each with a
    # check-in two days ahead: one reminder per party.
    started = time.perf_counter()
    today = django.utils.timezone.localdate()
    for mentor in users[2 : 2 + args.active]:
        active = Agreement.objects.get(mentor=mentor)
        demo.activate(active, start=today - datetime.timedelta(days=58))
    print(f"activated {args.active} more agreements in {time.perf_counter() - started:.1f} s")
    for command in ("send_reminders", "send_reminders", "end_agreements"):
        count = [0]

        def counter(execute, sql, params, many, context, count=count):
            count[0] += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            call_command(command, stdout=open(os.devnull, "w"))
            took = time.perf_counter() - start
        print(
            f"{command:<34} {took:7.2f} s once   {count[0]:5d} queries   "
            f"{Reminder.objects.count()} reminders recorded"
        )


if __name__ == "__main__":
    main()
