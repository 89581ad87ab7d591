"""The emails Django's file backend wrote, read back for the Sent emails page.

With ``EMAIL_BACKEND`` set to the file backend (as ``make demo`` sets it)
nothing is sent: each connection appends its messages to a file of its own
under ``EMAIL_FILE_PATH``, each message followed by a line of 79 dashes. The
messages themselves are parsed by the standard library's ``email`` package.
It is a demo's reader: every page view reads and parses the whole folder.
"""

from __future__ import annotations

import datetime
import email
import email.policy
import email.utils
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext_lazy

FILE_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
# What the file backend writes after each message.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"
# The names it gives its files: <date>-<time>-<a number>.log. Nothing else
# in the folder is read.
FILE_NAME = re.compile(r"\d{8}-\d{6}-\d+\.log")
# Where a message without a readable date sorts: last.
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)


@dataclass(frozen=True)
class SentEmail:
    key: str  # the file's name and the message's place in it
    sent_at: datetime.datetime | None
    to: str
    subject: str
    body: str


def writes_files() -> bool:
    return settings.EMAIL_BACKEND == FILE_BACKEND


# Where Django's own backends put an email, in words.
_WHERE = {
    FILE_BACKEND: gettext_lazy("They are written as files to %(path)s, and not sent."),
    "django.core.mail.backends.console.EmailBackend": gettext_lazy(
        "They are printed on the output of the task worker (manage.py qcluster), and not sent."
    ),
    "django.core.mail.backends.smtp.EmailBackend": gettext_lazy(
        "They are sent through the mail server %(host)s:%(port)s."
    ),
    "django.core.mail.backends.locmem.EmailBackend": gettext_lazy(
        "They are kept in memory (the test backend), and not sent."
    ),
    "django.core.mail.backends.dummy.EmailBackend": gettext_lazy(
        "They are thrown away (the dummy backend)."
    ),
}


def where_emails_go() -> str:
    """Where this installation's emails go, in words."""
    text = _WHERE.get(
        settings.EMAIL_BACKEND, gettext_lazy("They go to the email backend %(backend)s.")
    )
    return str(text) % {
        "path": settings.EMAIL_FILE_PATH,
        "host": settings.EMAIL_HOST,
        "port": settings.EMAIL_PORT,
        "backend": settings.EMAIL_BACKEND,
    }


def sent_emails(directory: Path) -> list[SentEmail]:
    """Every email the file backend wrote under ``directory``, newest first."""
    if not directory.is_dir():
        return []
    found = []
    for path in directory.iterdir():
        if not FILE_NAME.fullmatch(path.name):
            continue
        modified = path.stat().st_mtime_ns
        # A file the worker is still writing ends mid-message; that message
        # shows as far as it goes.
        for index, raw in enumerate(path.read_bytes().split(SEPARATOR)):
            if raw.strip():
                sent = _parse(raw, f"{path.stem}-{index}")
                found.append(((sent.sent_at or _EPOCH, modified, index), sent))
    found.sort(key=lambda pair: pair[0], reverse=True)
    return [sent for _order, sent in found]


def _parse(raw: bytes, key: str) -> SentEmail:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    return SentEmail(
        key=key,
        sent_at=_date(message["Date"]),
        # A long or non-ASCII header is folded onto the next line: strip it.
        to=str(message["To"] or "").strip(),
        subject=str(message["Subject"] or "").strip(),
        body=body.get_content().rstrip() if body is not None else "",
    )


def _date(header: object) -> datetime.datetime | None:
    if header is None:
        return None
    try:
        sent_at = email.utils.parsedate_to_datetime(str(header))
    except (TypeError, ValueError):
        return None
    # "-0000" (what Django writes unless EMAIL_USE_LOCALTIME) means UTC.
    return sent_at if sent_at.tzinfo else sent_at.replace(tzinfo=datetime.UTC)
