"""Do draft-PDF downloads stall the site? gunicorn on a throwaway PostgreSQL database.

    .venv/bin/python scripts/benchmark_draft_pdf.py [--phases 1,3,10] [--baseline 10]
        [--gunicorn-config mentorship/gunicorn.conf.py --workers 2]
        [--worker-cmd "manage.py qcluster"] [--text lines|list|prose|unbroken|newlines]

Creates a database on the local server (postgres@127.0.0.1:5432, trust) with
production settings (DEBUG=false) and fills one draft to every limit of the
section forms (max length, max lines, max rows), through the forms and
``save_section`` as the edit page does; a refused section stops the run with
the form's errors. Starts gunicorn on a free loopback port (2 sync
workers, or what ``--gunicorn-config`` says unless ``--workers`` is given)
and the task worker if one is named. The mentor logs in through the login
form; then each phase changes the draft a little (its notice period, so no
phase is served a PDF made for an earlier one) and runs that many concurrent
downloads of the draft PDF while an anonymous visitor loads the login page
every 100 ms. A download answered with an HTML page with a meta refresh polls
after the delay until the PDF comes. Prints each download's time to PDF, the
login page's latency beside them and each web worker's memory. Figures, not
pass/fail: compare them before and after a change.

Runs ``collectstatic`` into STATIC_ROOT (the manifest storage of DEBUG=false
needs it); the database, gunicorn and the worker go at the end.
"""

import argparse
import datetime
import hashlib
import http.client
import http.cookies
import io
import math
import os
import re
import secrets
import shlex
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from urllib.parse import urlencode, urlsplit

import benchlib

ROOT = benchlib.ROOT
HOST = "127.0.0.1"
PASSWORD = "a-long-benchmark-password"  # noqa: S105 - a throwaway account
META_REFRESH = re.compile(
    rb"""<meta\s[^>]*http-equiv=["']?refresh["']?[^>]*content=["']\s*([\d.]+)\s*"""
    rb"""(?:[;,]\s*url\s*=\s*['"]?([^"'>\s]*))?""",
    re.IGNORECASE,
)
CSRF_INPUT = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
WORDS = (
    "the mentee wants to lead a cross-team project from kick-off to delivery and to ask "
    "for feedback early, while the mentor practises coaching rather than advising; both "
    "review progress against agreed measures, stakeholders, budgets, risks and career plans"
).split()


# --text: how the text of a field at its max length is laid out. Only "lines"
# and the one-line shapes keep to the forms' line limit (TEXT_LINES_LIMIT, 50):
# the forms refuse "list" and "newlines" wherever that limit exists.
TEXT_SHAPES = {
    "lines": "each text area the most lines the forms allow, of words (about 39 characters)",
    "list": "each text area a list, one 19-character line per item (about the issue's draft; "
    "100 lines, over the line limit)",
    "prose": "words and spaces",
    "unbroken": "no space at all (the PDF breaks such runs every 20 characters)",
    "newlines": "text areas one character per line (1,000 lines, over the line limit)",
}
# Code from before the line limit has no TEXT_LINES_LIMIT: "lines" uses this.
TEXT_LINES_LIMIT = 50


def words(length, seed):
    """Deterministic words of exactly ``length`` characters (the forms strip
    trailing spaces, so it never ends with one)."""
    chosen, size, index = [], 0, seed
    while size < length:
        word = WORDS[index % len(WORDS)]
        chosen.append(word)
        size += len(word) + 1
        index += 7
    text = (f"{seed}: " + " ".join(chosen))[:length]
    return text if not text.endswith(" ") else text[:-1] + "."


