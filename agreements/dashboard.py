"""The program review dashboard: every pairing's metadata, flags and a summary.

Everything here is read from metadata the agreement row keeps (status, the
dates of the version in force or, before anything is signed, of the draft,
signatures, check-ins held and overdue: ``agreements.models.overview``), so
the page runs a fixed number of queries, each bounded by the page it shows,
however many pairings there are. No query reads the text a pair wrote:
search and sort only ever touch names, emails, states and dates.
"""

import csv
import datetime
import io
import itertools

from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, ExpressionWrapper, F, Q
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext, pgettext, pgettext_lazy

from agreements.models import Agreement, Program, User

Status = Agreement.Status


EXIT_SOON_DAYS = 30

# Active and holding fewer than half the meetings its rhythm promised lately
# (``agreements.models.outcomes``): the flag, and the Outcomes page's count.
IS_FADING = Q(status=Status.ACTIVE, fading=True)


class Flag(models.TextChoices):
    UNSIGNED = "unsigned", gettext_lazy("Unsigned too long")
    CHECKIN_OVERDUE = "overdue", gettext_lazy("Check-in overdue")
    EXIT_SOON = "exit_soon", gettext_lazy("Exit within 30 days")
    FADING = "fading", gettext_lazy("Fading: fewer than half the agreed meetings in 60 days")

    def label_in(self, program, *, short=False):
        """The label, with the program's own "unsigned after" days in it;
        ``short``: as a badge on a pairing says it."""
        if self == Flag.FADING and short:
            return pgettext("a short flag on a pairing", "Fading")
        if self != Flag.UNSIGNED:
            return self.label
        days = program.unsigned_flag_days
        # The English reads the same for one day as for several; other
        # languages get their plural forms.
        if short:
            # Translators: a short flag on a pairing; %(days)s is a number of days.
            label = ngettext("Unsigned %(days)s+ days", "Unsigned %(days)s+ days", days)
        else:
            # Translators: %(days)s is a number of days.
            label = ngettext("Unsigned after %(days)s days", "Unsigned after %(days)s days", days)
        return label % {"days": days}

    @classmethod
    def choices_in(cls, program):
        return [(flag.value, flag.label_in(program)) for flag in cls]


# ?sort= values: the column each sorts by. A leading "-" reverses it.
SORTS = {
    "mentor": "mentor_name",
    "mentee": "mentee_name",
    "status": "status_order",
    "created": "created_at",
    "start": "start_on",
    "exit": "exit_on",
    "checkin": "next_checkin",
    "activity": "last_activity_at",
}
DEFAULT_SORT = "-activity"
# The sortable columns of the dashboard, in order.
COLUMNS = [
    ("mentor", gettext_lazy("Mentor")),
    ("mentee", gettext_lazy("Mentee")),
    ("status", gettext_lazy("Status")),
    ("created", pgettext_lazy("dashboard column: when the pairing was made", "Created")),
    ("start", pgettext_lazy("dashboard column: the start date", "Start")),
    ("exit", pgettext_lazy("dashboard column: the exit date", "Exit")),
    ("checkin", gettext_lazy("Next check-in")),
    ("activity", gettext_lazy("Last activity")),
]
# The sort menu: every order the column headers give, in words, for a phone,
# where the pairings show as cards without headers to click.
SORT_CHOICES = [
    ("-activity", gettext_lazy("Last activity, most recent first")),
    ("activity", gettext_lazy("Last activity, least recent first")),
    ("mentor", gettext_lazy("Mentor, A to Z")),
    ("-mentor", gettext_lazy("Mentor, Z to A")),
    ("mentee", gettext_lazy("Mentee, A to Z")),
    ("-mentee", gettext_lazy("Mentee, Z to A")),
    ("status", gettext_lazy("Status, drafts first")),
    ("-status", gettext_lazy("Status, ended first")),
    ("-created", gettext_lazy("Created, newest first")),
    ("created", gettext_lazy("Created, oldest first")),
    ("start", gettext_lazy("Start, earliest first")),
    ("-start", gettext_lazy("Start, latest first")),
    ("exit", gettext_lazy("Exit, soonest first")),
    ("-exit", gettext_lazy("Exit, latest first")),
    ("checkin", gettext_lazy("Next check-in, soonest first")),
    ("-checkin", gettext_lazy("Next check-in, latest first")),
]


