"""Check-ins of an agreement in force: the list, recording one, and each
party's answer to "is this still working for you?"."""

import datetime
from functools import partial

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from agreements.forms import CheckInAnswerForm, CheckInRecordForm
from agreements.models import Agreement, CheckInState, Origin

from .access import agreement_for, attempt, detail_url


def _checkins_url(agreement):
    return reverse("agreements:checkins", args=[agreement.uuid])


def _planned_checkin(agreement, date, today):
    """(check-in, record, state) of the check-in in force on that date, else 404."""
    try:
        day = datetime.date.fromisoformat(date)
    except ValueError:
        raise Http404("No such check-in.") from None
    for checkin, record, state in agreement.checkin_timeline(today):
        if checkin.date == day:
            return checkin, record, state
    raise Http404("No such check-in.")


def _recordable(checkin, state, today):
    """Its day has come, and it was not recorded: a check-in inside a pause
    asks nothing of the pair, but one they held all the same may be recorded."""
    return state in {CheckInState.DUE, CheckInState.OVERDUE} or (
        state == CheckInState.PAUSED and checkin.date <= today
    )


def checkins(request, agreement_id):
    agreement = agreement_for(request, agreement_id, records=True)
    if agreement.content_in_force is None:
        messages.info(request, _("Check-ins are recorded once both of you have signed."))
        return redirect(detail_url(agreement))
    today = request.user.today()
    party = agreement.party_of(request.user)
    statuses = agreement.goal_statuses()
    return render(
        request,
        "agreements/checkins.html",
        {
            "agreement": agreement,
            "party": party,
            "today": today,
            "timeline": agreement.checkin_timeline(today),
            "goals": [(goal, statuses.get(goal.pk)) for goal in agreement.goals_in_force()],
            "states": CheckInState,
        },
    )


def checkin_record(request, agreement_id, date):
    agreement = agreement_for(request, agreement_id, records=True)
    if agreement.status != Agreement.Status.ACTIVE:
        raise Http404("Check-ins are recorded on an Active agreement.")
    today = request.user.today()
    checkin, record, state = _planned_checkin(agreement, date, today)
    if record or not _recordable(checkin, state, today):
        messages.info(
            request,
            _("This check-in was already recorded.")
            if record
            else _("A check-in can be recorded on or after its date."),
        )
        return redirect(_checkins_url(agreement))
    form = CheckInRecordForm(request.POST or None, goals=agreement.goals_in_force(), today=today)
    if request.method == "POST" and form.is_valid():
        return attempt(
            request,
            partial(
                agreement.write_checkin_record,
                planned_date=checkin.date,
                held_on=form.cleaned_data["held_on"],
                progress=form.progress(),
                working=form.cleaned_data["working"],
                note=form.cleaned_data["working_note"],
                by=request.user,
                origin=Origin.of(request),
            ),
            done=lambda _record: (
                # Translators: the name of the other party of the agreement.
                _("Check-in recorded. %(name)s can add their own answer.")
                % {"name": agreement.other_person(request.user).full_name}
            ),
            back=_checkins_url(agreement),
        )
    return render(
        request,
        "agreements/checkin_record.html",
        {"agreement": agreement, "checkin": checkin, "form": form, "state": state},
    )


def checkin_answer(request, agreement_id, date):
    agreement = agreement_for(request, agreement_id, records=True)
    if agreement.status != Agreement.Status.ACTIVE:
        raise Http404("Check-ins are answered on an Active agreement.")
    checkin, record, _state = _planned_checkin(agreement, date, request.user.today())
    if record is None:
        raise Http404("This check-in has not been recorded yet.")
    party = agreement.party_of(request.user)
    working, note = record.answer_of(party)
    form = CheckInAnswerForm(
        request.POST or None, initial={"working": working, "working_note": note}
    )
    if request.method == "POST" and form.is_valid():
        return attempt(
            request,
            partial(
                agreement.answer_checkin,
                planned_date=checkin.date,
                working=form.cleaned_data["working"],
                note=form.cleaned_data["working_note"],
                by=request.user,
                origin=Origin.of(request),
            ),
            done=_("Your answer is saved."),
            back=_checkins_url(agreement),
        )
    return render(
        request,
        "agreements/checkin_answer.html",
        {"agreement": agreement, "checkin": checkin, "record": record, "form": form},
    )
