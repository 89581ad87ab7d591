"""Time the program admin's dashboard at several sizes, on throwaway PostgreSQL and SQLite.

    .venv/bin/python scripts/benchmark_dashboard.py [--sizes 1000,10000,50000]
        [--databases postgresql,sqlite] [--runs 20] [--plans]
        [--gunicorn [DATABASE:SIZE]] [--gunicorn-seconds 10]
        [--postgres-url postgres://postgres@127.0.0.1:5432]

For each database and size, in a process of its own, on a database made for
it and dropped after (PostgreSQL: ``bench_dashboard_*`` on the server at
``--postgres-url``; SQLite: a file in a temporary folder), it seeds one
program with that many pairings (drafts, some unsigned for weeks; agreements
in force with check-ins, some overdue, some exits close; ended ones; for
those signed, the months of outcomes the daily refresh keeps, goals, and
survey answers), table by table in bulk (COPY on PostgreSQL), plus one
pairing signed through the app's
own moves, and prints how long the seeding took; where the dashboard keeps
its columns on the agreement row, working them out for the seeded rows is
timed apart. PostgreSQL then runs VACUUM ANALYZE, as autovacuum soon would.

Then, for the default page, every sort both ways, every status and flag
filter, two searches, a deep page (100, or the middle one), the last page,
the CSV export, the pairing page of the signed pairing, and the Outcomes
page (the last 12 months, and the longest range, 60) and its surveys' CSV
(whose target is a p95 of 200 ms at 10,000 pairings), it prints the
median and 95th-percentile wall time of ``--runs`` requests by the program
admin through Django's test client (DEBUG on; after one untimed), the number of SQL
statements of one request, and the time of its SELECTs and of the slowest
one, each run again and read to the end. ``--plans`` also prints that slowest
statement and its plan (PostgreSQL: EXPLAIN (ANALYZE, BUFFERS); SQLite:
EXPLAIN QUERY PLAN). A table of every size side by side closes the run.

``--gunicorn`` (postgresql:10000 unless it names another DATABASE:SIZE of the
run) then serves that database with ``gunicorn -c mentorship/gunicorn.conf.py``,
two workers and production settings (DEBUG off; static files collected into
the temporary folder; workers not replaced while timing), and loads each page
for ``--gunicorn-seconds``, the pages taking turns, with four visitors
(threads, on the same cores as the server) each asking again as soon as its
last answer came, signed in with a session cookie: the accessibility page
(the cheapest signed-in page), the mentor's home and agreement page (in
force), a drafting mentor's agreement page, the dashboard's first and last
pages. It prints each page's requests per second
and their ratio to the cheapest page's. Sealed-PDF downloads are not among
them: scripts/benchmark_download.py and benchmark_seal.py time PDFs.

Figures, not pass/fail: compare them before and after a change.
"""

import argparse
import collections
import csv
import datetime
import io
import itertools
import json
import math
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import benchlib

ROOT = benchlib.ROOT
NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
FOCUSES = ["Review goal progress", "Career plan", "Feedback on the project", ""]
STATES = [("draft", 25), ("awaiting", 10), ("active", 55), ("ended", 10)]
HOUR = datetime.timedelta(hours=1)
# --gunicorn: each page's time under load, in this many turns.
ROUNDS = 3
# The settings gunicorn runs with: production's, with the static files
# collected into the benchmark's own folder rather than the checkout's.
BENCH_SETTINGS = """\
from pathlib import Path

from mentorship.settings import *  # noqa: F403

STATIC_ROOT = Path(__file__).resolve().parent / "static"
"""


# Seeding ------------------------------------------------------------------------


