"""How a download of a stored sealed PDF compares with rendering it.

    .venv/bin/python scripts/benchmark_download.py [--downloads 200] [--renders 5]
        [--trail 1000] [--queries] [--postgres-url postgres://postgres@127.0.0.1:5432]

On a throwaway database (a SQLite file in a temporary folder, or with
``--postgres-url`` a ``bench_download_*`` database made on that PostgreSQL
server, analysed, and dropped after): one agreement, signed by both and
sealed, with ``--trail`` more entries in its audit trail. Times the download
of the sealed PDF through the Django test client (session, view, its audit
entry and reading the file: everything but the network) against
``render_signed_pdf(version)``, which no download calls, timed among the
downloads, and prints their ratio, with the number of SQL statements of one
download (``--queries`` lists them). "before" is the download as it was:
the agreement and its parties read, then the version, then the audit entry
under the row lock taken first (lock, newest entry, INSERT, UPDATE, each a
statement of its own); "now" is the app as it is. The two take turns.
Figures, not pass/fail.
"""

import argparse
import os
import statistics
import time

from benchlib import create_postgres_database, drop_postgres_database, setup_throwaway_django


def version_pdf_before(request, agreement_id, number):
    """The download view as it was, less its messages for a version not yet sealed."""
    from agreements.views.access import agreement_for
    from agreements.views.agreements import sealed_pdf_response
    from agreements.views.versions import _signed_version_for

    agreement = agreement_for(request, agreement_id, working_copy=False)
    version = _signed_version_for(agreement, number)
    if version.seal_failed or not version.is_sealed:
        raise SystemExit("The version is not sealed.")
    # Without the newest entry: audit_access locks the row first, then reads it.
    return sealed_pdf_response(
        request,
        agreement,
        version.pdf,
        version=version,
        suffix=f"-v{version.number}-signed",
        details={"file": "sealed", "version": version.number, "pdf_sha256": version.pdf_sha256},
    )


def url_pattern(patterns, name):
    for pattern in patterns:
        if getattr(pattern, "name", None) == name:
            return pattern
        found = url_pattern(getattr(pattern, "url_patterns", []), name)
        if found:
            return found
    return None


def timed(call, runs):
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--downloads", type=int, default=200)
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument("--trail", type=int, default=1000, help="audit entries added first")
    parser.add_argument("--queries", action="store_true", help="list each mode's statements")
    parser.add_argument(
        "--postgres-url",
        help="run on a throwaway database on this PostgreSQL server "
        "(postgres://user@host:port) instead of SQLite",
    )
    args = parser.parse_args()
    if not args.postgres_url:
        run(args)
        return
    url, name = create_postgres_database(args.postgres_url, "bench_download")
    try:
        run(args, url)
    finally:
        from django.db import connections

        connections.close_all()
        drop_postgres_database(args.postgres_url, name)


def run(args, database_url=None):
    setup_throwaway_django(database_url)
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import get_resolver, reverse

    from agreements import demo, pdf
    from agreements.models import Agreement, AgreementVersion, AuditEvent, Origin, verify_chain
    from agreements.tasks import seal_version
    from tests.helpers import make_agreement, make_persona, make_program

    call_command("create_seal_keys", stdout=open(os.devnull, "w"))  # noqa: SIM115
    admin, mentor = make_persona("program_admin"), make_persona("mentor")
    agreement = make_agreement(make_program("Bench", admin), mentor, make_persona("mentee"), admin)
    demo.write_all(agreement, by=mentor)
    demo.agree_all(agreement)
    demo.sign_as(agreement, agreement.mentor)
    demo.sign_as(agreement, agreement.mentee)
    version = Agreement.objects.get(pk=agreement.pk).version_in_force
    seal_version(version_id=version.pk)
    version = AgreementVersion.objects.select_related("agreement").get(pk=version.pk)
    for _ in range(args.trail):
        agreement.audit_access(AuditEvent.Kind.VIEWED, actor=mentor, origin=Origin())
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    client = Client()
    client.force_login(mentor)
    url = reverse("agreements:version_pdf", args=[agreement.uuid, version.number])

    def download():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        b"".join(response.streaming_content)

    pattern = url_pattern(get_resolver().url_patterns, "version_pdf")
    modes = {"before": version_pdf_before, "now": pattern.callback}

    def use(mode):
        pattern.callback = modes[mode]

    queries, timings = {}, {mode: [] for mode in modes}
    for mode in modes:
        use(mode)
        download()
        # A request resets the query log as it starts: count from zero.
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            download()
        queries[mode] = [" ".join(query["sql"].split())[:110] for query in captured]
    # In turns, the renders among the downloads, so that a machine busy with
    # something else slows them all alike.
    renders = []
    for turn in range(args.downloads):
        if turn % max(1, args.downloads // args.renders) == 0:
            renders.append(timed(lambda: pdf.render_signed_pdf(version), 1))
        for mode in modes:
            use(mode)
            timings[mode].append(timed(download, 1))
    render = statistics.median(renders)
    print(f"{connection.display_name} {'.'.join(map(str, connection.get_database_version()))}")
    print(f"render_signed_pdf, median of {len(renders)}: {render:8.1f} ms")
    print(f"Download of the sealed PDF ({version.pdf.size} bytes), median of {args.downloads}:")
    for mode in modes:
        median = statistics.median(timings[mode])
        print(
            f"  {mode:<7} {median:6.2f} ms   {len(queries[mode]):2d} queries   "
            f"render / download {render / median:6.0f}×"
        )
        if args.queries:
            for sql in queries[mode]:
                print(f"      {sql}")
    problem = verify_chain(Agreement.objects.get(pk=agreement.pk))
    if problem:
        raise SystemExit(f"The audit chain is broken: {problem}")


if __name__ == "__main__":
    main()
