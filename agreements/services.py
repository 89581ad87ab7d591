"""Workflows over several models: pairing a mentor and a mentee, importing
pairings, pairing a mentee again; and the dates a program's template gives."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import TYPE_CHECKING

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

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
    runs_on,
)
from agreements.models.users import email_key

if TYPE_CHECKING:
    from agreements.models import Origin, Program
    from agreements.pairing_import import ImportRow

# A person to pair, as (full name, email).
Named = tuple[str, str]

# The most check-ins an agreement holds (the check-ins editor's limit).
MAX_CHECKINS = 60


def add_months(day: datetime.date, months: int) -> datetime.date | None:
    """``day`` plus ``months`` calendar months, or None past the year 9999."""
    try:
        return day + relativedelta(months=months)
    except (ValueError, OverflowError):
        return None


def template_dates(
    program: Program, start_date: datetime.date | None, exit_date: datetime.date | None = None
) -> tuple[datetime.date | None, list[datetime.date]]:
    """(exit date, check-in dates) the program's template gives a start date.

    A locked term length decides the exit date whatever was asked; otherwise
    the term length only fills in a missing one.
    """
    if start_date is None:
        return exit_date, []
    if program.term_months and (exit_date is None or program.term_months_locked):
        exit_date = add_months(start_date, program.term_months)
    if exit_date is None or not program.checkin_every_weeks:
        return exit_date, []
    return exit_date, checkin_dates(start_date, exit_date, program.checkin_every_weeks)


def checkin_dates(
    start_date: datetime.date, exit_date: datetime.date, weeks: int
) -> list[datetime.date]:
    """A check-in every ``weeks`` weeks from the start, before the exit date (the
    agreement ends on its morning). One more than an agreement holds, at most,
    so a caller can tell the term is too long for the rhythm."""
    step = datetime.timedelta(weeks=weeks)
    dates, day = [], start_date + step
    while runs_on(day, exit_date) and len(dates) <= MAX_CHECKINS:
        dates.append(day)
        day += step
    return dates


def template_problems(
    program: Program, start_date: datetime.date | None, exit_date: datetime.date | None
) -> list[str]:
    """Why the program's template cannot start an agreement with these dates."""
    if start_date is None:
        return []
    problems = []
    if exit_date and program.term_months_locked:
        problems.append(
            ngettext(
                "The program's policy sets a term of %(months)s month: leave the exit date "
                "empty; it follows from the start date.",
                "The program's policy sets a term of %(months)s months: leave the exit date "
                "empty; it follows from the start date.",
                program.term_months or 0,
            )
            % {"months": program.term_months}
        )
    exit_date, checkins = template_dates(program, start_date, exit_date)
    if exit_date is None:
        problems.append(_("The start date is too far in the future."))
    elif len(checkins) > MAX_CHECKINS:
        problems.append(
            ngettext(
                "With a check-in every %(weeks)s week, this term would have more than "
                "%(most)s check-ins, the most an agreement holds. Choose a shorter term.",
                "With a check-in every %(weeks)s weeks, this term would have more than "
                "%(most)s check-ins, the most an agreement holds. Choose a shorter term.",
                program.checkin_every_weeks or 0,
            )
            % {"weeks": program.checkin_every_weeks, "most": MAX_CHECKINS}
        )
    return problems


def pairing_create(
    *,
    program: Program,
    mentor: User,
    mentee: User,
    created_by: User | None,
    origin: Origin | None = None,
    start_date: datetime.date | None = None,
    exit_date: datetime.date | None = None,
) -> Agreement:
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
            # Written in its creator's language until the pair choose another.
            language=created_by.own_language if created_by else settings.LANGUAGE_CODE,
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
            pause_max_days=program.pause_max_days,
        )
        CheckIn.objects.bulk_create(
            CheckIn(agreement=agreement, date=day) for day in checkin_dates[:MAX_CHECKINS]
        )
        # Every section starts empty, but its language, set by its creator.
        set_by_creator = {"updated_by": created_by, "updated_at": agreement.created_at}
        Section.objects.bulk_create(
            Section(
                agreement=agreement,
                kind=kind,
                **(set_by_creator if kind == Section.Kind.LANGUAGE else {}),
            )
            for kind in Section.Kind.values
        )
        # Revision 0 of every section, so a later conflict can show what changed since.
        agreement = Agreement.objects.with_working_copy().get(pk=agreement.pk)
        SectionRevision.objects.bulk_create(
            SectionRevision(
                section=section,
                revision=0,
                data=content.normalise(agreement.section_data(section.kind)),
                edited_by=created_by,
            )
            for section in agreement.ordered_sections()
        )
        agreement.audit(
            AuditEvent.Kind.CREATED,
            actor=created_by,
            origin=origin,
            at=agreement.created_at,
            details={"program": program.name, "mentor": mentor.email, "mentee": mentee.email},
        )
        return agreement


def person_for(email: str, name: str) -> User:
    """The account with this email, or a new one, without a password until
    the person accepts their invitation. An existing account keeps its name."""
    user = User.objects.filter(email=email_key(email)).first()
    if user is None:
        user = User.objects.create_user(email=email, full_name=name, password=None)
    return user


def pairing_invite(
    *,
    program: Program,
    mentor: Named,
    mentee: Named,
    created_by: User | None,
    origin: Origin | None = None,
    start_date: datetime.date | None = None,
    exit_date: datetime.date | None = None,
) -> Agreement:
    """Pair two people given as (name, email), creating accounts as needed.

    Once committed, each gets an email: an invitation to choose a password,
    or a note that the pairing exists.
    """
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
        agreement.tell_both(
            "pairing_created", about=f"agreement:{agreement.pk}", agreement_id=agreement.pk
        )
        return agreement


def pairings_import(
    *,
    program: Program,
    rows: Iterable[ImportRow],
    created_by: User,
    origin: Origin | None = None,
) -> None:
    """All the checked CSV rows' pairings, or none of them."""
    with transaction.atomic():
        for row in rows:
            pairing_invite(
                program=program,
                mentor=(row.mentor.name, row.mentor.email),
                mentee=(row.mentee.name, row.mentee.email),
                created_by=created_by,
                origin=origin,
                start_date=row.start_date,
                exit_date=row.exit_date,
            )


def pairing_repair(
    *, agreement: Agreement, mentor: Named, note: str, by: User, origin: Origin | None = None
) -> Agreement:
    """Pair the mentee with another mentor, given as (name, email): the current
    pairing ends with the admin's reason and a new agreement opens, from the
    program's template (nothing of the old agreement carries over)."""
    with transaction.atomic():
        agreement.end_by_program(
            by=by,
            # A record (the trail, the final PDF): in the source words, whoever
            # wrote the reason, as every record is.
            note=gettext_noop(
                # Translators: %(reason)s is the admin's own words, as they typed them.
                "The mentee is now paired with another mentor. %(reason)s"
            )
            % {"reason": note},
            origin=origin,
        )
        return pairing_invite(
            program=agreement.program,
            mentor=mentor,
            mentee=(agreement.mentee.full_name, agreement.mentee.email),
            created_by=by,
            origin=origin,
        )