def seed(program, admin, count, *, today, now):
    """Insert ``count`` pairings into ``program``, table by table in bulk;
    returns ({state: count}, {row kind: count})."""
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
        MonthlyOutcome,
        Party,
        PlannedCheckIn,
        Section,
        Signature,
        SurveyResponse,
        Term,
        User,
    )

    # Benchmark data, not a secret: a fixed seed keeps runs comparable.
    rng = random.Random(2025)  # noqa: S311
    # The outcomes draw from their own, so the rest stays as it was.
    kept_rng = random.Random(2026)  # noqa: S311
    day = datetime.timedelta(days=1)
    Status, EndReason = Agreement.Status, Agreement.EndReason

    def at(date, hour=10):
        return timezone.make_aware(datetime.datetime.combine(date, datetime.time(hour)))

    def between(start, end):
        return start + (end - start) * rng.random()

    def days_ago(low, high):
        return now - datetime.timedelta(days=rng.randint(low, high), hours=rng.randint(0, 23))

    def spread(start, exit_on):
        """Three to six check-in dates, evenly over the term."""
        span, steps = (exit_on - start).days, rng.randint(3, 6)
        return sorted(
            {start + day * (span * k // (steps + 1)) for k in range(1, steps + 1)} - {start}
        )

    states = [state for state, share in STATES for _ in range(round(count * share / 100))]
    states = (states + ["active"] * count)[:count]
    rng.shuffle(states)
    parties, kinds = Party.values, Section.Kind.values

    # Rows refer to each other by ids given here, so that no insert has to
    # hand its ids back.
    first_user, first_agreement, first_version = (
        benchlib.first_free_id(model) for model in (User, Agreement, AgreementVersion)
    )
    users = [(first_user + n, f"person{n}@bench.test", f"Person {n}") for n in range(2 * count)]
    agreements: list[tuple] = []
    contacts: list[tuple] = []
    schedules: list[tuple] = []
    privacy: list[tuple] = []
    terms: list[tuple] = []
    sections: list[tuple] = []
    checkins: list[tuple] = []
    planned: list[tuple] = []
    records: list[tuple] = []
    versions: list[tuple] = []
    signatures: list[tuple] = []
    months: list[tuple] = []
    answers: list[tuple] = []
    for index, state in enumerate(states):
        pk, mentor, mentee = (
            first_agreement + index,
            first_user + 2 * index,
            first_user + 2 * index + 1,
        )
        start = exit_on = activated = ended_at = None
        status, end_reason, end_note, dates = Status.DRAFT, "", "", []
        if state == "draft":
            # Up to 90 days old: most have passed the unsigned flag's 14 days.
            created = days_ago(0, 90)
            if rng.random() < 0.5:
                start = today + day * rng.randint(7, 45)
                exit_on = start + day * rng.randint(180, 365)
        elif state == "awaiting":
            status, created = Status.AWAITING_SIGNATURES, days_ago(3, 60)
            start = today + day * rng.randint(7, 45)
            exit_on = start + day * rng.randint(180, 365)
            dates = spread(start, exit_on)
        else:
            created = days_ago(20, 365) if state == "active" else days_ago(200, 365)
            # Most sign within a week or two, a few take a month.
            delay = min(1 + int(rng.expovariate(1 / 7)), 30)
            activated = created + datetime.timedelta(days=delay, hours=rng.randint(1, 12))
            start = min(activated.date() + day * rng.randint(0, 14), today)
            if state == "active":
                status = Status.ACTIVE
                # About one in seven ends within the "exit soon" flag's 30 days.
                ahead = rng.randint(1, 30) if rng.random() < 0.15 else rng.randint(31, 300)
                exit_on = today + day * ahead
            else:
                status = Status.ENDED
                exit_on = min(start + day * rng.randint(90, 180), today - day * rng.randint(1, 20))
                by_program = rng.random() < 0.2
                ended_at = at(between(start, exit_on) if by_program else exit_on, 9)
                end_reason = EndReason.BY_PROGRAM if by_program else EndReason.COMPLETED
                end_note = "Ended for the benchmark." if by_program else ""
            dates = spread(start, exit_on)
        last_activity = between(activated or created, now)
        agreements.append(
            (
                pk,
                uuid.UUID(int=rng.getrandbits(128), version=4),
                mentor,
                mentee,
                created,
                last_activity,
                status,
                activated,
                start if activated else None,
                exit_on if activated else None,
                ended_at,
                end_reason,
                end_note,
            )
        )
        contacts += [(pk, party) for party in parties]
        schedules.append((pk,))
        privacy.append((pk,))
        terms.append((pk, start, exit_on))
        agreed = activated or last_activity
        for kind in kinds:
            done = state != "draft"
            sections.append(
                (
                    pk,
                    kind,
                    agreed if done or rng.random() < 0.5 else None,
                    agreed if done or rng.random() < 0.3 else None,
                )
            )
        own_records = len(records)
        for date in dates:
            checkins.append((pk, date, rng.choice(FOCUSES)))
            if activated:
                # The dates in force, where the dashboard reads them.
                planned.append((pk, date))
            # Most past check-ins are recorded; the rest show as overdue.
            if date < today and rng.random() < 0.85:
                held = min(date + day * rng.randint(0, 2), today)
                records.append((pk, date, held, rng.choice([mentor, mentee]), at(held, 17)))
        if activated:
            version = first_version + len(versions)
            # Unique: the table allows one version per content hash.
            versions.append((version, pk, f"{pk:064x}", activated - 20 * HOUR, activated))
            signatures += [
                (
                    pk,
                    version,
                    mentor,
                    Party.MENTOR,
                    f"Person {mentor - first_user}",
                    activated - rng.randint(1, 20) * HOUR,
                ),
                (pk, version, mentee, Party.MENTEE, f"Person {mentee - first_user}", activated),
            ]
            last = today if state == "active" else exit_on - day
            held_on = {record[1]: record[2] for record in records[own_records:]}
            counts, fading = outcome_counts(
                kept_rng, start, last, [(date, held_on.get(date)) for date in dates], today
            )
            months += [(pk, month, *(n[field] for field in KEPT)) for month, n in counts.items()]
            goals = kept_rng.randint(1, 5)
            achieved = kept_rng.randint(0, goals) if state == "active" else goals
            agreements[-1] += (goals, achieved, fading and state == "active")
            answers += survey_answers(
                kept_rng, pk, start, exit_on, ended=state == "ended", today=today, at=at
            )
        else:
            agreements[-1] += (0, 0, False)

    load = benchlib.bulk_load
    with transaction.atomic():
        load(User, ["id", "email", "full_name"], users)
        load(
            Agreement,
            [
                "id",
                "uuid",
                "mentor",
                "mentee",
                "created_at",
                "last_activity_at",
                "status",
                "activated_at",
                "start_in_force",
                "exit_in_force",
                "ended_at",
                "end_reason",
                "end_note",
                "goals_total",
                "goals_achieved",
                "fading",
            ],
            agreements,
            constants={"program": program.pk, "created_by": admin.pk, "policy": program.policy()},
        )
        load(ContactPreference, ["agreement", "party"], contacts)
        load(MeetingSchedule, ["agreement"], schedules)
        load(
            Confidentiality,
            ["agreement"],
            privacy,
            constants={"exceptions_notes": program.exceptions_notes},
        )
        load(Term, ["agreement", "start_date", "exit_date"], terms)
        load(Section, ["agreement", "kind", "mentor_agreed_at", "mentee_agreed_at"], sections)
        load(CheckIn, ["agreement", "date", "focus"], checkins)
        load(PlannedCheckIn, ["agreement", "date"], planned)
        load(
            CheckInRecord,
            ["agreement", "planned_date", "held_on", "recorded_by", "recorded_at"],
            records,
        )
        load(
            AgreementVersion,
            ["id", "agreement", "content_hash", "frozen_at", "in_force_at"],
            versions,
            constants={
                "number": 1,
                "status": AgreementVersion.Status.IN_FORCE,
                "canonical_json": "{}",
            },
        )
        load(
            Signature,
            ["agreement", "version", "signer", "party", "typed_name", "signed_at"],
            signatures,
            constants={"consent_statement": "x"},
        )
        load(
            MonthlyOutcome, ["agreement", "month", *KEPT], months, constants={"program": program.pk}
        )
        load(
            SurveyResponse,
            [
                "agreement",
                "party",
                "moment",
                "satisfaction",
                "growth",
                "recommend",
                "comment",
                "answered_at",
            ],
            answers,
            constants={"program": program.pk},
        )
        benchlib.reset_sequences(User, Agreement, AgreementVersion)
    counts = {state: states.count(state) for state, _share in STATES}
    return counts, {
        "check-ins": len(checkins),
        "check-in records": len(records),
        "months of outcomes": len(months),
        "survey answers": len(answers),
    }


# The counts of a ``MonthlyOutcome`` row, in order.
KEPT = [
    "meetings_promised",
    "meetings_held",
    "checkins_on_time",
    "checkins_late",
    "checkins_missed",
]
MEETING_EVERY = datetime.timedelta(days=14)


def outcome_counts(rng, start, last, checkins, today):
    """({month: Counter of ``KEPT``}, fading) of one agreement in force from
    ``start`` to ``last``, as the daily refresh keeps them
    (``agreements.models.outcomes``): a fortnightly rhythm, each meeting held
    by a chance of its own pair's; ``checkins`` [(date, held on or None)]."""
    from django.conf import settings

    months: dict[datetime.date, collections.Counter] = collections.defaultdict(collections.Counter)
    keeps = rng.choice([0.95, 0.8, 0.6, 0.3])
    promised, held = [], []
    day = start
    while day <= last:
        promised.append(day)
        months[day.replace(day=1)]["meetings_promised"] += 1
        if rng.random() < keeps:
            held.append(day)
            months[day.replace(day=1)]["meetings_held"] += 1
        day += MEETING_EVERY
    grace = datetime.timedelta(days=settings.CHECKIN_OVERDUE_AFTER_DAYS)
    for date, held_on in checkins:
        if date > last:
            continue
        if held_on is not None:
            late = held_on > date + grace
            months[date.replace(day=1)]["checkins_late" if late else "checkins_on_time"] += 1
        elif date + grace < today:
            months[date.replace(day=1)]["checkins_missed"] += 1
    since = today - datetime.timedelta(days=59)
    lately = sum(day >= since for day in promised)
    return months, lately > 0 and 2 * sum(day >= since for day in held) < lately


def survey_answers(rng, pk, start, exit_on, *, ended, today, at):
    """Survey answers of one agreement in force: at its midpoint, if past, and
    at its end if ended, each party answering or not."""
    found = []
    midpoint = start + (exit_on - start) // 2
    moments = [("midpoint", midpoint)] if midpoint < today else []
    moments += [("end", exit_on)] if ended else []
    for moment, day in moments:
        for party in ("mentor", "mentee"):
            if rng.random() < 0.6:
                found.append(
                    (
                        pk,
                        party,
                        moment,
                        rng.choice([2, 3, 4, 4, 5, 5]),
                        rng.choice([1, 3, 4, 4, 5]),
                        rng.choice([3, 6, 7, 8, 9, 9, 10, 10]),
                        rng.choice(["", "", "A private comment for the benchmark."]),
                        at(day),
                    )
                )
    return found


def showcase(program, admin, today, *, signed=True):
    """One more pairing, written through the app's own moves, so that its
    pages show real content, and agreed and signed unless ``signed=False``
    (then a draft, every section written by the mentor); returns the agreement."""
    from agreements import demo
    from agreements.models import User
    from agreements.services import pairing_create

    prefix = "" if signed else "draft-"
    mentor = User.objects.create_user(f"{prefix}mentor@bench.test", "x", full_name="Morgan Mentor")
    mentee = User.objects.create_user(f"{prefix}mentee@bench.test", "x", full_name="Elliot Mentee")
    agreement = pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=admin)
    if signed:
        demo.activate(agreement, start=today)
    else:
        demo.write_all(agreement, by=mentor, start=today)
    agreement.refresh_from_db()
    return agreement


def refresh_columns(program, today):
    """Where the dashboard keeps columns on the agreement row, work them out
    for the seeded rows as the app does; returns the seconds it took, or None
    where it works them out on every request."""
    from agreements import dashboard
    from agreements.models import Agreement

    started = time.perf_counter()
    if hasattr(dashboard, "refresh_columns"):
        dashboard.refresh_columns(Agreement.objects.filter(program=program), today=today)
    elif hasattr(dashboard, "bring_up_to_date"):
        # Every seeded row, the ended ones too (the app worked theirs out at
        # each of their moves, their end included), then the program's day.
        Agreement.objects.filter(program=program).refresh_overview(today)
        type(program).objects.filter(pk=program.pk).update(overview_as_of=today)
        program.overview_as_of = today
    else:
        return None
    return time.perf_counter() - started


# Timing -------------------------------------------------------------------------


def variants(program, agreement, pages):
    """(label, URL) of every dashboard view the benchmark times."""
    from django.urls import reverse
    from django.utils import timezone

    from agreements import dashboard
    from agreements.models import Agreement
    from agreements.outcomes import MOST_MONTHS, shift_month

    page = reverse("agreements:program", args=[program.uuid])
    found = [(f"default (sort={dashboard.DEFAULT_SORT})", page)]
    for key in dashboard.SORTS:
        for sort in (key, f"-{key}"):
            # The default page is this sort already.
            if sort != dashboard.DEFAULT_SORT:
                found.append((f"sort={sort}", f"{page}?sort={sort}"))
    found += [(f"status={value}", f"{page}?status={value}") for value in Agreement.Status.values]
    found += [(f"flag={value}", f"{page}?flag={value}") for value in dashboard.Flag.values]
    found += [("q=person 42", f"{page}?q=person+42"), ("q=person4@", f"{page}?q=person4%40")]
    deep = 100 if pages > 100 else max(1, pages // 2)
    found += [(f"page={deep} (deep)", f"{page}?page={deep}")]
    found += [(f"page={pages} (last)", f"{page}?page={pages}")]
    found += [("CSV export", reverse("agreements:program_export", args=[program.uuid]))]
    outcomes = reverse("agreements:program_outcomes", args=[program.uuid])
    found += [("outcomes (12 months)", outcomes)]
    this_month = timezone.localdate().replace(day=1)
    longest = shift_month(this_month, 1 - MOST_MONTHS)
    found += [("outcomes (60 months)", f"{outcomes}?from={longest:%Y-%m}&to={this_month:%Y-%m}")]
    survey_csv = reverse("agreements:program_outcomes_csv", args=[program.uuid, "surveys"])
    found += [("outcomes surveys CSV", survey_csv)]
    found += [
        (
            "pairing page (active)",
            reverse("agreements:pairing", args=[program.uuid, agreement.uuid]),
        )
    ]
    return found


def time_variants(client, found, runs, *, plans):
    """Time each variant and print its line (and with ``plans`` its slowest
    statement's plan); returns [{label, p50, p95, queries, sql, slowest}]."""
    print(
        f"\n{'':<28} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'SELECTs ms':>11} "
        f"{'slowest ms':>11}"
    )
    results = []
    for label, url in found:
        timed = benchlib.timed_get(client, url, runs)
        selects = benchlib.time_selects(timed["statements"])
        slowest = max(selects, key=lambda select: select[0], default=None)
        row = {
            "label": label,
            "p50": timed["p50"],
            "p95": timed["p95"],
            "queries": len(timed["statements"]),
            "sql": sum(took for took, _sql, _params in selects),
            "slowest": slowest[0] if slowest else 0.0,
            "body": timed["body"],
        }
        results.append(row)
        print(
            f"{label:<28} {row['p50']:8.1f} {row['p95']:8.1f} {row['queries']:8d} "
            f"{row['sql']:11.1f} {row['slowest']:11.1f}",
            flush=True,
        )
        if plans and slowest:
            _took, sql, params = slowest
            print(f"    {benchlib.printable_sql(sql, params)}")
            for line in benchlib.query_plan(sql, params):
                print(f"    | {line}")
            print()
    return results


# gunicorn -----------------------------------------------------------------------


def under_gunicorn(folder, database_url, pages, seconds):
    """Serve the database with gunicorn and production settings, load each
    page with four visitors for ``seconds``; print requests per second and
    the ratio to the first page's. ``pages``: [(label, path, cookies)]."""
    from django.conf import settings

    Path(folder, "bench_settings.py").write_text(BENCH_SETTINGS)
    port = benchlib.free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([folder, str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        # Plain HTTP on the loopback: no redirect to HTTPS.
        "SECURE_SSL_REDIRECT": "false",
        "ALLOWED_HOSTS": benchlib.HOST,
        "SITE_URL": f"http://{benchlib.HOST}:{port}",
        "SEAL_DIR": f"{folder}/seal",
        "MEDIA_ROOT": f"{folder}/media",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_BIND": f"{benchlib.HOST}:{port}",
    }
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    # Workers are not replaced while timing: a restart (max_requests) would
    # land on whichever page is being timed just then.
    command = [
        *(sys.executable, "-m", "gunicorn", "-c", "mentorship/gunicorn.conf.py"),
        *("--max-requests", "0"),
    ]
    log_path = Path(folder, "gunicorn.log")
    with log_path.open("w+") as log:
        server = benchlib.start_process([*command, "mentorship.wsgi"], env, log)
        try:
            if not benchlib.wait_until_up(port, pages[0][1], server):
                log.seek(0)
                raise SystemExit("gunicorn did not answer within 60 s:\n" + log.read()[-3000:])
            print(
                f"\ngunicorn -c mentorship/gunicorn.conf.py, 2 workers, DEBUG off; 4 visitors, "
                f"{seconds:g} s a page in {ROUNDS} turns"
            )
            for _label, path, cookies in pages:
                # Every worker serves the page before it is timed.
                benchlib.closed_loop(port, path, cookies, seconds=1, concurrency=4)
            loads: dict[str, list[dict]] = {label: [] for label, _path, _cookies in pages}
            # Pages take turns, so that a burst of other work on the machine
            # slows them all alike rather than one.
            for _turn in range(ROUNDS):
                for label, path, cookies in pages:
                    load = benchlib.closed_loop(
                        port, path, cookies, seconds=seconds / ROUNDS, concurrency=4
                    )
                    if load["failures"]:
                        failures = load["failures"]
                        raise SystemExit(f"{label}: {failures[0]} ({len(failures)} failed)")
                    loads[label].append(load)
            print(f"{'':<36} {'req/s':>8} {'p50 ms':>8} {'ratio':>7}")
            results, cheapest = [], None
            for label, turns in loads.items():
                rate = sum(len(t["latencies"]) for t in turns) / sum(t["seconds"] for t in turns)
                median = statistics.median(ms for t in turns for ms in t["latencies"])
                cheapest = cheapest or rate
                results.append({"label": label, "rate": rate, "p50": median})
                print(f"{label:<36} {rate:8.1f} {median:8.1f} {rate / cheapest:7.2f}")
        finally:
            benchlib.stop_process(server)
    return results


# One database at one size ---------------------------------------------------------


def run_one(args):
    """Seed and time one cell (a database at a size); write what it measured
    as JSON into the folder for the summary."""
    database, size = args.run_one.split(":")
    size = int(size)
    # The sessions made here must be valid for gunicorn too.
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    benchlib.setup_throwaway_django(args.database_url, args.folder)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from agreements import dashboard
    from agreements.models import Program, User
    from agreements.views.programs import PAIRINGS_PER_PAGE

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT version()" if database == "postgresql" else "SELECT sqlite_version()"
        )
        version = cursor.fetchone()[0].removeprefix("PostgreSQL ").split()[0]
    print(f"\n=== {NAMES[database]} {version}: {size:,} pairings ===", flush=True)

    admin = User.objects.create_user("admin@bench.test", "x", full_name="Bench Admin")
    program = Program.objects.create(name="Benchmark Programme")
    program.admins.add(admin)
    today, now = admin.today(), timezone.now()
    # The same rows whatever the time of day: seeded as of midnight.
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time()))
    started = time.perf_counter()
    states, rows = seed(program, admin, size, today=today, now=midnight)
    seeding = time.perf_counter() - started
    agreement = showcase(program, admin, today)
    draft = showcase(program, admin, today, signed=False)
    refreshing = refresh_columns(program, today)
    if database == "postgresql":
        # Fresh statistics and visibility map, as autovacuum would have them
        # in a day's use (index-only scans need the latter).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(
        f"seeded in {seeding:.1f} s"
        + (f" + refreshing the dashboard's columns {refreshing:.1f} s" if refreshing else "")
        + ": "
        + ", ".join(f"{n} {state}" for state, n in states.items())
        + ", ".join(["", *(f"{n} {what}" for what, n in rows.items())])
        + ", and 2 pairings through the app (1 signed, 1 drafted)"
    )
    summary = dashboard.summary(program, today=today, now=now)
    median = summary["median_days_to_sign"]
    print(
        "flags: "
        + ", ".join(f"{flag['count']} {flag['value']}" for flag in summary["flags"])
        + f"; median days to sign {median or 0:.1f} over {summary['signed_count']} signed"
    )

    client = Client()
    client.force_login(admin)
    pages = math.ceil(summary["total"] / PAIRINGS_PER_PAGE)
    results = time_variants(
        client, variants(program, agreement, pages), args.runs, plans=args.plans
    )
    export = next(row for row in results if row["label"] == "CSV export")["body"]
    exported = sum(1 for _row in csv.reader(io.StringIO(export.decode()))) - 1
    print(f"CSV export: {exported} rows, {len(export) / 1024:.0f} KiB")

    served = []
    if args.gunicorn:
        mentor, drafting = Client(), Client()
        mentor.force_login(agreement.mentor)
        drafting.force_login(draft.mentor)

        def cookies(visitor):
            name = settings.SESSION_COOKIE_NAME
            return {name: visitor.cookies[name].value}

        dashboard_page = reverse("agreements:program", args=[program.uuid])
        served = under_gunicorn(
            args.folder,
            os.environ["DATABASE_URL"],
            [
                ("cheapest: accessibility (admin)", reverse("accessibility"), cookies(client)),
                ("home (mentor)", reverse("agreements:home"), cookies(mentor)),
                (
                    "agreement page (mentor, active)",
                    reverse("agreements:detail", args=[agreement.uuid]),
                    cookies(mentor),
                ),
                (
                    "agreement page (mentor, draft)",
                    reverse("agreements:detail", args=[draft.uuid]),
                    cookies(drafting),
                ),
                ("dashboard default", dashboard_page, cookies(client)),
                (
                    f"dashboard page={pages} (last)",
                    f"{dashboard_page}?page={pages}",
                    cookies(client),
                ),
            ],
            args.gunicorn_seconds,
        )

    for row in results:
        del row["body"]
    Path(args.folder, "results.json").write_text(
        json.dumps(
            {"seeding": seeding, "refreshing": refreshing, "pages": results, "served": served}
        )
    )


