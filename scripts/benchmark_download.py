"""How a download of a stored sealed PDF compares with rendering it.

    .venv/bin/python scripts/benchmark_download.py [--downloads 200] [--renders 5] [--trail 1000]

On a throwaway SQLite database: one agreement, signed by both and sealed,
with ``--trail`` more entries in its audit trail. Times the download of the
sealed PDF through the Django test client (session, view, its audit entry
and reading the file: everything but the network) against
``render_signed_pdf(version)``, which no download calls, and prints their
ratio. "before" audits the download as ``audit_access`` used to (the whole
row locked FOR UPDATE, the whole newest entry read); "now" is the app as it
is. Figures, not pass/fail.
"""

import argparse
import os
import statistics
import time

from benchlib import setup_throwaway_django


def audit_access_before(self, kind, *, actor, origin, details=None):
    from django.db import transaction

    from agreements.models import Agreement

    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=self.pk)
        agreement.audit(kind, actor=actor, origin=origin, details=details)


def newest_before(agreement):
    from agreements.models import AuditEvent

    last = AuditEvent.objects.filter(agreement=agreement).order_by("-sequence").first()
    return (last.sequence, last.entry_hash) if last else None


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
    args = parser.parse_args()

    setup_throwaway_django()
    from django.core.management import call_command
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

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

    client = Client()
    client.force_login(mentor)
    url = reverse("agreements:version_pdf", args=[agreement.uuid, version.number])

    def download():
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        b"".join(response.streaming_content)

    render = timed(lambda: pdf.render_signed_pdf(version), args.renders)
    print(f"render_signed_pdf, median of {args.renders}: {render:8.1f} ms")
    print(f"Download of the sealed PDF ({version.pdf.size} bytes), median of {args.downloads}:")
    modes = {
        "before": (audit_access_before, staticmethod(newest_before)),
        "now": (vars(Agreement)["audit_access"], vars(AuditEvent)["_newest"]),
    }

    def use(mode):
        Agreement.audit_access, AuditEvent._newest = modes[mode]

    queries, timings = {}, {mode: [] for mode in modes}
    for mode in modes:
        use(mode)
        download()
        # A request resets the query log as it starts: count from zero.
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            download()
        queries[mode] = len(captured)
    # In turns, so that a machine busy with something else slows both alike.
    for _ in range(args.downloads):
        for mode in modes:
            use(mode)
            timings[mode].append(timed(download, 1))
    for mode in modes:
        median = statistics.median(timings[mode])
        print(
            f"  {mode:<7} {median:6.2f} ms   {queries[mode]:2d} queries   "
            f"render / download {render / median:6.0f}×"
        )
    problem = verify_chain(Agreement.objects.get(pk=agreement.pk))
    if problem:
        raise SystemExit(f"The audit chain is broken: {problem}")


if __name__ == "__main__":
    main()
