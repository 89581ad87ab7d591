"""Real processes and servers for the fault tests (tests/test_faults.py): the
task worker (``manage.py qcluster``) on the test database, a local SMTP
server, a small tmpfs, and bounded waits that say what they were waiting for."""

import collections
import contextlib
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import override_settings

from agreements import emails
from agreements.models import Effect, User

BASE_DIR = Path(__file__).resolve().parent.parent
DEADLINE = 90
# Long enough for a stray retry or a second delivery to show up.
SETTLE = 4


class Worker:
    """One ``manage.py qcluster`` in a process group of its own, so the whole
    cluster (main process, sentinel, pusher, monitor, workers) dies at once."""

    def __init__(self, env, log_path):
        self.log_path = log_path
        self.killed = False
        self._log = open(log_path, "wb")  # closed in kill()
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self):
        return self.process.poll() is None

    def output(self, limit=6000):
        text = self.log_path.read_text(errors="replace")
        return text[-limit:]

    def tasks_started(self):
        return self.log_path.read_text(errors="replace").count(" processing ")

    def wait_until_running(self):
        wait_until(
            lambda: "running." in self.log_path.read_text(errors="replace"),
            "the cluster to start",
            workers=[self],
        )

    def kill(self):
        """SIGKILL, as the OOM killer or a lost machine would: no clean-up runs."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._log.close()


def describe(workers=()):
    lines = ["Effects (key, state, attempts, last error):"]
    for effect in Effect.objects.order_by("created_at"):
        lines.append(f"  {effect.key} {effect.state} {effect.attempts} {effect.last_error[:300]!r}")
    for number, worker in enumerate(workers, start=1):
        state = "killed" if worker.killed else f"exit code {worker.process.poll()}"
        lines.append(f"--- worker {number} ({state}), {worker.log_path}:\n{worker.output()}")
    return "\n".join(lines)


def wait_until(check, what, *, workers=(), deadline=DEADLINE, interval=0.1):
    """``check()``'s first true value, polled until ``deadline`` seconds; fails
    with the effects and the workers' output if it never comes, or at once if
    a worker that should be running has exited."""
    stop = time.monotonic() + deadline
    while True:
        value = check()
        if value:
            return value
        exited = [worker for worker in workers if not worker.killed and not worker.alive]
        if exited:
            pytest.fail(f"A worker exited while waiting for {what}.\n{describe(workers)}")
        if time.monotonic() > stop:
            pytest.fail(f"Gave up after {deadline} s waiting for {what}.\n{describe(workers)}")
        time.sleep(interval)


class MailSink:
    """A local SMTP server (aiosmtpd) that keeps each message's recipients and
    subject; the port is chosen up front, so it can be down, then up."""

    def __init__(self):
        # While the server is down its port stays taken by a socket that is
        # bound but not listening: a connection is refused, as by a closed
        # port, and no other test (another xdist worker's) can be given it.
        self._reservation = socket.socket()
        self._reservation.bind(("127.0.0.1", 0))
        self.port = self._reservation.getsockname()[1]
        self.received = []
        self._lock = threading.Lock()
        self._controller = None

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        subject = " ".join(str(message["Subject"]).split())
        with self._lock:
            self.received.extend((recipient, subject) for recipient in envelope.rcpt_tos)
        return "250 Message accepted for delivery"

    def start(self):
        self._reservation.close()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self):
        self._reservation.close()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def counts(self):
        with self._lock:
            return collections.Counter(self.received)


def expected_emails(effects):
    """(recipient, subject) of each email effect, as the app's own email
    functions write them now, for comparing with what the SMTP server got."""
    expected = collections.Counter()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        for effect in effects:
            assert effect.kind == Effect.Kind.EMAIL, effect.key
            args = dict(effect.args)
            name, to = args.pop("email"), User.objects.get(pk=args.pop("to"))
            mail.outbox = []
            emails.EMAILS[name](to, **args)
            (message,) = mail.outbox
            expected[(to.email, " ".join(message.subject.split()))] += 1
        mail.outbox = []
    return expected


class Tmpfs:
    """A tmpfs of a given size (the test runs as root), for a full disk."""

    def __init__(self, path):
        self.path = path
        self.mounted = False

    def _mount(self, *args):
        result = subprocess.run(  # noqa: S603
            ["mount", *args],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode:
            pytest.fail(
                f"Could not run mount {' '.join(args)}: {result.stderr.strip()} "
                "(this test needs root and the right to mount a tmpfs)."
            )

    def mount(self, size):
        self.path.mkdir(parents=True, exist_ok=True)
        self._mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(self.path))
        self.mounted = True

    def resize(self, size):
        self._mount("-o", f"remount,size={size}", str(self.path))

    def unmount(self):
        if self.mounted:
            subprocess.run(["umount", str(self.path)], check=True)  # noqa: S603, S607
            self.mounted = False