class Filters:
    """What the admin asked for: status, flag, search text and sort order,
    read from the query string; unknown values fall back to "everything"."""

    def __init__(self, params):
        self.status = params.get("status", "")
        if self.status not in Status.values:
            self.status = ""
        self.flag = params.get("flag", "")
        if self.flag not in Flag.values:
            self.flag = ""
        # NUL cannot reach a database query; over-long text is cut.
        self.q = params.get("q", "").replace("\x00", "").strip()[:200]
        self.sort = params.get("sort", DEFAULT_SORT)
        if self.sort.lstrip("-") not in SORTS:
            self.sort = DEFAULT_SORT

    def sort_on(self, key):
        """The sort a click on column ``key`` asks for: the other direction of
        the current column; names A to Z and dates newest first otherwise."""
        if self.sort.lstrip("-") == key:
            return key if self.sort.startswith("-") else f"-{key}"
        return key if key in {"mentor", "mentee", "status"} else f"-{key}"

    def query(self, **changes):
        """The query string for these filters with some changed (for links)."""
        params = QueryDict(mutable=True)
        for key in ("status", "flag", "q", "sort"):
            value = changes.get(key, getattr(self, key))
            if value and not (key == "sort" and value == DEFAULT_SORT):
                params[key] = value
        return params.urlencode()


def _flag_conditions(program, today, now):
    """{flag: Q} over plain, indexed columns of the agreement."""
    return {
        Flag.UNSIGNED: Q(
            status__in=[Status.DRAFT, Status.AWAITING_SIGNATURES],
            created_at__lt=now - datetime.timedelta(days=program.unsigned_flag_days),
        ),
        Flag.CHECKIN_OVERDUE: Q(status=Status.ACTIVE, checkins_overdue__gt=0),
        Flag.EXIT_SOON: Q(
            status=Status.ACTIVE,
            exit_on__gte=today,
            exit_on__lte=today + datetime.timedelta(days=EXIT_SOON_DAYS),
        ),
        Flag.FADING: IS_FADING,
    }


def bring_up_to_date(program):
    """Bring the program's dashboard columns to today, if the daily
    ``end_agreements`` has not yet (``agreements.models.overview``). Ended
    pairings keep the columns they had when they ended."""
    today = timezone.localdate()
    if program.overview_as_of == today:
        return
    Agreement.objects.filter(program=program).exclude(status=Status.ENDED).refresh_overview(today)
    Program.objects.filter(pk=program.pk).update(overview_as_of=today)
    program.overview_as_of = today


def pairings(program, *, today, now=None):
    """The program's pairings with their flags: every column is one of the
    agreement row's (``agreements.models.overview``), so sorting, filtering
    and paging use its indexes, whatever the program's size."""
    now = now or timezone.now()
    bring_up_to_date(program)
    return Agreement.objects.filter(program=program).annotate(
        **{
            f"flag_{flag}": ExpressionWrapper(condition, output_field=models.BooleanField())
            for flag, condition in _flag_conditions(program, today, now).items()
        }
    )


def with_parties(rows):
    """Load the parties of a page's pairings in one query: joining the users
    into the paged query would join every pairing of the program before the
    page is cut from them."""
    rows = list(rows)
    people = User.objects.in_bulk({row.mentor_id for row in rows} | {row.mentee_id for row in rows})
    for row in rows:
        row.mentor, row.mentee = people[row.mentor_id], people[row.mentee_id]
    return rows


