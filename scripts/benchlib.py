"""What the benchmark scripts share: a throwaway database, timing a page and
its SQL, and driving a local server with a closed-loop load."""

import http.client
import math
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
HOST = "127.0.0.1"
# Fields whose Python values every database driver takes as they are.
AS_THEY_ARE = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "EmailField",
    "ForeignKey",
    "IntegerField",
    "OneToOneField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SmallIntegerField",
    "TextField",
}


def setup_throwaway_django(database_url=None, folder=None):
    """Django on a throwaway database, migrated; returns the folder its files
    go in (a new temporary one unless ``folder`` is given). The database is a
    fresh SQLite file there unless ``database_url`` names one (an empty
    PostgreSQL database from ``create_postgres_database``). Queued tasks stay
    queued (no worker runs): a script calls what it times."""
    tmp = folder or tempfile.mkdtemp()
    # Always a throwaway database, whatever DATABASE_URL the shell exports.
    os.environ["DATABASE_URL"] = database_url or f"sqlite:///{tmp}/bench.sqlite3"
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


def create_postgres_database(base_url, prefix="bench"):
    """A new, uniquely named database on the server at ``base_url``
    (postgres://user@host:port); returns (its URL, its name)."""
    import psycopg

    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{base_url}/{name}", name


def drop_postgres_database(base_url, name):
    import psycopg

    with psycopg.connect(f"{base_url}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def first_free_id(model):
    """The id after the largest in ``model``'s table: rows given ids from here
    on can refer to each other before they are inserted."""
    from django.db.models import Max

    return (model.objects.aggregate(top=Max("pk"))["top"] or 0) + 1


def bulk_load(model, columns, rows, constants=None):
    """Insert ``rows`` (tuples of the values of ``columns``, field names) into
    ``model``'s table, the fastest way the database has: COPY on PostgreSQL,
    one executemany on SQLite. No model instance is made and no save() runs.
    ``constants`` gives every row the same value of other fields; each field
    left out gets its default, the same for every row (so a unique one must
    be given), or its ``db_default`` from the database. A table given ids
    needs ``reset_sequences`` afterwards."""
    from django.db import connection

    ops, constants = connection.ops, constants or {}
    fields = [model._meta.get_field(name) for name in columns]
    named = {field.column for field in fields} | {
        model._meta.get_field(name).column for name in constants
    }
    fixed = [(model._meta.get_field(name), value) for name, value in constants.items()]
    for field in model._meta.concrete_fields:
        if field.column in named or field.primary_key or field.generated:
            continue
        if not field.has_default() and field.has_db_default():
            continue  # the database fills it in
        if field.unique:
            raise ValueError(f"{model.__name__}.{field.name} is unique: give its values")
        fixed.append((field, field.get_default()))
    names = [field.column for field in fields] + [field.column for field, _value in fixed]
    extra = tuple(field.get_db_prep_save(value, connection) for field, value in fixed)
    # Text, numbers, booleans and ids go to the driver as they are; dates and
    # times the way the backend stores them; anything else through its field.
    adapters = {
        "DateTimeField": ops.adapt_datetimefield_value,
        "DateField": ops.adapt_datefield_value,
    }
    converters = [
        (index, adapters.get(kind) or partial(field.get_db_prep_save, connection=connection))
        for index, field in enumerate(fields)
        if (kind := field.get_internal_type()) not in AS_THEY_ARE
    ]

    def prepared():
        for row in rows:
            if converters:
                row = list(row)
                for index, convert in converters:
                    if row[index] is not None:
                        row[index] = convert(row[index])
            yield (*row, *extra)

    table, quoted = ops.quote_name(model._meta.db_table), ", ".join(map(ops.quote_name, names))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in prepared():
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(names))
            insert = f"INSERT INTO {table} ({quoted}) VALUES ({marks})"  # noqa: S608 - names
            cursor.executemany(insert, prepared())


def reset_sequences(*models):
    """After rows were given ids: the next row saved gets the next free one."""
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


def percentile(values, share):
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * share) - 1]


class QueryRecorder:
    """Every SQL statement run through Django's connection while installed,
    with its parameters: ``with connection.execute_wrapper(recorder):``."""

    def __init__(self):
        self.statements = []

    def __call__(self, execute, sql, params, many, context):
        self.statements.append((sql, params))
        return execute(sql, params, many, context)


