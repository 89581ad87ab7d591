"""Checking a CSV file of pairings before any of them is created.

The file is checked twice: when uploaded (to show the admin every problem)
and again, from the same text, when the admin confirms.
"""

import csv
import dataclasses
import datetime
import io
import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from agreements.models import Agreement, User
from agreements.models.users import email_key, name_fault
from agreements.services import template_dates, template_problems

MAX_BYTES = 1024 * 1024
MAX_ROWS = 2000
NAME_LIMIT = User._meta.get_field("full_name").max_length
EMAIL_LIMIT = User._meta.get_field("email").max_length

REQUIRED = ("mentor_email", "mentor_name", "mentee_email", "mentee_name")
OPTIONAL = ("start_date", "exit_date")
COLUMNS = REQUIRED + OPTIONAL
LABELS = {
    "mentor_email": gettext_lazy("Mentor's email"),
    "mentor_name": gettext_lazy("Mentor's name"),
    "mentee_email": gettext_lazy("Mentee's email"),
    "mentee_name": gettext_lazy("Mentee's name"),
    "start_date": gettext_lazy("Start date"),
    "exit_date": gettext_lazy("Exit date"),
}
# A spreadsheet opening the file, or a later export of these values, could
# run a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = {
    "=": "“=”",
    "+": "“+”",
    "-": "“-”",
    "@": "“@”",
    "\t": gettext_lazy("a tab"),
    "\r": gettext_lazy("a carriage return"),
}
DATE_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}")
FIRST_YEAR, LAST_YEAR = 1900, 2999


def too_big():
    return ValidationError(
        _(
            # Translators: %(max)s is the most pairings a file may hold, such as "2,000".
            "The file is larger than 1 MB. Import at most %(max)s pairings at a time: split the "
            "file into several."
        ),
        code="too_big",
        params={"max": number_format(MAX_ROWS, force_grouping=True)},
    )


@dataclasses.dataclass
class Person:
    name: str
    email: str
    # The existing account with this email, if any.
    account: User | None = None


@dataclasses.dataclass
class ImportRow:
    """One line of the file: what it asks for, and what is wrong with it."""

    line: int
    cells: dict
    mentor: Person
    mentee: Person
    start_date: datetime.date | None = None
    exit_date: datetime.date | None = None
    # The exit date the agreement will get: the program's term may supply it.
    term_exit: datetime.date | None = None
    problems: list = dataclasses.field(default_factory=list)
    notes: list = dataclasses.field(default_factory=list)

    @property
    def people(self):
        return (self.mentor, self.mentee)

    @property
    def exit_from_term(self):
        return self.term_exit is not None and self.exit_date is None