def fill(shape, length, seed, *, multiline, lines=TEXT_LINES_LIMIT):
    """``length`` characters in ``shape``; a one-line input never holds a line break."""
    if shape == "lines" and multiline:
        # ``lines`` lines of words joined by "\n" (as the forms store them), as
        # even as ``length`` allows: 2,000 characters make 39 or 40 a line.
        width, longer = divmod(length - (lines - 1), lines)
        return "\n".join(words(width + (n < longer), seed + n) for n in range(lines))
    if shape == "unbroken":
        digits = "".join(
            hashlib.sha256(f"{seed}.{n}".encode()).hexdigest() for n in range(length // 64 + 1)
        )
        return digits[:length]
    if shape == "prose" or not multiline:
        return words(length, seed)
    width = 20 if shape == "list" else 2
    lines = [words(width - 1, seed + n) for n in range(length // width + 1)]
    text = "\n".join(lines)[:length].rstrip()
    return text + "." * (length - len(text))


# The draft ------------------------------------------------------------------


def section_posts(start, exit_date, shape):
    """(section kind, editing party, the edit form's POST data), every field at
    its max length, every formset at its max count, in an order the term checks allow."""
    from agreements.models import Section
    from agreements.models import sections as limits
    from agreements.services import MAX_CHECKINS

    LINE_LIMIT, TEXT_LIMIT = limits.LINE_LIMIT, limits.TEXT_LIMIT
    lines = getattr(limits, "TEXT_LINES_LIMIT", TEXT_LINES_LIMIT)

    Kind = Section.Kind
    day = datetime.timedelta(days=1)

    def line(seed):
        return fill(shape, LINE_LIMIT, seed, multiline=False)

    def text(seed):
        return fill(shape, TEXT_LIMIT, seed, multiline=True, lines=lines)

    # Max counts of the formsets (agreements/forms: _formset(max_num=30), MAX_CHECKINS).
    goals, topics = 30, 30

    def formset(prefix, rows):
        data = {
            f"{prefix}-TOTAL_FORMS": str(len(rows)),
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": str(len(rows)),
        }
        for index, row in enumerate(rows):
            data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
        return data

    contact = {}
    for number, party in enumerate(("mentor", "mentee")):
        for field in ("email", "phone", "video", "chat"):
            contact[f"{party}-by_{field}"] = "on"
            contact[f"{party}-{field}_details"] = line(10 * number + len(field))
        contact[f"{party}-in_person"] = "on"
        contact[f"{party}-in_person_details"] = line(10 * number + 5)
        contact[f"{party}-preferred_times"] = line(10 * number + 6)
        contact[f"{party}-response_time"] = "same_day"
    # Every text area of the section: its model's text fields.
    text_fields = [
        field.name
        for field in limits.Confidentiality._meta.concrete_fields
        if field.get_internal_type() == "TextField"
    ]
    confidentiality = {name: text(seed) for seed, name in enumerate(text_fields)}
    confidentiality.update(
        yields_to_risk_of_harm="on",
        yields_to_legal_duty="on",
        yields_to_organisation_duty="on",
        third_party_allowed="on",
        third_party_name=line(99),
        # Only the mentee may give it: the mentee saves this section.
        third_party_consent="on",
    )
    return [
        (
            Kind.TERM,
            "mentor",
            {
                "start_date": start.isoformat(),
                "exit_date": exit_date.isoformat(),
                "notice_days": "365",
                "closing_conversation": "on",
            },
        ),
        (Kind.CONTACT, "mentor", contact),
        (
            Kind.SCHEDULE,
            "mentor",
            {
                # "Other" prints the 200-character description instead of a word.
                "frequency": "custom",
                "frequency_custom": line(40),
                "time": "17:30",
                "time_zone": "America/Argentina/Buenos_Aires",
                "duration_minutes": "600",
                "format": "mixed",
                "location": line(41),
                "arranged_by": "both",
                "agenda_by": "both",
                "notice_hours": "720",
            },
        ),
        (
            Kind.GOALS,
            "mentor",
            formset(
                "goals",
                [
                    {
                        "owner": ("mentee", "mentor")[index % 2],
                        "description": text(100 + index),
                        "success_measure": text(200 + index),
                        "target_date": (start + day * (10 * index + 10)).isoformat(),
                    }
                    for index in range(goals)
                ],
            ),
        ),
        (
            Kind.CHECKINS,
            "mentor",
            formset(
                "checkins",
                [
                    {
                        "date": (start + day * (5 * index + 5)).isoformat(),
                        "focus": line(300 + index),
                    }
                    for index in range(MAX_CHECKINS)
                ],
            ),
        ),
        (Kind.CONFIDENTIALITY, "mentee", confidentiality),
        (
            Kind.OFF_LIMITS,
            "mentor",
            formset(
                "topics",
                [
                    {
                        "topic": line(400 + index),
                        "rule": ("never", "mentee_raises")[index % 2],
                    }
                    for index in range(topics)
                ],
            ),
        ),
    ]


def form_errors(form):
    """Lines of "where: message" for a form's or a formset's refusals."""
    if hasattr(form, "non_form_errors"):
        errors = [f"  {form.prefix}: {message}" for message in form.non_form_errors()]
        for index, row in enumerate(form.forms):
            errors += [
                f"  {form.prefix} row {index + 1}, {line.strip()}" for line in form_errors(row)
            ]
        return errors
    return [
        f"  {field}: {message}" for field, messages in form.errors.items() for message in messages
    ]


def save_section(agreement_pk, kind, party, data):
    """Validate ``data`` with the section's edit form and save it as the edit page
    does; stop the run, saying why, if the form or the save refuses it."""
    from agreements.exceptions import AgreementError
    from agreements.forms import SectionEditor
    from agreements.models import Agreement

    loaded = Agreement.objects.with_working_copy().get(pk=agreement_pk)
    editor = SectionEditor(loaded, kind, party, data=data)
    if not editor.is_valid():
        errors = [line for _heading, form in editor.forms for line in form_errors(form)]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise SystemExit(
            f"the {kind} section's form refused the benchmark's data ({len(errors)} errors):\n"
            + "\n".join(errors[:10])
            + more
        )
    try:
        loaded.save_section(
            kind,
            by=loaded.user_for(party),
            expected_revision=loaded.sections_by_kind[kind].revision,
            save=editor.save,
        )
    except AgreementError as exc:
        raise SystemExit(f"saving the {kind} section was refused: {exc.message}") from None


def touch_draft(agreement_pk, number):
    """Change the notice period (364 or 365 days) through the term form, so that
    no phase is served a PDF made for an earlier one."""
    from django.db import connections

    from agreements.models import Section, Term

    term = Term.objects.get(agreement_id=agreement_pk)
    data = {
        "start_date": term.start_date.isoformat(),
        "exit_date": term.exit_date.isoformat(),
        "notice_days": str(364 + number % 2),
        "closing_conversation": "on",
    }
    save_section(agreement_pk, Section.Kind.TERM, "mentor", data)
    connections.close_all()


def create_worst_draft(shape):
    """A pair and their draft, every section filled to the forms' limits; returns
    (the draft's pk, mentor's email, the draft PDF's path, a summary)."""
    from django.urls import reverse
    from django.utils import timezone

    from agreements.models import Agreement, Program, User
    from agreements.services import pairing_create

    admin = User.objects.create_user("admin@bench.test", PASSWORD, full_name="Bench Admin")
    mentor = User.objects.create_user("mentor@bench.test", PASSWORD, full_name="Morgan Mentor")
    mentee = User.objects.create_user("mentee@bench.test", PASSWORD, full_name="Elliot Mentee")
    program = Program.objects.create(name="Benchmark Programme")
    program.admins.add(admin)
    agreement = pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=admin)
    start = timezone.localdate()
    for kind, party, data in section_posts(start, start + datetime.timedelta(days=365), shape):
        save_section(agreement.pk, kind, party, data)
    agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
    # The text areas as stored, to show the draft is the one intended.
    confidentiality = agreement.confidentiality
    texts = [
        text for goal in agreement.goals.all() for text in (goal.description, goal.success_measure)
    ]
    texts += [
        getattr(confidentiality, field.name)
        for field in confidentiality._meta.fields
        if field.get_internal_type() == "TextField"
    ]
    sizes = sorted({(len(text), text.count("\n") + 1) for text in texts})
    summary = (
        f"{agreement.goals.count()} goals, {agreement.checkins.count()} check-ins, "
        f"{agreement.off_limits_topics.count()} off-limits topics, every text at its limit, "
        f"as {TEXT_SHAPES[shape]}; {len(texts)} text areas stored, (characters, lines): "
        + ", ".join(f"({length}, {lines})" for length, lines in sizes[:3])
        + (" ..." if len(sizes) > 3 else "")
    )
    return agreement.pk, mentor.email, reverse("agreements:pdf", args=[agreement.uuid]), summary


# HTTP -------------------------------------------------------------------------


class Visitor:
    """One browser: cookies kept by hand, since with DEBUG=false the app's
    cookies are Secure and a cookie jar would not send them back over plain HTTP."""

    def __init__(self, port, cookies=None):
        self.port = port
        self.cookies = dict(cookies or {})

    def request(self, method, path, *, timeout, form=None):
        """(status, headers, body); a new connection each time, as gunicorn's
        sync workers close it after every response anyway."""
        connection = http.client.HTTPConnection(HOST, self.port, timeout=max(timeout, 0.1))
        headers = {"User-Agent": "benchmark_draft_pdf"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"http://{HOST}:{self.port}"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            jar = http.cookies.SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response.status, response.headers, data


def log_in(port, login_path, email, deadline):
    visitor = Visitor(port)
    _status, _headers, page = visitor.request("GET", login_path, timeout=deadline - time.time())
    token = CSRF_INPUT.search(page)
    if not token:
        raise SystemExit("no CSRF token on the login page")
    status, headers, _body = visitor.request(
        "POST",
        login_path,
        timeout=deadline - time.time(),
        form={
            "csrfmiddlewaretoken": token.group(1).decode(),
            "login": email,
            "password": PASSWORD,
        },
    )
    if status != 302 or "sessionid" not in visitor.cookies:
        raise SystemExit(f"login failed: {status} {headers.get('Location')}")
    return visitor


def refresh_of(headers, body, kind):
    """(delay in seconds, target or "") of a Refresh header or an HTML meta refresh."""
    header = re.match(r"\s*([\d.]+)\s*(?:[;,]\s*url\s*=\s*(\S*))?", headers.get("Refresh", ""))
    if header:
        return float(header.group(1)), (header.group(2) or "").strip("'\"")
    meta = META_REFRESH.search(body) if kind == "text/html" else None
    if meta:
        return float(meta.group(1)), (meta.group(2) or b"").decode()
    return None


def fetch_pdf(visitor, path, *, timeout, result):
    """GET ``path`` until a PDF comes: follow redirects, and poll after a meta
    refresh's delay (an HTML "being prepared" page). Fills ``result``."""
    started = time.time()
    deadline = started + timeout
    result.update(polls=0, ok=False)
    try:
        for _hop in range(10_000):
            if time.time() >= deadline:
                result["error"] = f"no PDF within {timeout:g} s"
                return
            status, headers, body = visitor.request("GET", path, timeout=deadline - time.time())
            kind = (headers.get("Content-Type") or "").split(";")[0].strip()
            if status == 200 and kind == "application/pdf":
                result.update(ok=body.startswith(b"%PDF"), seconds=time.time() - started, body=body)
                if not result["ok"]:
                    result["error"] = "not a PDF body"
                return
            if status in (301, 302, 303, 307, 308):
                path = urlsplit(headers["Location"]).path or path
                continue
            refresh = refresh_of(headers, body, kind)
            # 200 or 202 Accepted: a page that says the PDF is on its way.
            if 200 <= status < 300 and refresh:
                delay, target = refresh
                path = urlsplit(target).path or path
                result["polls"] += 1
                time.sleep(max(0.0, min(max(delay, 0.1), deadline - time.time())))
                continue
            result["error"] = f"HTTP {status} {kind}"
            return
    except (OSError, http.client.HTTPException) as exc:
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        result.setdefault("seconds", time.time() - started)


class LoginPoller(threading.Thread):
    """An anonymous visitor loading the login page every ``interval`` seconds
    (one request at a time) until stopped or past ``deadline``."""

    def __init__(self, port, path, interval, deadline):
        super().__init__(daemon=True)
        self.port, self.path, self.interval, self.deadline = port, path, interval, deadline
        self.stop = threading.Event()
        self.timings, self.errors = [], 0

    def run(self):
        while not self.stop.is_set() and time.time() < self.deadline:
            started = time.time()
            try:
                status, _headers, _body = Visitor(self.port).request(
                    "GET", self.path, timeout=self.deadline - started
                )
                if status != 200:
                    self.errors += 1
            except (OSError, http.client.HTTPException):
                self.errors += 1
            self.timings.append((time.time() - started) * 1000)
            self.stop.wait(max(0.0, started + self.interval - time.time()))

    def finish(self):
        self.stop.set()
        self.join(max(0.0, self.deadline - time.time()) + 1)
        return self.timings


def percentile(values, share):
    ordered = sorted(values)
    return ordered[math.ceil(len(ordered) * share) - 1]


def latency_figures(timings, errors):
    """count, p50, p95, max (ms), and the loads over a second with the time spent
    in them: one visitor at a time, so a stall is one long load, not many."""
    if not timings:
        return "   no requests"
    slow = [timing for timing in timings if timing > 1000]
    return (
        f"{len(timings):5d} {statistics.median(timings):8.0f} {percentile(timings, 0.95):8.0f} "
        f"{max(timings):8.0f} {len(slow):5d} {sum(slow) / 1000:7.1f}"
        + (f"   {errors} failed" if errors else "")
    )


# Processes --------------------------------------------------------------------


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as file:
            return [int(child) for child in file.read().split()]
    except OSError:
        return []


def memory(pid):
    """(RSS, peak RSS) in MB from /proc, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as file:
            fields = dict(line.split(":", 1) for line in file if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return None


def wait_until_up(port, path, server, deadline):
    while time.time() < deadline:
        if server.poll() is not None:
            return False
        try:
            if Visitor(port).request("GET", path, timeout=5)[0] == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.25)
    return False


def warm_up(port, path, workers):
    """A few rounds of simultaneous page loads, so that every web worker has
    served a page before the baseline (a worker's first response is slow)."""

    def load():
        try:
            Visitor(port).request("GET", path, timeout=30)
        except (OSError, http.client.HTTPException):
            pass

    for _round in range(3):
        threads = [threading.Thread(target=load, daemon=True) for _ in range(2 * workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(31)


def page_count(pdf):
    try:
        import pypdf

        return len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    except ImportError:
        return len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) or "?"


# The run ----------------------------------------------------------------------


def run_phase(port, visitor, pdf_path, login_path, concurrency, args):
    """``concurrency`` simultaneous downloads, the login page polled meanwhile."""
    deadline = time.time() + args.pdf_timeout + 10
    poller = LoginPoller(port, login_path, args.poll_interval, deadline)
    results = [{} for _ in range(concurrency)]
    gate = threading.Barrier(concurrency + 1, timeout=30)

    def download(result):
        gate.wait()
        own = Visitor(port, visitor.cookies)  # a tab of its own, the same session
        fetch_pdf(own, pdf_path, timeout=args.pdf_timeout, result=result)

    threads = [threading.Thread(target=download, args=(r,), daemon=True) for r in results]
    for thread in threads:
        thread.start()
    poller.start()
    gate.wait()
    started = time.time()
    for thread in threads:
        thread.join(max(0.0, deadline - time.time()))
    took = time.time() - started
    timings = poller.finish()
    return results, timings, poller.errors, took


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phases", default="1,3,10", help="concurrent downloads per phase")
    parser.add_argument("--baseline", type=float, default=10, help="seconds without PDF load")
    parser.add_argument("--poll-interval", type=float, default=0.1, help="login page, seconds")
    parser.add_argument("--pdf-timeout", type=float, default=180, help="per download, seconds")
    parser.add_argument(
        "--workers",
        type=int,
        help="gunicorn sync workers (default 2; with --gunicorn-config, what the config says)",
    )
    parser.add_argument("--gunicorn-config", help="passed to gunicorn as -c PATH")
    parser.add_argument("--worker-cmd", help='the task worker, e.g. "manage.py db_worker"')
    parser.add_argument(
        "--text",
        choices=TEXT_SHAPES,
        default="lines",
        help="; ".join(f"{name}: {meaning}" for name, meaning in TEXT_SHAPES.items())
        + ". Where the forms limit lines (50), they refuse list and newlines.",
    )
    parser.add_argument("--postgres", default=f"postgresql://postgres@{HOST}:5432")
    args = parser.parse_args()
    phases = [int(n) for n in args.phases.split(",") if n.strip()]

    tmp = tempfile.mkdtemp(prefix="bench-draft-pdf-")
    url, name = benchlib.create_postgres_database(args.postgres, "bench_draft_pdf")
    os.environ.update(
        DATABASE_URL=url,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="false",
        ALLOWED_HOSTS=HOST,
        MEDIA_ROOT=f"{tmp}/media",
        SEAL_DIR=f"{tmp}/seal",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="mentorship.settings",
    )
    server = worker = None
    completed = False
    server_log = open(f"{tmp}/gunicorn.log", "w+")  # noqa: SIM115 - closed in finally
    worker_log = open(f"{tmp}/worker.log", "w+")  # noqa: SIM115
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections
        from django.urls import reverse

        started = time.time()
        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        call_command("create_seal_keys", stdout=io.StringIO())
        draft, email, pdf_path, summary = create_worst_draft(args.text)
        login_path = reverse("login")
        connections.close_all()
        print(f"database {name}: migrated and seeded in {time.time() - started:.1f} s")
        print(f"draft: {summary}")

        port = benchlib.free_port()
        command = [sys.executable, "-m", "gunicorn", "mentorship.wsgi", "-b", f"{HOST}:{port}"]
        if args.gunicorn_config:
            command += ["-c", args.gunicorn_config]
        if args.workers or not args.gunicorn_config:
            command += ["--workers", str(args.workers or 2), "--worker-class", "sync"]
        server = benchlib.start_process(command, os.environ.copy(), server_log)
        if not wait_until_up(port, login_path, server, time.time() + 60):
            raise SystemExit("gunicorn did not answer within 60 s")
        if args.worker_cmd:
            argv = shlex.split(args.worker_cmd)
            if argv[0].endswith(".py"):
                argv = [sys.executable, str(ROOT / argv[0]), *argv[1:]]
            worker = benchlib.start_process(argv, os.environ.copy(), worker_log)
            time.sleep(2)
            if worker.poll() is not None:
                raise SystemExit(f"the worker exited with {worker.returncode}")
        print(f"web: {shlex.join(command[2:])}")
        print(f"task worker: {args.worker_cmd or 'none'}")

        visitor = log_in(port, login_path, email, time.time() + 30)
        memory_rows = [("after login", {pid: memory(pid) for pid in children(server.pid)})]
        print(f"web workers: {len(memory_rows[0][1])}, pids {sorted(memory_rows[0][1])}")

        warm_up(port, login_path, len(memory_rows[0][1]))
        print(f"\nbaseline: the login page alone for {args.baseline:.0f} s ...", flush=True)
        poller = LoginPoller(port, login_path, args.poll_interval, time.time() + args.baseline)
        poller.start()
        poller.join(args.baseline + 65)
        rows = [("no PDF load", "", latency_figures(poller.finish(), poller.errors))]
        pages = None
        for number, concurrency in enumerate(phases):
            touch_draft(draft, number)
            print(f"{concurrency} concurrent draft PDF download(s) ...", flush=True)
            results, timings, errors, took = run_phase(
                port, visitor, pdf_path, login_path, concurrency, args
            )
            if pages is None:
                pdf = next((r["body"] for r in results if r.get("ok")), None)
                if pdf:
                    pages = f"{page_count(pdf)} pages, {len(pdf) / 1e6:.1f} MB"
            ok = sum(1 for r in results if r.get("ok"))
            times = sorted(r["seconds"] for r in results if r.get("ok"))
            polls = sum(r.get("polls", 0) for r in results)
            pdf_column = (
                f"{ok:2d}/{concurrency:<2d} {times[0]:6.1f} {statistics.median(times):6.1f} "
                f"{times[-1]:6.1f} {polls:5d}"
                if times
                else f"{ok:2d}/{concurrency:<2d} {'-':>6} {'-':>6} {'-':>6} {polls:5d}"
            )
            rows.append((f"{concurrency} concurrent", pdf_column, latency_figures(timings, errors)))
            per_request = "  ".join(
                f"{r['seconds']:.1f}" + ("" if r.get("ok") else f" ({r.get('error')})")
                for r in results
            )
            print(f"    phase took {took:.1f} s; time to PDF per request (s): {per_request}")
            memory_rows.append(
                (f"after {concurrency}", {pid: memory(pid) for pid in children(server.pid)})
            )

        print(f"\ndraft PDF: {pages or 'none downloaded'}")
        print(
            f"login page: an anonymous GET every {args.poll_interval * 1000:.0f} ms, one at a "
            "time, while the phase's downloads ran"
        )
        print(
            f"\n{'phase':<14} {'PDFs':>5} {'time to PDF (s)':^20} {'polls':>5}   "
            f"{'login page (ms)':^33} {'over 1 s':^13}"
        )
        print(
            f"{'':<14} {'ok':>5} {'min':>6} {'median':>6} {'max':>6} {'':>5}   "
            f"{'count':>5} {'p50':>8} {'p95':>8} {'max':>8} {'count':>5} {'in s':>7}"
        )
        for label, pdf_column, login_column in rows:
            print(f"{label:<14} {pdf_column or '':<32}   {login_column}")

        print("\nweb worker memory, RSS / peak RSS (MB)")
        pids = sorted({pid for _label, snapshot in memory_rows for pid in snapshot})
        print(f"{'':<14}" + "".join(f"{'pid ' + str(pid):>18}" for pid in pids))
        for label, snapshot in memory_rows:
            cells = []
            for pid in pids:
                figures = snapshot.get(pid)
                cells.append(f"{figures[0]:8.0f} / {figures[1]:5.0f}" if figures else f"{'-':>16}")
            print(f"{label:<14}" + "".join(f"{cell:>18}" for cell in cells))
        server_log.seek(0)
        timeouts = [line for line in server_log if "WORKER TIMEOUT" in line]
        if timeouts:
            print(f"\ngunicorn killed {len(timeouts)} web worker(s) for taking too long:")
            print("".join(timeouts), end="")
        if worker is not None and worker.poll() is not None:
            print(f"\nthe task worker exited during the run, with {worker.returncode}")
        completed = True
    finally:
        benchlib.stop_process(server)
        benchlib.stop_process(worker)
        if not completed:
            for label, log in (("gunicorn", server_log), ("the task worker", worker_log)):
                log.seek(0)
                lines = log.readlines()[-20:]
                if lines:
                    print(f"{label}'s output, last lines:\n" + "".join(lines), end="")
        server_log.close()
        worker_log.close()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
            pass
        benchlib.drop_postgres_database(args.postgres, name)
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"dropped database {name}")


if __name__ == "__main__":
    # SIGTERM runs the clean-up in main()'s finally, as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    main()
