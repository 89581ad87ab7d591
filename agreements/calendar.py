"""The agreements in a calendar: the meetings, the check-ins and the exit date
of each agreement in force, as iCalendar (RFC 5545).

Meeting times are absolute: each series names the zone it is reckoned in
(DTSTART;TZID=…) and carries that zone's VTIMEZONE, so every calendar shows
the meetings in its owner's local time. Stable UIDs let a calendar replace an
event when an amendment moves it.

A pause cancels the meetings and check-ins inside it as updated events
(STATUS:CANCELLED), not deleted ones: the days stay in the calendar, struck
out, and come back if the pause is called off.
"""

import datetime
import zoneinfo

from dateutil import rrule
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from icalendar import Calendar, Event, vDuration, vRecur

from agreements.models import MeetingSchedule, Party, runs_on
from agreements.models.meetings import rhythm_rule

PRODID = "-//Mentorship//Agreements//EN"
DEFAULT_DURATION_MINUTES = 60
# How often a subscribed calendar should fetch the feed again.
REFRESH_INTERVAL = datetime.timedelta(hours=6)


def _recurrence(schedule, start_date, end_date):
    """(first meeting, RRULE) of the meetings from start_date to end_date, or
    None when they cannot go in a calendar."""
    if not (schedule.repeats and schedule.time and schedule.time_zone):
        return None
    if not (start_date and end_date) or end_date < start_date:
        return None
    try:
        zone = zoneinfo.ZoneInfo(schedule.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
    # Wall-clock time in the meeting's zone: 18:00 in London stays 18:00
    # across the change to and from summer time.
    first = datetime.datetime.combine(start_date, schedule.time, tzinfo=zone)
    parts = rhythm_rule(schedule.frequency, start_date)
    # RFC 5545 wants UNTIL in UTC when DTSTART has a TZID. The end of the last
    # day, not the last meeting, so a client that rounds offsets keeps it.
    last_moment = datetime.datetime.combine(end_date, datetime.time(23, 59, 59), tzinfo=zone)
    parts["UNTIL"] = last_moment.astimezone(datetime.UTC)
    return first, vRecur(parts)


def _expand(first, rule):
    """The dateutil rule for exactly the RRULE that goes into the calendar."""
    return rrule.rrulestr(rule.to_ical().decode(), dtstart=first)


def meeting_starts(schedule, start_date, end_date):
    """Every meeting's start, aware in the schedule's zone, from start_date to
    end_date inclusive; [] when the meetings do not repeat or have no time."""
    recurrence = _recurrence(schedule, start_date, end_date)
    if recurrence is None:
        return []
    return list(_expand(*recurrence))


def _paused(pauses, start):
    """A pause covers the day of a meeting (its date where it is reckoned)."""
    return any(pause.covers(start.date()) for pause in pauses)


def _cancelled_by_pause():
    """The first line of an event a pause cancels."""
    return _("Cancelled: the meetings are paused.")


def next_meeting(agreement, now):
    """The start of the agreement's next meeting after ``now`` that no pause
    cancels, or None; reads the prefetched pauses."""
    plan = agreement.content_in_force
    if plan is None or agreement.is_ended:
        return None
    recurrence = _recurrence(plan.schedule, plan.term.start_date, agreement.end_date)
    if recurrence is None:
        return None
    pauses = agreement.pauses_kept()
    return next(
        (start for start in _expand(*recurrence).xafter(now) if not _paused(pauses, start)),
        None,
    )


def meetings_left_out(schedule):
    """Why the meetings of a schedule cannot go in a calendar, or ""."""
    if schedule.frequency == MeetingSchedule.Frequency.CUSTOM:
        # Translators: the rhythm as the pair wrote it, such as "every other Tuesday".
        return _(
            "The meetings follow a rhythm of your own (“%(rhythm)s”), which a calendar cannot "
            "repeat: add them to your calendar yourself."
        ) % {"rhythm": schedule.frequency_custom}
    if not schedule.repeats:
        return _("The agreement sets no meeting rhythm.")
    if not (schedule.time and schedule.time_zone):
        return _("The agreement has no meeting time: add a meeting time through an amendment.")
    return ""


def end_label(agreement):
    """What the last day of the agreement is called in the calendar."""
    if agreement.is_ended:
        return _("Agreement ended")
    if agreement.ends_early:
        return _("Agreement ends (notice given)")
    return _("Exit date")


def _uid(agreement, what):
    return f"{agreement.uuid}-{what}@mentorship"


def _meeting_events(agreement, plan, *, other, end, pauses, sequence, stamp):
    """The meeting series, and an override cancelling each of its meetings a
    pause covers: the series' UID with the RECURRENCE-ID of the meeting it
    replaces, so that day stays in the calendar, cancelled."""
    schedule = plan.schedule
    recurrence = _recurrence(schedule, plan.term.start_date, end)
    if recurrence is None:
        return []
    first, rule = recurrence
    minutes = schedule.duration_minutes or DEFAULT_DURATION_MINUTES
    details = [
        schedule.frequency_display(),
        ngettext("%(minutes)s minute", "%(minutes)s minutes", minutes) % {"minutes": minutes},
        schedule.get_format_display().lower() if schedule.format else "",
    ]
    description = [
        ", ".join(filter(None, details)) + ".",
        # Translators: the program's name.
        _("Agreed in your mentoring agreement (%(program)s).")
        % {"program": agreement.program.name},
        # Translators: a time zone name such as Europe/London.
        _("Time reckoned in %(time_zone)s.") % {"time_zone": schedule.time_zone},
    ]
    length = datetime.timedelta(minutes=minutes)
    fields = {
        "uid": _uid(agreement, "meetings"),
        # Translators: the other party's name.
        "summary": _("Mentoring with %(name)s") % {"name": other},
        "location": schedule.location or None,
        "sequence": sequence,
        "stamp": stamp,
    }
    series = Event.new(
        start=first, end=first + length, description="\n".join(description), **fields
    )
    series.add("rrule", rule)
    cancelled = [
        Event.new(
            start=start,
            end=start + length,
            recurrence_id=start,
            status="CANCELLED",
            description="\n".join([_cancelled_by_pause(), *description]),
            **fields,
        )
        for start in (_expand(first, rule) if pauses else [])
        if _paused(pauses, start)
    ]
    return [series, *cancelled]


def _day_event(uid, day, *, summary, description, sequence, stamp, status=None):
    return Event.new(
        uid=uid,
        summary=summary,
        start=day,
        end=day + datetime.timedelta(days=1),
        description=description,
        sequence=sequence,
        stamp=stamp,
        status=status,
        # A whole-day reminder, not a day blocked as busy.
        transparency="TRANSPARENT",
    )


def _events(agreement, *, user, stamp):
    plan = agreement.content_in_force
    if plan is None:
        return []
    party = agreement.party_of(user)
    other = agreement.user_for(Party(party).other).full_name
    end = agreement.end_date
    # A notice, the end or a pause moves events without a new version: bump
    # SEQUENCE too, so a client that imports the file again takes the change.
    # A pause moves them once when made and again when resumed or called off
    # (which gives back what it cancelled); pauses are never deleted, so the
    # count only grows.
    sequence = (
        agreement.version_in_force.number
        + (agreement.ends_on is not None)
        + agreement.is_ended
        + sum(1 + (pause.resumed_at is not None) for pause in agreement.pauses.all())
    )
    pauses = agreement.pauses_kept()
    events = _meeting_events(
        agreement, plan, other=other, end=end, pauses=pauses, sequence=sequence, stamp=stamp
    )
    held = {record.planned_date: record for record in agreement.checkin_records.all()}
    for checkin in plan.checkins:
        if not runs_on(checkin.date, end) and checkin.date not in held:
            continue
        description = [
            # Translators: what the pair wrote they will review at this check-in.
            _("To review: %(focus)s") % {"focus": checkin.focus}
            if checkin.focus
            else pgettext("calendar event", "Check-in")
        ]
        record = held.get(checkin.date)
        if record:
            description.append(_("Held on %(date)s.") % {"date": date_format(record.held_on)})
        cancelled = record is None and agreement.paused_on(checkin.date) is not None
        if cancelled:
            description.insert(0, _cancelled_by_pause())
        events.append(
            _day_event(
                _uid(agreement, f"checkin-{checkin.date:%Y-%m-%d}"),
                checkin.date,
                # Translators: the other party's name.
                summary=_("Check-in with %(name)s") % {"name": other},
                description="\n".join(description),
                sequence=sequence,
                stamp=stamp,
                status="CANCELLED" if cancelled else None,
            )
        )
    if end:
        label = end_label(agreement)
        events.append(
            _day_event(
                _uid(agreement, "exit"),
                end,
                # Translators: %(label)s is "Exit date", "Agreement ends (notice given)"
                # or "Agreement ended"; %(name)s the other party's name.
                summary=_("%(label)s: mentoring with %(name)s") % {"label": label, "name": other},
                # Translators: %(label)s is "Exit date", "Agreement ends (notice given)"
                # or "Agreement ended"; %(program)s the program's name.
                description=_("%(label)s of your mentoring agreement (%(program)s).")
                % {"label": label, "program": agreement.program.name},
                sequence=sequence,
                stamp=stamp,
            )
        )
    return events


def agreement_calendar(agreements, *, user, name=None, now=None):
    """A Calendar of the agreements in force among ``agreements``, as ``user``
    (one of the parties of each) sees them; ``.to_ical()`` gives the bytes.

    For a constant number of queries, load the agreements with program,
    mentor, mentee, versions, checkin_records and pauses.
    """
    stamp = (now or timezone.now()).astimezone(datetime.UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.calendar_name = name or _("Mentoring")
    # The meeting times are absolute; this names the zone of the person
    # subscribing, for clients that show the calendar in its own zone.
    calendar.add("x-wr-timezone", str(user.zone))
    calendar.refresh_interval = REFRESH_INTERVAL
    calendar.add("x-published-ttl", vDuration(REFRESH_INTERVAL))  # the same, for Outlook
    span = []
    for agreement in agreements:
        events = _events(agreement, user=user, stamp=stamp)
        for event in events:
            calendar.add_component(event)
        if events:
            span += [agreement.content_in_force.term.start_date, agreement.end_date]
    span = [day for day in span if day]
    if span:
        # VTIMEZONEs for the years the agreements span, not 1970 to 2038.
        margin = datetime.timedelta(days=366)
        calendar.add_missing_timezones(first_date=min(span) - margin, last_date=max(span) + margin)
    return calendar
