"""Time the menu's count of what waits for a person (one query on every
signed-in page) as the program's discussions grow, on throwaway PostgreSQL.

    .venv/bin/python scripts/benchmark_waiting.py [--pairings 200]
        [--comments 0,10000,100000] [--runs 50] [--plans]
        [--postgres-url postgres://postgres@127.0.0.1:5432]

It makes one program of ``--pairings`` pairings through the app's own moves,
one of them the measured mentor's (20 comments by the mentee, 5 of them
unread). Then, for each size of ``--comments``, it
loads that many more comments (COPY) on the other pairings' sections, runs
ANALYZE, and prints the median and 95th-percentile time of the count query
over ``--runs`` runs, the count it found (always 5: the other pairings'
comments are not the mentor's), and with ``--plans`` its plan (EXPLAIN
ANALYZE). The count should cost what the person's own agreements hold, not
what the program holds.

Figures, not pass/fail: compare them before and after a change.
"""

import argparse
import datetime
import statistics
import time

from benchlib import (
    bulk_load,
    create_postgres_database,
    drop_postgres_database,
    percentile,
    query_plan,
    setup_throwaway_django,
)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairings", type=int, default=200)
    parser.add_argument("--comments", default="0,10000,100000")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--plans", action="store_true")
    parser.add_argument("--postgres-url", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    url, name = create_postgres_database(args.postgres_url, prefix="bench_waiting")
    try:
        setup_throwaway_django(url)
        run(args)
    finally:
        from django.db import connections

        connections.close_all()
        drop_postgres_database(args.postgres_url, name)


def run(args):
    from django.db import connection
    from django.test import RequestFactory
    from django.utils import timezone

    from agreements.context_processors import waiting
    from agreements.models import Program, Section, SectionComment, User
    from agreements.models.discussion import count_of, unread_comments
    from agreements.models.proposals import proposals_to_answer
    from agreements.services import pairing_create

    admin = User.objects.create_user("admin@example.com", "x", full_name="Admin")
    program = Program.objects.create(name="Benchmark programme")
    program.admins.add(admin)
    mentor = User.objects.create_user("mentor@example.com", "x", full_name="Maria Mentor")
    start = time.perf_counter()
    pairings = []
    for number in range(args.pairings):
        mentee = User.objects.create_user(
            f"mentee{number}@example.com", "x", full_name=f"Mentee {number}"
        )
        # The first pairing is the measured mentor's; the others are strangers'.
        other = (
            mentor
            if number == 0
            else User.objects.create_user(
                f"mentor{number}@example.com", "x", full_name=f"Mentor {number}"
            )
        )
        pairings.append(
            pairing_create(program=program, mentor=other, mentee=mentee, created_by=admin)
        )
    print(f"{args.pairings} pairings made in {time.perf_counter() - start:.1f} s")

    own = pairings[0]
    for index in range(20):
        own.comment_on("goals", by=own.mentee, text=f"Comment {index}")
        if index == 14:
            # The mentor read up to here: five are unread.
            own.comment_on("goals", by=mentor, text="Read so far.")
    strangers = list(
        Section.objects.exclude(agreement=own).values_list("pk", "agreement__mentee_id")
    )

    request = RequestFactory().get("/")
    request.user = mentor
    request.session = {}  # logged in with a password, not single sign-on
    loaded = 0
    for size in [int(size) for size in args.comments.split(",")]:
        now = timezone.now()
        rows = [
            (*strangers[index % len(strangers)], f"Comment {index}",
             now - datetime.timedelta(minutes=index))
            for index in range(loaded, size)
        ]  # fmt: skip
        if rows:
            bulk_load(SectionComment, ["section_id", "author_id", "text", "written_at"], rows)
        loaded = max(loaded, size)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        timings, count = [], None
        for _ in range(args.runs):
            started = time.perf_counter()
            count = waiting(request)["waiting"].count
            timings.append((time.perf_counter() - started) * 1000)
        total = SectionComment.objects.count()
        print(
            f"{total:>7} comments in the program: count {count}   "
            f"median {statistics.median(timings):6.2f} ms   p95 {percentile(timings, 0.95):6.2f} ms"
        )
        if args.plans:
            total = count_of(proposals_to_answer(mentor)) + count_of(unread_comments(mentor))
            query = User.objects.filter(pk=mentor.pk).values_list(total, flat=True)
            print("\n".join(query_plan(*query.query.sql_with_params())))


if __name__ == "__main__":
    main()
