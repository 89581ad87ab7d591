"""The meeting log of an agreement in force: logging a meeting, the other
party's word on it (confirm, correct, "it did not happen"), and pausing the
meetings. Notes and pause notes are the pair's alone."""

import datetime
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agreements import charts
from agreements.forms import MeetingForm, PauseForm
from agreements.models import Agreement, Meeting, Origin, Party

from .access import agreement_for, attempt, detail_url, moved


def _meetings_url(agreement):
    return reverse("agreements:meetings", args=[agreement.uuid])


def _not_in_force(request, agreement):
    """Back to the agreement page, if nothing is in force to meet under."""
    if agreement.content_in_force is not None:
        return None
    messages.info(request, _("Meetings are logged once both of you have signed."))
    return redirect(detail_url(agreement))


def _last_day(agreement):
    end = agreement.end_date
    return end - datetime.timedelta(days=1) if end else None


def _log_form(request, agreement, data=None, **kwargs):
    return MeetingForm(
        data,
        schedule=agreement.content_in_force.schedule,
        today=request.user.today(),
        **kwargs,
    )


def _pause_form(request, agreement, data=None):
    return PauseForm(data, today=request.user.today(), last_day=_last_day(agreement))


def _move_posted(request, agreement, form, move, *, done):
    """Make ``move`` with the fields of the posted ``form`` (they are the
    move's arguments), by the reader: a redirect to the log if it was made;
    None if nothing valid was posted or the move was refused (the refusal
    goes on the form, shown again)."""
    if request.method != "POST" or not form.is_valid():
        return None
    made = moved(
        request,
        partial(move, **form.cleaned_data, by=request.user, origin=Origin.of(request)),
        done=done,
        refused=partial(form.add_error, None),
    )
    return redirect(_meetings_url(agreement)) if made else None


def _log(agreement, now, waiting):
    """Each meeting of the log, newest first, with what the page says of it;
    ``waiting``: the meetings that wait for the reader's word."""
    return [
        {
            "meeting": meeting,
            "counts": meeting.counts(now),
            "waits_for_me": meeting in waiting,
            "logged_by": agreement.user_for(meeting.logged_by),
            "awaits": agreement.user_for(meeting.awaits),
            "declined_by": meeting.declined_by and agreement.user_for(meeting.declined_by),
            "notes": [
                (agreement.user_for(party), meeting.note_of(party))
                for party in Party
                if meeting.note_of(party)
            ],
        }
        for meeting in agreement.meetings.all()
    ]


def _page(request, agreement, *, log_form=None, pause_form=None):
    today, now = request.user.today(), timezone.now()
    active = agreement.status == Agreement.Status.ACTIVE
    waiting = agreement.meetings_to_confirm(request.user, now) if active else []
    log = _log(agreement, now, waiting)
    pause = agreement.pause_to_come(today) if active else None
    chart = charts.promises_chart(agreement, today=today, now=now)
    return render(
        request,
        "agreements/meetings.html",
        {
            "agreement": agreement,
            "other": agreement.other_person(request.user),
            "active": active,
            # The chart is there whenever there is something to count.
            "chart": chart,
            "to_confirm": [row for row in log if row["waits_for_me"]],
            "log": log,
            "objection_days": settings.MEETING_OBJECTION_DAYS,
            "pause": pause,
            "paused_by": pause and agreement.user_for(pause.paused_by),
            "past_pauses": [
                (kept, agreement.user_for(kept.paused_by))
                for kept in agreement.pauses_kept()
                if kept != pause
            ],
            "log_form": log_form or _log_form(request, agreement),
            "pause_form": pause_form or _pause_form(request, agreement),
        },
    )