def decode(data):
    """The text of an uploaded file, or a ValidationError saying why it is not one."""
    if len(data) > MAX_BYTES:
        raise too_big()
    if b"\x00" in data:
        raise ValidationError(
            _(
                "The file contains NUL bytes, so it is not a plain-text CSV file. From a "
                "spreadsheet, save it as “CSV UTF-8 (comma delimited)”."
            ),
            code="nul_bytes",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError(
            _(
                "The file is not in UTF-8, so its names cannot be read reliably. From a "
                "spreadsheet, save it as “CSV UTF-8 (comma delimited)”."
            ),
            code="not_utf8",
        ) from None


def read_records(text):
    """(column names, [(line number, cells)]) of a CSV text, after the file-level checks."""
    text = text.removeprefix("\ufeff")
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise too_big()
    if "\x00" in text:
        raise ValidationError(_("The file contains NUL bytes."), code="nul_bytes")
    if not text.strip():
        raise ValidationError(_("The file is empty."), code="empty")
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records, line = [], 0
    try:
        for cells in reader:
            # A quoted value may span lines: a record starts after the previous one.
            start, line = line + 1, reader.line_num
            if any(cell.strip() for cell in cells):
                records.append((start, cells))
                if len(records) > MAX_ROWS + 1:
                    raise ValidationError(
                        _(
                            "The file has more than %(max)s pairings. Import at most %(max)s at "
                            "a time: split the file into several."
                        ),
                        code="too_many_rows",
                        params={"max": number_format(MAX_ROWS, force_grouping=True)},
                    )
    except csv.Error as exc:
        raise ValidationError(
            _(
                # Translators: %(error)s is Python's own description of the fault, in English.
                "This is not a CSV file that can be read: line %(line)s is malformed "
                "(%(error)s). A value containing a comma or a double quote must be in double "
                "quotes, with each double quote inside doubled."
            ),
            code="not_csv",
            params={"line": reader.line_num, "error": exc},
        ) from None
    if not records:
        raise ValidationError(_("The file has no values in it, only commas."), code="empty")
    _line, header = records[0]
    columns = _columns(header)
    if len(records) == 1:
        raise ValidationError(
            _("The file names its columns but has no pairings below them."), code="no_rows"
        )
    return columns, records[1:]


def _columns(header):
    columns = [cell.strip().lower() for cell in header]
    if len(columns) == 1 and (";" in columns[0] or "\t" in columns[0]):
        raise ValidationError(
            _(
                "The columns are separated by semicolons; separate them with commas. From a "
                "spreadsheet, save the file as “CSV UTF-8 (comma delimited)”."
            )
            if ";" in columns[0]
            else _(
                "The columns are separated by tabs; separate them with commas. From a "
                "spreadsheet, save the file as “CSV UTF-8 (comma delimited)”."
            ),
            code="wrong_separator",
        )
    missing = [name for name in REQUIRED if name not in columns]
    if len(missing) == len(REQUIRED):
        # Probably not a file of pairings at all: its other columns do not matter.
        raise ValidationError(
            _(
                # Translators: %(names)s lists column names, which stay as they are.
                "The first line must name the columns, and it names none of the required "
                "ones: %(names)s. Is this the CSV file of pairings?"
            ),
            code="missing_columns",
            params={"names": ", ".join(missing)},
        )
    errors = []
    unnamed = [str(number) for number, name in enumerate(columns, 1) if not name]
    if unnamed:
        errors.append(
            ValidationError(
                ngettext(
                    # Translators: %(numbers)s lists column numbers, such as "2, 5".
                    "The first line leaves column %(numbers)s without a name: name or remove it.",
                    "The first line leaves columns %(numbers)s without a name: name or remove "
                    "them.",
                    len(unnamed),
                ),
                code="unnamed_column",
                params={"numbers": ", ".join(unnamed)},
            )
        )
    twice = sorted({name for name in columns if name and columns.count(name) > 1})
    if twice:
        errors.append(
            ValidationError(
                _("The first line names these columns more than once: %(names)s."),
                code="duplicate_column",
                params={"names": ", ".join(twice)},
            )
        )
    unknown = [name for name in dict.fromkeys(columns) if name and name not in COLUMNS]
    if unknown:
        errors.append(
            ValidationError(
                _(
                    "The first line names columns this import does not know: %(names)s. "
                    "Remove them; the columns are %(columns)s."
                ),
                code="unknown_columns",
                params={"names": ", ".join(unknown), "columns": ", ".join(COLUMNS)},
            )
        )
    if missing:
        errors.append(
            ValidationError(
                _("The first line does not name the required columns %(names)s."),
                code="missing_columns",
                params={"names": ", ".join(missing)},
            )
        )
    if errors:
        raise ValidationError(errors)
    return columns


def _formula_problem(name, raw):
    stripped = raw.strip(" ")
    for value in (raw, stripped):
        if value[:1] in FORMULA_STARTS:
            message = _(
                # Translators: %(column)s is a column's label, such as "Mentor's email";
                # %(start)s the character it starts with, such as "“=”" or "a tab".
                "%(column)s starts with %(start)s, so it looks like a spreadsheet formula. Such "
                "values are refused rather than changed: correct the cell."
            )
            return message % {"column": LABELS[name], "start": FORMULA_STARTS[value[0]]}
    return None


def _missing(name):
    # Translators: %(column)s is a column's label, such as "Mentor's email".
    return _("%(column)s is missing.") % {"column": LABELS[name]}


def _too_long(name, limit):
    message = ngettext(
        # Translators: %(column)s is a column's label, such as "Mentor's name".
        "%(column)s is longer than %(limit)s character.",
        "%(column)s is longer than %(limit)s characters.",
        limit,
    )
    return message % {"column": LABELS[name], "limit": limit}


def _name(name, value, problems):
    value = " ".join(value.split())
    if not value:
        problems.append(_missing(name))
    elif len(value) > NAME_LIMIT:
        problems.append(_too_long(name, NAME_LIMIT))
    elif (fault := name_fault(value)) == "control_character":
        # Translators: %(column)s is a column's label, such as "Mentor's name".
        problems.append(_("%(column)s contains a control character.") % {"column": LABELS[name]})
    elif fault == "format_character":
        message = _(
            # Translators: %(column)s is a column's label, such as "Mentor's name".
            "%(column)s contains invisible characters that can change how it is displayed, "
            "such as direction marks: remove them."
        )
        problems.append(message % {"column": LABELS[name]})
    return value


def _email(name, value, problems):
    value = email_key(value)
    if not value:
        problems.append(_missing(name))
    elif len(value) > EMAIL_LIMIT:
        problems.append(_too_long(name, EMAIL_LIMIT))
    else:
        try:
            validate_email(value)
        except ValidationError:
            # Translators: %(column)s is a column's label, %(value)s the value in the cell.
            message = _("%(column)s “%(value)s” is not a valid email address.")
            problems.append(message % {"column": LABELS[name], "value": value})
    return value


def _date(name, value, problems):
    value = value.strip()
    if not value:
        return None
    cell = {"column": LABELS[name], "value": value}
    if not DATE_FORMAT.fullmatch(value):
        # Translators: %(column)s is a column's label, %(value)s the value in the cell.
        # Keep YYYY-MM-DD and 2027-01-04 as they are: the file must use this format.
        message = _("%(column)s “%(value)s” is not a date written YYYY-MM-DD, such as 2027-01-04.")
        problems.append(message % cell)
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        # Translators: %(column)s is a column's label, %(value)s the value in the cell.
        problems.append(_("%(column)s “%(value)s” is not a date that exists.") % cell)
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        # Translators: %(column)s is a column's label, %(value)s the value in the cell.
        problems.append(_("%(column)s “%(value)s” is not a plausible year.") % cell)
        return None
    return day


def _row(program, line, columns, cells):
    """One line's values and the problems that need no database."""
    problems = []
    if len(cells) > len(columns):
        message = ngettext(
            # Translators: %(values)s and %(columns)s are numbers; the plural form follows
            # %(columns)s (there are always more values than columns, and at least two values).
            "This line has %(values)s values but the first line names %(columns)s column. A "
            "value containing a comma must be in double quotes.",
            "This line has %(values)s values but the first line names %(columns)s columns. A "
            "value containing a comma must be in double quotes.",
            len(columns),
        )
        problems.append(message % {"values": len(cells), "columns": len(columns)})
    raw = dict.fromkeys(COLUMNS, "")
    raw.update(zip(columns, cells, strict=False))
    clean = {}
    for name in COLUMNS:
        formula = _formula_problem(name, raw[name]) if raw[name] else None
        if formula:
            problems.append(formula)
            clean[name] = None
        elif name.endswith("_name"):
            clean[name] = _name(name, raw[name], problems)
        elif name.endswith("_email"):
            clean[name] = _email(name, raw[name], problems)
        else:
            clean[name] = _date(name, raw[name], problems)
    row = ImportRow(
        line=line,
        cells={name: " ".join(value.split()) for name, value in raw.items()},
        mentor=Person(clean["mentor_name"] or "", clean["mentor_email"] or ""),
        mentee=Person(clean["mentee_name"] or "", clean["mentee_email"] or ""),
        start_date=clean["start_date"],
        exit_date=clean["exit_date"],
        problems=problems,
    )
    if row.mentor.email and row.mentor.email == row.mentee.email:
        problems.append(_("A person cannot mentor themselves: choose two different people."))
    start, exit_ = row.start_date, row.exit_date
    if exit_ and not start and not raw["start_date"].strip():
        problems.append(_("An exit date needs a start date."))
    elif start and exit_ and exit_ <= start:
        problems.append(_("The exit date must be after the start date."))
    elif start:
        row.term_exit, _checkins = template_dates(program, start, exit_)
        problems.extend(template_problems(program, start, exit_))
    return row


def check_rows(program, columns, records):
    """Every line's problems and notes, in two queries whatever the number of lines."""
    rows = [_row(program, line, columns, cells) for line, cells in records]
    emails = {person.email for row in rows for person in (row.mentor, row.mentee) if person.email}
    accounts = {user.email: user for user in User.objects.filter(email__in=emails)}
    open_pairings = set()
    if accounts:
        ids = [user.pk for user in accounts.values()]
        open_pairings = set(
            Agreement.objects.filter(program=program, mentor__in=ids, mentee__in=ids)
            .exclude(status=Agreement.Status.ENDED)
            .values_list("mentor_id", "mentee_id")
        )
    seen_pairings, new_names = {}, {}
    for row in rows:
        for person in (row.mentor, row.mentee):
            if not person.email:
                continue
            person.account = accounts.get(person.email)
            if person.account is None:
                first = new_names.setdefault(person.email, (row.line, person.name))
                if first[0] != row.line and first[1] != person.name:
                    message = _(
                        # Translators: %(email)s is an email address, %(line)s a line number and
                        # %(name)s the name given there.
                        "%(email)s is on line %(line)s as “%(name)s”: the new account takes that "
                        "name."
                    )
                    row.notes.append(
                        message % {"email": person.email, "line": first[0], "name": first[1]}
                    )
            elif not person.account.is_active:
                # Translators: %(email)s is an email address.
                message = _("%(email)s has an account that is deactivated: it cannot be paired.")
                row.problems.append(message % {"email": person.email})
            elif person.account.full_name != person.name:
                # Translators: %(email)s is an email address.
                message = _("%(email)s has an account already: it keeps the name on it.")
                row.notes.append(message % {"email": person.email})
        mentor, mentee = row.mentor, row.mentee
        if not (mentor.email and mentee.email) or mentor.email == mentee.email:
            continue
        first_line = seen_pairings.setdefault((mentor.email, mentee.email), row.line)
        if first_line != row.line:
            # Translators: %(line)s and %(first)s are line numbers of the file.
            message = _("Line %(line)s repeats the pairing on line %(first)s: remove one of them.")
            row.problems.append(message % {"line": row.line, "first": first_line})
        if (
            mentor.account
            and mentee.account
            and (mentor.account.pk, mentee.account.pk) in open_pairings
        ):
            # Translators: %(mentor)s and %(mentee)s are people, by name or email address.
            message = _("%(mentor)s already mentors %(mentee)s in this program.")
            row.problems.append(
                message % {"mentor": mentor.account.full_name, "mentee": mentee.account.full_name}
            )
    return rows
