"""Plain helpers for the tests: the personas' password, a start date, loading an
agreement as a request would, and ``assert_unchanged`` for refusals. The
fixtures (mentor, mentee, outsider, program_admin, ...) live in conftest.py."""

import contextlib
import datetime

from django.core import mail

from agreements import demo
from agreements.models import Agreement, AuditEvent, Effect, Program, User
from agreements.services import pairing_create, pairing_invite

PASSWORD = "correct horse battery staple"
START = datetime.date(2027, 1, 4)


def fresh(agreement):
    """The agreement as a request would load it now."""
    return Agreement.objects.with_working_copy().get(pk=agreement.pk)


# The personas of conftest.py's fixtures, by fixture name: (email, full name).
PERSONAS = {
    "mentor": ("mentor@example.com", "Maria Mentor"),
    "mentee": ("mentee@example.com", "Milo Mentee"),
    "outsider": ("outsider@example.com", "Olga Outsider"),
    "program_admin": ("admin@example.com", "Ada Admin"),
    "other_admin": ("other-admin@example.com", "Otto Otheradmin"),
}


def make_user(email, full_name):
    return User.objects.create_user(email, PASSWORD, full_name=full_name)


def make_persona(role):
    return make_user(*PERSONAS[role])


def make_program(name, admin):
    program = Program.objects.create(name=name)
    program.admins.add(admin)
    return program


def make_agreement(program, mentor, mentee, admin):
    created = pairing_create(program=program, mentor=mentor, mentee=mentee, created_by=admin)
    # Without prefetched content, so `agreement.goals.exists()` asks the database.
    return Agreement.objects.get(pk=created.pk)


def make_ready(agreement):
    """Every section written by the mentor and agreed by both: awaiting signatures."""
    demo.write_all(agreement, by=agreement.mentor, start=START)
    demo.agree_all(agreement)
    return fresh(agreement)


def client_for(client, user):
    client.force_login(user)
    return client


def invite_newcomers(program, admin, number=1):
    """A pairing of two people new to the app: each is emailed an invitation."""
    return pairing_invite(
        program=program,
        mentor=(f"New Mentor {number}", f"new-mentor{number}@example.com"),
        mentee=(f"New Mentee {number}", f"new-mentee{number}@example.com"),
        created_by=admin,
    )


def make_active(agreement, *, start):
    """Written, agreed and signed by both, with the term starting on ``start``."""
    demo.write_all(agreement, by=agreement.mentor, start=start)
    demo.agree_all(agreement)
    demo.sign_as(agreement, agreement.mentor)
    demo.sign_as(agreement, agreement.mentee)
    return fresh(agreement)


# Refusals change nothing ----------------------------------------------------------

# Rows that point at a watched object, and rows that point at those: an
# agreement's sections and their revisions, its versions and their signatures,
# its check-ins and their goals' progress, its audit trail, sharing consents...
DEPTH = 2


@contextlib.contextmanager
def assert_unchanged(*objects):
    """Proves that the block changed nothing and wrote no audit row:

        with assert_unchanged(agreement):
            response = client.post(url, data)

    Compares, before and after the block, each object's own row, every row
    that points at it, two levels down (found through the models' relations,
    so a new model is watched too), and, anywhere in the database, the audit
    trail, the effects promised and the emails sent."""
    before = _snapshot(objects)
    yield
    after = _snapshot(objects)
    if after != before:
        raise AssertionError(
            "The block changed what it should leave alone:\n" + _diff(before, after)
        )


def _snapshot(objects):
    rows = {
        "audit events (all): count, last": _count_and_last(AuditEvent),
        "effects (all): count, last": _count_and_last(Effect),
        "emails sent": [(message.to, message.subject) for message in getattr(mail, "outbox", [])],
    }
    for obj in objects:
        _walk(type(obj), {"pk": obj.pk}, f"{obj._meta.label} {obj.pk}", DEPTH, rows)
    return rows


def _count_and_last(model):
    return (model._base_manager.count(), model._base_manager.order_by("pk").values("pk").last())


def _walk(model, lookup, path, depth, rows):
    """Stores {pk: row} of ``model`` filtered by ``lookup``, then the rows that
    point at those through each relation, ``depth`` levels down."""
    pk = model._meta.pk.attname
    found = {row[pk]: row for row in model._base_manager.filter(**lookup).values()}
    rows[path] = found
    if not depth or not found:
        return
    for relation in model._meta.related_objects:
        if relation.many_to_many:
            field = relation.field
            child, name = field.remote_field.through, field.m2m_reverse_field_name()
        else:
            child, name = relation.related_model, relation.field.name
        where = {f"{name}__in": list(found)}
        _walk(child, where, f"{path} < {child._meta.label}.{name}", depth - 1, rows)
    for field in model._meta.many_to_many:
        where = {f"{field.m2m_field_name()}__in": list(found)}
        _walk(field.remote_field.through, where, f"{path} > {field.name}", 0, rows)


def _diff(before, after):
    lines = []
    for path in [*before, *(path for path in after if path not in before)]:
        old, new = before.get(path, {}), after.get(path, {})
        if old == new:
            continue
        if not (isinstance(old, dict) and isinstance(new, dict)):
            lines.append(f"  {path}: {old!r} -> {new!r}")
            continue
        for pk in sorted(old.keys() | new.keys()):
            was, now = old.get(pk), new.get(pk)
            if was is None:
                lines.append(f"  {path}: added {now}")
            elif now is None:
                lines.append(f"  {path}: removed {was}")
            elif was != now:
                changed = {key: (was[key], now[key]) for key in was if was[key] != now[key]}
                lines.append(f"  {path} #{pk}: {changed}")
    return "\n".join(lines)


def run_migration(before, migration):
    """Migrate the app back to ``before`` and forward through ``migration``
    alone, then to the newest again: what an upgrade does to the rows in the
    database now. The test needs ``django_db(transaction=True)``."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate([("agreements", before)])
    try:
        executor.loader.build_graph()
        executor.migrate([("agreements", migration)])
    finally:
        call_command("migrate", "agreements", verbosity=0)


# How long a browser test waits for an element, a click's navigation or an
# expectation before it fails. Generous: the second signature renders and seals
# the PDF before the page answers (the tests run tasks in the request), and CI
# runs two suites side by side on two cores, each with two workers, where that
# took more than 10 s. A page that never comes still fails, only later.
BROWSER_WAIT_MS = 30_000
