"""Time the program admin's dashboard over one large program, on a throwaway SQLite database.

    .venv/bin/python scripts/benchmark_dashboard.py [--pairings 10000] [--runs 10] [--slowest]

Seeds one program with realistic pairings (drafts, some unsigned for weeks;
agreements in force with check-ins, some overdue, some exits close; ended
ones) with bulk inserts, then prints the median and 95th percentile wall time
and the number of queries of each dashboard page. Figures, not pass/fail:
compare them before and after a change. ``--slowest`` also prints the three
slowest SQL statements of one run of each page.
"""

import argparse
import csv
import datetime
import io
import random
import time

import benchlib
from benchlib import setup_throwaway_django

FOCUSES = ["Review goal progress", "Career plan", "Feedback on the project", ""]
STATES = [("draft", 25), ("awaiting", 10), ("active", 55), ("ended", 10)]


def seed(program, admin, count, *, today, now):
    """Bulk-insert ``count`` pairings into ``program``; returns {status: count}."""
    from django.db import transaction
    from django.utils import timezone

    from agreements.models import (
        Agreement,
        AgreementVersion,
        CheckIn,
        CheckInRecord,
        Confidentiality,
        ContactPreference,
        MeetingSchedule,
        Party,
        PlannedCheckIn,
        Section,
        Signature,
        Term,
        User,
    )

    # Benchmark data, not a secret: a fixed seed keeps runs comparable.
    rng = random.Random(2025)  # noqa: S311
    day = datetime.timedelta(days=1)

    def at(date, hour=10):
        return timezone.make_aware(datetime.datetime.combine(date, datetime.time(hour)))

    def between(start, end):
        return start + (end - start) * rng.random()

    def days_ago(low, high):
        return now - datetime.timedelta(days=rng.randint(low, high), hours=rng.randint(0, 23))

    states = [state for state, share in STATES for _ in range(round(count * share / 100))]
    states = (states + ["active"] * count)[:count]
    rng.shuffle(states)

    with transaction.atomic():
        users = User.objects.bulk_create(
            User(email=f"person{n}@bench.test", full_name=f"Person {n}") for n in range(2 * count)
        )
        plans, agreements = [], []
        for index, state in enumerate(states):
            plan = {"state": state, "start": None, "exit": None, "checkins": []}
            fields = {}
            if state == "draft":
                # Up to 90 days old: most have passed the unsigned flag's 14 days.
                created = days_ago(0, 90)
                if rng.random() < 0.5:
                    plan["start"] = today + day * rng.randint(7, 45)
                    plan["exit"] = plan["start"] + day * rng.randint(180, 365)
            elif state == "awaiting":
                created = days_ago(3, 60)
                plan["start"] = today + day * rng.randint(7, 45)
                plan["exit"] = plan["start"] + day * rng.randint(180, 365)
            else:
                created = days_ago(20, 365) if state == "active" else days_ago(200, 365)
                # Most sign within a week or two, a few take a month.
                delay = min(1 + int(rng.expovariate(1 / 7)), 30)
                activated = created + datetime.timedelta(days=delay, hours=rng.randint(1, 12))
                fields["activated_at"] = activated
                plan["start"] = min(activated.date() + day * rng.randint(0, 14), today)
                if state == "active":
                    # About one in seven ends within the "exit soon" flag's 30 days.
                    ahead = rng.randint(1, 30) if rng.random() < 0.15 else rng.randint(31, 300)
                    plan["exit"] = today + day * ahead
                else:
                    plan["exit"] = min(
                        plan["start"] + day * rng.randint(90, 180), today - day * rng.randint(1, 20)
                    )
                    by_program = rng.random() < 0.2
                    ended_on = between(plan["start"], plan["exit"]) if by_program else plan["exit"]
                    fields.update(
                        status=Agreement.Status.ENDED,
                        ended_at=at(ended_on, 9),
                        end_reason=Agreement.EndReason.BY_PROGRAM
                        if by_program
                        else Agreement.EndReason.COMPLETED,
                        end_note="Ended for the benchmark." if by_program else "",
                    )
                if state == "active":
                    fields["status"] = Agreement.Status.ACTIVE
            if state == "awaiting":
                fields["status"] = Agreement.Status.AWAITING_SIGNATURES
            if state != "draft":
                span = (plan["exit"] - plan["start"]).days
                steps = rng.randint(3, 6)
                plan["checkins"] = sorted(
                    {plan["start"] + day * (span * k // (steps + 1)) for k in range(1, steps + 1)}
                    - {plan["start"]}
                )
            plans.append(plan)
            if "activated_at" in fields:
                fields["start_in_force"], fields["exit_in_force"] = plan["start"], plan["exit"]
            agreements.append(
                Agreement(
                    program=program,
                    mentor=users[2 * index],
                    mentee=users[2 * index + 1],
                    created_by=admin,
                    created_at=created,
                    last_activity_at=between(fields.get("activated_at", created), now),
                    policy=program.policy(),
                    **fields,
                )
            )
        agreements = Agreement.objects.bulk_create(agreements)

        contacts, schedules, privacy, terms, sections = [], [], [], [], []
        checkins, planned, records, versions, signers = [], [], [], [], []
        for agreement, plan in zip(agreements, plans, strict=True):
            contacts += [ContactPreference(agreement=agreement, party=p) for p in Party.values]
            schedules.append(MeetingSchedule(agreement=agreement))
            privacy.append(
                Confidentiality(agreement=agreement, exceptions_notes=program.exceptions_notes)
            )
            terms.append(
                Term(agreement=agreement, start_date=plan["start"], exit_date=plan["exit"])
            )
            for kind in Section.Kind.values:
                agreed = agreement.activated_at or agreement.last_activity_at
                done = plan["state"] != "draft"
                sections.append(
                    Section(
                        agreement=agreement,
                        kind=kind,
                        mentor_agreed_at=agreed if done or rng.random() < 0.5 else None,
                        mentee_agreed_at=agreed if done or rng.random() < 0.3 else None,
                    )
                )
            for date in plan["checkins"]:
                checkins.append(CheckIn(agreement=agreement, date=date, focus=rng.choice(FOCUSES)))
                if agreement.activated_at:
                    # The dates in force, where the dashboard reads them.
                    planned.append(PlannedCheckIn(agreement=agreement, date=date))
                # Most past check-ins are recorded; the rest show as overdue.
                if date < today and rng.random() < 0.85:
                    held = min(date + day * rng.randint(0, 2), today)
                    records.append(
                        CheckInRecord(
                            agreement=agreement,
                            planned_date=date,
                            held_on=held,
                            recorded_by=rng.choice([agreement.mentor, agreement.mentee]),
                            recorded_at=at(held, 17),
                        )
                    )
            if agreement.activated_at:
                versions.append(
                    AgreementVersion(
                        agreement=agreement,
                        number=1,
                        status=AgreementVersion.Status.IN_FORCE,
                        content="{}",
                        # Unique: the table allows one version per content hash.
                        content_hash=f"{agreement.pk:064x}",
                        frozen_at=agreement.activated_at - datetime.timedelta(hours=20),
                        in_force_at=agreement.activated_at,
                    )
                )
                signers.append(agreement)

        ContactPreference.objects.bulk_create(contacts)
        MeetingSchedule.objects.bulk_create(schedules)
        Confidentiality.objects.bulk_create(privacy)
        Term.objects.bulk_create(terms)
        Section.objects.bulk_create(sections)
        CheckIn.objects.bulk_create(checkins)
        PlannedCheckIn.objects.bulk_create(planned)
        CheckInRecord.objects.bulk_create(records)
        versions = AgreementVersion.objects.bulk_create(versions)
        Signature.objects.bulk_create(
            Signature(
                agreement=agreement,
                version=version,
                signer=signer,
                party=party,
                typed_name=signer.full_name,
                consent_statement="x",
                signed_at=agreement.activated_at - datetime.timedelta(hours=hours),
            )
            for agreement, version in zip(signers, versions, strict=True)
            for party, signer, hours in [
                (Party.MENTOR, agreement.mentor, rng.randint(1, 20)),
                (Party.MENTEE, agreement.mentee, 0),
            ]
        )
    counts = {state: states.count(state) for state, _share in STATES}
    return counts, {"check-ins": len(checkins), "check-in records": len(records)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pairings", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--slowest", action="store_true", help="print the 3 slowest SQL statements of each page"
    )
    args = parser.parse_args()

    setup_throwaway_django()
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from agreements import dashboard
    from agreements.models import Agreement, Program, User

    admin = User.objects.create_user("admin@bench.test", "x", full_name="Bench Admin")
    program = Program.objects.create(name="Benchmark Programme")
    program.admins.add(admin)
    today, now = admin.today(), timezone.now()

    started = time.perf_counter()
    states, rows = seed(program, admin, args.pairings, today=today, now=now)
    took = time.perf_counter() - started
    print(
        f"seeded {args.pairings} pairings in {took:.1f} s: "
        + ", ".join(f"{n} {state}" for state, n in states.items())
        + ", ".join(["", *(f"{n} {what}" for what, n in rows.items())])
    )
    summary = dashboard.summary(program, today=today, now=now)
    median = summary["median_days_to_sign"]
    print(
        "flags: "
        + ", ".join(f"{flag['count']} {flag['value']}" for flag in summary["flags"])
        + f"; median days to sign {median or 0:.1f} over {summary['signed_count']} signed"
    )

    def measure(label, client, url, runs):
        return benchlib.measure(label, client, url, runs, slowest=args.slowest)

    client = Client()
    client.force_login(admin)
    page = reverse("agreements:program", args=[program.uuid])
    print()
    measure("dashboard (default sort)", client, page, args.runs)
    for query in (
        "sort=checkin",
        "sort=-exit",
        "flag=overdue",
        "status=active&sort=mentor",
        "q=person+42",
        "page=100",
    ):
        measure(f"dashboard ?{query}", client, f"{page}?{query}", args.runs)
    body = measure(
        "CSV export",
        client,
        reverse("agreements:program_export", args=[program.uuid]),
        args.runs,
    )
    exported = sum(1 for _row in csv.reader(io.StringIO(body.decode()))) - 1
    agreement = (
        Agreement.objects.filter(program=program, status=Agreement.Status.ACTIVE)
        .order_by("pk")
        .first()
    )
    measure(
        "pairing page (active)",
        client,
        reverse("agreements:pairing", args=[program.uuid, agreement.uuid]),
        args.runs,
    )
    print(f"\nCSV export: {exported} rows, {len(body) / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