def meetings(request, agreement_id):
    """The log and the pauses; a POST logs a meeting."""
    agreement = agreement_for(request, agreement_id, records=True)
    if away := _not_in_force(request, agreement):
        return away
    form = _log_form(request, agreement, request.POST or None)
    logged = _move_posted(
        request,
        agreement,
        form,
        agreement.log_meeting,
        # Translators: the name of the other party of the agreement.
        done=_("Meeting logged. %(name)s is asked to confirm it.")
        % {"name": agreement.other_person(request.user).full_name},
    )
    return logged or _page(request, agreement, log_form=form)


def _open_meeting(agreement, number):
    """A meeting of the log that can still be changed: pending and not
    counted yet, on an Active agreement; else 404."""
    meeting = next((m for m in agreement.meetings.all() if m.pk == number), None)
    if (
        agreement.status != Agreement.Status.ACTIVE
        or meeting is None
        or meeting.status != Meeting.Status.PENDING
        or meeting.counts(timezone.now())
    ):
        raise Http404("No meeting to correct.")
    return meeting


def meeting_correct(request, agreement_id, number):
    agreement = agreement_for(request, agreement_id, records=True)
    meeting = _open_meeting(agreement, number)
    party = agreement.party_of(request.user)
    form = _log_form(
        request,
        agreement,
        request.POST or None,
        initial={
            "held_on": meeting.held_on,
            "duration_minutes": meeting.duration_minutes,
            "format": meeting.format,
            "note": meeting.note_of(party),
        },
    )
    corrected = _move_posted(
        request,
        agreement,
        form,
        partial(agreement.correct_meeting, number=meeting.pk),
        # Translators: the name of the other party of the agreement.
        done=_("Meeting corrected. %(name)s is asked to confirm it.")
        % {"name": agreement.other_person(request.user).full_name},
    )
    if corrected:
        return corrected
    return render(
        request,
        "agreements/meeting_correct.html",
        {
            "agreement": agreement,
            "meeting": meeting,
            "logged_by": agreement.user_for(meeting.logged_by),
            "other": agreement.other_person(request.user),
            "other_note": meeting.note_of(party.other),
            "form": form,
        },
    )


@require_POST
def meeting_confirm(request, agreement_id, number):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    return attempt(
        request,
        partial(
            agreement.confirm_meeting, number=number, by=request.user, origin=Origin.of(request)
        ),
        done=_("Meeting confirmed: it counts."),
        back=_meetings_url(agreement),
    )


@require_POST
def meeting_decline(request, agreement_id, number):
    """The other party says it did not happen, or the one who logged it withdraws it."""
    agreement = agreement_for(request, agreement_id, working_copy=False)
    party = agreement.party_of(request.user)
    return attempt(
        request,
        partial(
            agreement.decline_meeting, number=number, by=request.user, origin=Origin.of(request)
        ),
        done=lambda meeting: (
            # Translators: the name of the other party of the agreement.
            _("The meeting is taken out of the log. %(name)s is told.")
            % {"name": agreement.other_person(request.user).full_name}
            if meeting.awaits == party
            else _("Your meeting is withdrawn from the log.")
        ),
        back=_meetings_url(agreement),
    )


@require_POST
def meetings_pause(request, agreement_id):
    agreement = agreement_for(request, agreement_id, records=True)
    if away := _not_in_force(request, agreement):
        return away
    form = _pause_form(request, agreement, request.POST)
    paused = _move_posted(
        request,
        agreement,
        form,
        agreement.pause_meetings,
        # Translators: the name of the other party of the agreement.
        done=_("Meetings paused. %(name)s is told.")
        % {"name": agreement.other_person(request.user).full_name},
    )
    return paused or _page(request, agreement, pause_form=form)


@require_POST
def meetings_resume(request, agreement_id):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    return attempt(
        request,
        partial(agreement.resume_meetings, by=request.user, origin=Origin.of(request)),
        # Translators: the name of the other party of the agreement.
        done=_("Meetings resumed. %(name)s is told.")
        % {"name": agreement.other_person(request.user).full_name},
        back=_meetings_url(agreement),
    )
