"""What the benchmark scripts share: a throwaway database, and timing a page."""

import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_throwaway_django():
    """Django on a fresh SQLite file in a temporary folder, migrated; returns
    the folder. Queued tasks stay queued (no worker runs): a script calls
    what it times."""
    tmp = tempfile.mkdtemp()
    # Always a throwaway file, whatever DATABASE_URL the shell exports.
    os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    os.environ.setdefault("DEBUG", "true")
    os.environ["SEAL_DIR"] = f"{tmp}/seal"
    os.environ["MEDIA_ROOT"] = f"{tmp}/media"
    os.environ.pop("TASKS_SYNC", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mentorship.settings")

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = ["*"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    return tmp


def measure(label, client, url, runs, *, slowest=False):
    """GET ``url`` ``runs`` times; print the median and 95th-percentile wall
    time and the query count (and with ``slowest`` the three slowest SQL
    statements of the last run). Returns the last body."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(runs):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            response = client.get(url)
            # A streaming body runs its queries while it is read.
            body = b"".join(response.streaming_content) if response.streaming else response.content
            timings.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    timings.sort()
    p95 = timings[math.ceil(len(timings) * 0.95) - 1]
    print(
        f"{label:<36} median {statistics.median(timings):7.1f} ms   "
        f"p95 {p95:7.1f} ms   {len(queries):3d} queries"
    )
    if slowest:
        for query in sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:3]:
            print(f"    {float(query['time']) * 1000:8.1f} ms  {query['sql']}")
    return body