def filtered(program, filters, *, today, now=None):
    now = now or timezone.now()
    queryset = pairings(program, today=today, now=now)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.flag:
        queryset = queryset.filter(_flag_conditions(program, today, now)[Flag(filters.flag)])
    if filters.q:
        queryset = queryset.filter(_with_people_found(filters.q))
    column = SORTS[filters.sort.lstrip("-")]
    descending = filters.sort.startswith("-")
    # Empty dates sort last either way. NULLS LAST only where a column can be
    # empty: on one that cannot, it would keep PostgreSQL from reading the
    # descending order backwards off the column's index.
    nulls = {"nulls_last": True} if Agreement._meta.get_field(column).null else {}
    order = F(column).desc(**nulls) if descending else F(column).asc(**nulls)
    return queryset.order_by(order, "-pk" if descending else "pk")


# A search that finds up to this many people looks their pairings up by id.
SEARCH_PEOPLE = 2000


def _with_people_found(q):
    """Pairings whose mentor or mentee has ``q`` in their name or email. Names
    and emails only: the search never looks at what a pair wrote.

    The people are found first, in a query of their own (a trigram index on
    PostgreSQL), and their pairings then by id, through the indexes on
    mentor and mentee. Left inside the pairings' query, the people's search
    ran once per party and the pairings were scanned whole, however few the
    people found. A search too broad for that (more than ``SEARCH_PEOPLE``
    people) stays one query, which then scans anyway."""
    people = (
        User.objects.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
        .order_by()  # the users' default order would sort every match first
        .values("pk")
    )
    found = [row["pk"] for row in people[: SEARCH_PEOPLE + 1]]
    if len(found) <= SEARCH_PEOPLE:
        return Q(mentor__in=found) | Q(mentee__in=found)
    return Q(mentor__in=people) | Q(mentee__in=people)


class Pages(Paginator):
    """Django's paginator, told how many rows there are where the summary has
    counted them already: then no query counts the program's pairings again.

    A page past the middle is read from the end: in the reverse order, the
    rows after it skipped, and turned back here. The database reads every
    row an OFFSET skips, so the last page would otherwise cost more the larger
    the program is; this way it costs what the first page does. ``object_list``
    is an ordered queryset.
    """

    def __init__(self, object_list, per_page, *, count=None):
        super().__init__(object_list, per_page)
        if count is not None:
            self.count = count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if bottom <= self.count // 2:
            return super().page(number)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = list(self.object_list.reverse()[self.count - top : self.count - bottom])
        rows.reverse()
        return self._get_page(rows, number, self)


def counted(summary, filters):
    """How many pairings the filters show, if the summary says; else None."""
    if filters.q or (filters.status and filters.flag):
        return None
    if filters.status:
        return next(s["count"] for s in summary["statuses"] if s["value"] == filters.status)
    if filters.flag:
        return next(f["count"] for f in summary["flags"] if f["value"] == filters.flag)
    return summary["total"]


def summary(program, *, today, now=None):
    """Counts by status and flag, and the median days from pairing to signature:
    two queries, over plain columns."""
    now = now or timezone.now()
    bring_up_to_date(program)
    flags = _flag_conditions(program, today, now)
    counts = Agreement.objects.filter(program=program).aggregate(
        total=Count("pk"),
        signed=Count("pk", filter=Q(signed_after__isnull=False)),
        **{status: Count("pk", filter=Q(status=status)) for status in Status.values},
        **{flag.value: Count("pk", filter=condition) for flag, condition in flags.items()},
    )
    statuses, offset = [], 0.0
    for status, label in Status.choices:
        share = 100 * counts[status] / counts["total"] if counts["total"] else 0
        statuses.append(
            {"value": status, "label": label, "count": counts[status], "x": offset, "width": share}
        )
        offset += share
    return {
        "total": counts["total"],
        "statuses": statuses,
        "flags": [
            {"value": flag, "label": label, "count": counts[flag]}
            for flag, label in Flag.choices_in(program)
        ],
        "median_days_to_sign": _median_days_to_sign(program, counts["signed"]),
        "signed_count": counts["signed"],
    }