# The whole run ----------------------------------------------------------------------


def print_summary(database, measured):
    """One table for a database: each variant at each size side by side."""
    sizes = sorted(measured)
    print(f"\n=== {NAMES[database]}: p50 / p95 ms, queries ===")
    steps = list(itertools.pairwise(sizes))
    print(
        f"{'':<28}"
        + "".join(f"{f'{size:,} pairings':>24}" for size in sizes)
        + "".join(f"{f'{big // 1000}k/{small // 1000}k':>9}" for small, big in steps)
    )
    seeded = []
    for size in sizes:
        cell = measured[size]
        refresh = f" + {cell['refreshing']:.1f}" if cell["refreshing"] else ""
        seeded.append(f"{cell['seeding']:.1f}{refresh} s")
    print(f"{'seeding':<28}" + "".join(f"{text:>24}" for text in seeded))
    labels = [row["label"] for row in measured[sizes[0]]["pages"]]
    for index, label in enumerate(labels):
        cells = []
        for size in sizes:
            row = measured[size]["pages"][index]
            cells.append(f"{row['p50']:.1f} / {row['p95']:.1f}  {row['queries']:3d}")
        # How the cost grows from one size to the next: the p50s' ratio.
        p50 = {size: measured[size]["pages"][index]["p50"] for size in sizes}
        growth = "".join(f"{p50[big] / p50[small]:>8.2f}×" for small, big in steps)
        # The deep and last pages are other numbers at each size.
        name = label.split(" (")[-1].rstrip(")") + " page" if label.startswith("page=") else label
        print(f"{name:<28}" + "".join(f"{cell:>24}" for cell in cells) + growth)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="pairings, comma-separated")
    parser.add_argument("--databases", default="postgresql,sqlite", help="postgresql, sqlite")
    parser.add_argument("--runs", type=int, default=20, help="timed requests per variant")
    parser.add_argument("--plans", action="store_true", help="print each slowest SELECT's plan")
    parser.add_argument(
        "--gunicorn",
        nargs="?",
        const="postgresql:10000",
        metavar="DATABASE:SIZE",
        help="load pages under gunicorn at that cell of the run (default postgresql:10000)",
    )
    parser.add_argument("--gunicorn-seconds", type=float, default=10, help="per page")
    parser.add_argument("--postgres-url", default=f"postgres://postgres@{benchlib.HOST}:5432")
    # One cell, in a process of its own (what the run starts for each).
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        run_one(args)
        return

    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    databases = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = set(databases) - set(NAMES)
    if unknown:
        parser.error(f"unknown database {', '.join(sorted(unknown))}: use {', '.join(NAMES)}")
    cells = [f"{database}:{size}" for database in databases for size in sizes]
    if args.gunicorn and args.gunicorn not in cells:
        parser.error(f"--gunicorn {args.gunicorn} is not in this run ({', '.join(cells)})")

    measured: dict[str, dict[int, dict]] = {}
    for cell in cells:
        database, size = cell.split(":")
        folder = tempfile.mkdtemp(prefix="bench-dashboard-")
        name = None
        command = [sys.executable, __file__, "--run-one", cell, "--folder", folder]
        command += ["--runs", str(args.runs)]
        command += ["--plans"] if args.plans else []
        if cell == args.gunicorn:
            command += ["--gunicorn", cell, "--gunicorn-seconds", str(args.gunicorn_seconds)]
        try:
            if database == "postgresql":
                url, name = benchlib.create_postgres_database(args.postgres_url, "bench_dashboard")
                command += ["--database-url", url]
            # This script again, with its own options.
            if subprocess.run(command).returncode:  # noqa: S603
                raise SystemExit(f"the run on {cell} failed")
            results = json.loads(Path(folder, "results.json").read_text())
            measured.setdefault(database, {})[int(size)] = results
        finally:
            if name:
                benchlib.drop_postgres_database(args.postgres_url, name)
            shutil.rmtree(folder, ignore_errors=True)
    for database, by_size in measured.items():
        print_summary(database, by_size)


if __name__ == "__main__":
    main()
