import datetime
import functools

from dateutil.relativedelta import relativedelta
from django.db import transaction

from agreements import content
from agreements.models import (
    Agreement,
    AuditEvent,
    CheckIn,
    Confidentiality,
    ContactPreference,
    MeetingSchedule,
    Party,
    Section,
    SectionRevision,
    Term,
    User,
)


def template_dates(program, start_date, exit_date=None):
    """(exit date, check-in dates) the program's template suggests for a start date."""
    if start_date is None:
        return exit_date, []
    if exit_date is None and program.term_months:
        exit_date = start_date + relativedelta(months=program.term_months)
    if exit_date is None or not program.checkin_every_weeks:
        return exit_date, []
    step = datetime.timedelta(weeks=program.checkin_every_weeks)
    checkins, day = [], start_date + step
    # The agreement ends on the morning of its exit date: no check-in that day.
    while day < exit_date:
        checkins.append(day)
        day += step
    return exit_date, checkins


def pairing_create(
    *, program, mentor, mentee, created_by, origin=None, start_date=None, exit_date=None
):
    """Pair a mentor with a mentee and open their agreement, started from the
    program's template; its locked clauses become the agreement's policy."""
    exit_date, checkin_dates = template_dates(program, start_date, exit_date)
    with transaction.atomic():
        agreement = Agreement.objects.create(
            program=program,
            mentor=mentor,
            mentee=mentee,
            created_by=created_by,
            policy=program.policy(),
        )
        ContactPreference.objects.bulk_create(
            ContactPreference(agreement=agreement, party=party) for party in Party.values
        )
        MeetingSchedule.objects.create(agreement=agreement)
        Confidentiality.objects.create(
            agreement=agreement, exceptions_notes=program.exceptions_notes
        )
        Term.objects.create(
            agreement=agreement,
            start_date=start_date,
            exit_date=exit_date,
            notice_days=program.notice_days,
        )
        CheckIn.objects.bulk_create(CheckIn(agreement=agreement, date=day) for day in checkin_dates)
        Section.objects.bulk_create(
            Section(agreement=agreement, kind=kind) for kind in Section.Kind.values
        )
        # Version 0 of every section, so a later conflict can show what changed since.
        agreement = Agreement.objects.with_content().get(pk=agreement.pk)
        SectionRevision.objects.bulk_create(
            SectionRevision(
                section=section,
                version=0,
                data=content.normalise(agreement.section_data(section.kind)),
                edited_by=created_by,
            )
            for section in agreement.ordered_sections()
        )
        agreement.record(
            AuditEvent.Kind.CREATED,
            actor=created_by,
            origin=origin,
            at=agreement.created_at,
            details={"program": program.name, "mentor": mentor.email, "mentee": mentee.email},
        )
        return agreement


def person_for(email, name):
    """The account with this email, or a new one, without a password until
    the person accepts their invitation. An existing account keeps its name."""
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=name, password=None)
    return user


def pairing_invite(
    *, program, mentor, mentee, created_by, origin=None, start_date=None, exit_date=None
):
    """Pair two people given as (name, email), creating accounts as needed.

    Once committed, each gets an email: an invitation to choose a password,
    or a note that the pairing exists.
    """
    from agreements.tasks import send_pairing_emails

    with transaction.atomic():
        agreement = pairing_create(
            program=program,
            mentor=person_for(mentor[1], mentor[0]),
            mentee=person_for(mentee[1], mentee[0]),
            created_by=created_by,
            origin=origin,
            start_date=start_date,
            exit_date=exit_date,
        )
        transaction.on_commit(functools.partial(send_pairing_emails.enqueue, agreement.pk))
        return agreement


def pairing_repair(*, agreement, mentor, note, by, origin=None):
    """Pair the mentee with another mentor, given as (name, email): the current
    pairing ends with the admin's reason and a new agreement opens, from the
    program's template (nothing of the old agreement carries over)."""
    with transaction.atomic():
        agreement.end_by_program(
            by=by, note=f"The mentee is now paired with another mentor. {note}", origin=origin
        )
        return pairing_invite(
            program=agreement.program,
            mentor=mentor,
            mentee=(agreement.mentee.full_name, agreement.mentee.email),
            created_by=by,
            origin=origin,
        )
