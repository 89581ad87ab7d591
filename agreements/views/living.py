"""Pages of an agreement in force: check-ins, added topics, the exit, closing notes."""

import datetime

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format

from agreements.exceptions import AgreementError
from agreements.forms import (
    AccountForm,
    CheckInAnswerForm,
    CheckInRecordForm,
    ClosingNoteForm,
    OffLimitsAdditionForm,
)
from agreements.models import Agreement, CheckInState, Origin

from .agreements import _agreement_for, _detail_url


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


def checkins(request, agreement_id):
    agreement = _agreement_for(request, agreement_id, life=True)
    if agreement.plan is None:
        messages.info(request, "Check-ins are recorded once both of you have signed.")
        return redirect(_detail_url(agreement))
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
    agreement = _agreement_for(request, agreement_id, life=True)
    if agreement.status != Agreement.Status.ACTIVE:
        raise Http404("Check-ins are recorded on an Active agreement.")
    today = request.user.today()
    checkin, record, state = _planned_checkin(agreement, date, today)
    if record or state not in {CheckInState.DUE, CheckInState.OVERDUE}:
        messages.info(
            request,
            "This check-in was already recorded."
            if record
            else "A check-in can be recorded on or after its date.",
        )
        return redirect(_checkins_url(agreement))
    form = CheckInRecordForm(request.POST or None, goals=agreement.goals_in_force(), today=today)
    if request.method == "POST" and form.is_valid():
        try:
            agreement.record_checkin(
                planned_date=checkin.date,
                held_on=form.cleaned_data["held_on"],
                progress=form.progress(),
                working=form.cleaned_data["working"],
                note=form.cleaned_data["working_note"],
                by=request.user,
                origin=Origin.of(request),
            )
        except AgreementError as exc:
            messages.error(request, exc.message)
        else:
            other = agreement.other_person(request.user)
            messages.success(
                request, f"Check-in recorded. {other.full_name} can add their own answer."
            )
        return redirect(_checkins_url(agreement))
    return render(
        request,
        "agreements/checkin_record.html",
        {"agreement": agreement, "checkin": checkin, "form": form, "state": state},
    )


def checkin_answer(request, agreement_id, date):
    agreement = _agreement_for(request, agreement_id, life=True)
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
        try:
            agreement.answer_checkin(
                planned_date=checkin.date,
                working=form.cleaned_data["working"],
                note=form.cleaned_data["working_note"],
                by=request.user,
                origin=Origin.of(request),
            )
        except AgreementError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your answer is saved.")
        return redirect(_checkins_url(agreement))
    return render(
        request,
        "agreements/checkin_answer.html",
        {"agreement": agreement, "checkin": checkin, "record": record, "form": form},
    )


def off_limits_add(request, agreement_id):
    agreement = _agreement_for(request, agreement_id, life=True)
    if agreement.status != Agreement.Status.ACTIVE:
        raise Http404("Topics are added this way only to an Active agreement.")
    form = OffLimitsAdditionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            agreement.add_off_limits_topic(
                topic=form.cleaned_data["topic"],
                rule=form.cleaned_data["rule"],
                by=request.user,
                origin=Origin.of(request),
            )
        except AgreementError as exc:
            form.add_error("topic", exc.message)
        else:
            other = agreement.other_person(request.user)
            messages.success(
                request,
                f"The topic is off limits from now on. An email telling {other.full_name} "
                "is on its way.",
            )
            return redirect(_detail_url(agreement, "off_limits"))
    return render(request, "agreements/off_limits_add.html", {"agreement": agreement, "form": form})


def exit_agreement(request, agreement_id):
    """The no-fault exit: a confirmation page, then notice is given on POST."""
    agreement = _agreement_for(request, agreement_id, life=True)
    if agreement.status != Agreement.Status.ACTIVE or agreement.notice_given_at:
        raise Http404("Only an Active agreement without a notice can be ended early.")
    party = agreement.party_of(request.user)
    today = request.user.today()
    ends_on = agreement.notice_end_date(today)
    note = agreement.closing_note_of(party)
    form = ClosingNoteForm(request.POST or None, instance=note, prefix="note")
    if request.method == "POST" and form.is_valid():
        try:
            ends_on = agreement.give_notice(
                by=request.user, closing_note=form.values(), origin=Origin.of(request)
            )
        except AgreementError as exc:
            messages.error(request, exc.message)
        else:
            if ends_on <= today:
                messages.success(request, "The agreement has ended. Thank you both.")
            else:
                messages.success(
                    request, f"Notice given: the agreement ends on {date_format(ends_on, 'j F Y')}."
                )
        return redirect(_detail_url(agreement))
    return render(
        request,
        "agreements/exit.html",
        {
            "agreement": agreement,
            "term": agreement.plan.term,
            "ends_on": ends_on,
            "today": today,
            "form": form,
            "other": agreement.other_person(request.user),
        },
    )


def closing_note(request, agreement_id):
    agreement = _agreement_for(request, agreement_id, life=True)
    if agreement.status != Agreement.Status.ACTIVE:
        raise Http404("Closing notes are written until the agreement ends.")
    note = agreement.closing_note_of(agreement.party_of(request.user))
    form = ClosingNoteForm(request.POST or None, instance=note)
    if request.method == "POST" and form.is_valid():
        try:
            agreement.write_closing_note(
                by=request.user, origin=Origin.of(request), **form.values()
            )
        except AgreementError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "Your closing note is saved; it goes into the final PDF.")
        return redirect(_detail_url(agreement) + "#closing")
    return render(request, "agreements/closing_note.html", {"agreement": agreement, "form": form})


def account(request):
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Your time zone is now {form.cleaned_data['time_zone']}.")
        return redirect("agreements:account")
    return render(request, "agreements/account.html", {"form": form})