def _median_days_to_sign(program, signed):
    """The median time from pairing to both signatures, in days: the middle
    one or two rows, read off the index on ``signed_after``."""
    if not signed:
        return None
    durations = (
        Agreement.objects.filter(program=program, signed_after__isnull=False)
        .order_by("signed_after")
        .values_list("signed_after", flat=True)
    )
    middle = list(durations[(signed - 1) // 2 : signed // 2 + 1])
    if not middle:  # signed since the count: the next view has it
        return None
    return sum(middle, datetime.timedelta()).total_seconds() / len(middle) / 86400


def flags_of(agreement, program):
    """The flags of one annotated pairing, as (value, short label) pairs."""
    return [
        (flag.value, flag.label_in(program, short=True))
        for flag in Flag
        if getattr(agreement, f"flag_{flag}")
    ]


# A spreadsheet runs a cell that starts with one of these as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A CSV cell a spreadsheet shows as text, never runs (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# The export's column names stay as they are in every language: like the
# import's column names (``agreements.pairing_import``), they are a file format.
EXPORT_HEADER = [
    "mentor_name",
    "mentor_email",
    "mentee_name",
    "mentee_email",
    "status",
    "mentor_signed",
    "mentee_signed",
    "created",
    "days_since_created",
    "start_date",
    "exit_date",
    "next_checkin",
    "checkins_held",
    "checkins_overdue",
    "flags",
    "last_activity",
]


EXPORT_COLUMNS = [
    "mentor__full_name",
    "mentor__email",
    "mentee__full_name",
    "mentee__email",
    "status",
    "mentor_signed",
    "mentee_signed",
    "created_at",
    "start_on",
    "exit_on",
    "next_checkin",
    "checkins_held",
    "checkins_overdue",
    *(f"flag_{flag}" for flag in Flag.values),
    "last_activity_at",
]
# Rows read, and written out, at a time.
EXPORT_CHUNK = 2000


def export_rows(queryset, *, today):
    """The CSV of the export, header first, made lazily from plain values
    (no model instances), a chunk of lines at a time."""
    # Words are read now, in the request's language: the lines are made as
    # the response streams, after the view has returned.
    statuses = {status: str(label) for status, label in Status.choices}
    flags = {flag: str(label) for flag, label in Flag.choices}
    signed = {
        True: pgettext("a cell of the CSV export: signed", "yes"),
        False: pgettext("a cell of the CSV export: not signed", "no"),
    }
    return _export_lines(queryset, today, statuses, flags, signed)


def _export_lines(queryset, today, statuses, flags, signed):
    """The header, then the rows, a chunk of ``EXPORT_CHUNK`` lines at a time
    (a piece of the response for each line cost more than the line)."""
    flag_at = [(EXPORT_COLUMNS.index(f"flag_{flag}"), label) for flag, label in flags.items()]
    rows = queryset.values_list(*EXPORT_COLUMNS).iterator(chunk_size=EXPORT_CHUNK)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_HEADER)
    while chunk := list(itertools.islice(rows, EXPORT_CHUNK)):
        for row in chunk:
            created = timezone.localdate(row[7])
            writer.writerow(
                [
                    # What people typed is made safe for a spreadsheet; the
                    # rest is the app's own words, dates and numbers.
                    *(neutralise(text) for text in row[:4]),
                    statuses[row[4]],
                    signed[bool(row[5])],
                    signed[bool(row[6])],
                    created.isoformat(),
                    (today - created).days,
                    *row[8:13],
                    "; ".join(label for index, label in flag_at if row[index]),
                    row[-1].isoformat(timespec="seconds"),
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
    if out.tell():
        yield out.getvalue()