def timed_get(client, url, runs, *, warm_up=True):
    """GET ``url`` ``runs`` times with the test client (after one untimed
    request unless ``warm_up`` is false). Returns a dict: ``timings`` (ms),
    ``p50``, ``p95``, ``statements`` of the last run (SQL, params) and its
    ``body``."""
    from django.db import connection

    if warm_up:
        _get(client, url)
    timings = []
    for _ in range(runs):
        recorder = QueryRecorder()
        with connection.execute_wrapper(recorder):
            start = time.perf_counter()
            body = _get(client, url)
            timings.append((time.perf_counter() - start) * 1000)
    return {
        "timings": timings,
        "p50": statistics.median(timings),
        "p95": percentile(timings, 0.95),
        "statements": recorder.statements,
        "body": body,
    }


def _get(client, url, expect=(200,)):
    response = client.get(url)
    # A streaming body runs its queries while it is read.
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response.status_code not in expect:
        raise SystemExit(f"{url} answered {response.status_code}")
    return body


def time_selects(statements):
    """[(ms, SQL, params)] of each SELECT of ``statements``, run again here and
    read to the end: a statement's time in the request leaves out the rows a
    cursor fetches later (SQLite steps lazily, a streamed export fetches in
    chunks)."""
    from django.db import connection

    timed = []
    with connection.cursor() as cursor:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            start = time.perf_counter()
            cursor.execute(sql, params)
            cursor.fetchall()
            timed.append(((time.perf_counter() - start) * 1000, sql, params))
    return timed


def query_plan(sql, params):
    """The plan of one statement as lines: EXPLAIN (ANALYZE, BUFFERS) on
    PostgreSQL (it runs the statement), EXPLAIN QUERY PLAN on SQLite."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        # (id, parent, unused, detail): indent each step under its parent.
        depth, lines = {0: -1}, []
        for step, parent, _unused, detail in cursor.fetchall():
            depth[step] = depth.get(parent, -1) + 1
            lines.append("  " * depth[step] + detail)
        return lines


def printable_sql(sql, params):
    """The statement with its parameters in it, as the database would log it."""
    from django.db import connection

    # PostgreSQL's operations quote with the driver; SQLite's quote the
    # parameters themselves, without a cursor.
    compose = getattr(connection.ops, "compose_sql", None)
    return (
        compose(sql, params) if compose else connection.ops.last_executed_query(None, sql, params)
    )


def measure(label, client, url, runs, *, slowest=False, expect=(200,)):
    """GET ``url`` ``runs`` times; print the median and 95th-percentile wall
    time and the query count (and with ``slowest`` the three slowest SQL
    statements of the last run). Any status but those in ``expect`` stops the
    script. Returns the last body."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    timings = []
    for _ in range(runs):
        reset_queries()
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            body = _get(client, url, expect)
            timings.append((time.perf_counter() - start) * 1000)
    print(
        f"{label:<36} median {statistics.median(timings):7.1f} ms   "
        f"p95 {percentile(timings, 0.95):7.1f} ms   {len(queries):3d} queries"
    )
    if slowest:
        for query in sorted(queries, key=lambda q: float(q["time"]), reverse=True)[:3]:
            print(f"    {float(query['time']) * 1000:8.1f} ms  {query['sql']}")
    return body


# A local server under load ------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_process(command, env, log):
    """Start ``command`` in ``ROOT`` in a session of its own, so that
    ``stop_process`` stops it with its children."""
    return subprocess.Popen(  # noqa: S603 - the scripts' own commands
        command,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop_process(process, grace=15):
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(5)


def http_get(port, path, cookies, timeout=60):
    """(status, body) of one GET on a new connection, as a browser without
    keep-alive; ``cookies`` is a dict sent as they are (with DEBUG off the
    app's cookies are Secure, and a cookie jar would not send them back over
    plain HTTP)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    headers = {"User-Agent": "benchlib"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in cookies.items())
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def wait_until_up(port, path, process, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if process.poll() is not None:
            return False
        try:
            if http_get(port, path, {}, timeout=5)[0] == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.25)
    return False


def closed_loop(port, path, cookies, *, seconds, concurrency):
    """``concurrency`` visitors each loading ``path`` again as soon as the
    last load ends, for ``seconds``. Returns {"latencies": ms of each load,
    "seconds": the time taken, "failures": []}: a response other than 200 or
    an error is a failure, and stops that visitor."""
    deadline = time.perf_counter() + seconds
    latencies, failures, lock = [], [], threading.Lock()

    def visitor():
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            try:
                status, _body = http_get(port, path, cookies)
            except (OSError, http.client.HTTPException) as exc:
                status = f"{type(exc).__name__}: {exc}"
            with lock:
                if status != 200:
                    failures.append(status)
                    return
                latencies.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    threads = [threading.Thread(target=visitor, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 90)
    # A load that started before the deadline ends after it: count its time.
    return {
        "latencies": latencies,
        "seconds": time.perf_counter() - started,
        "failures": failures,
    }
