"""Ending an agreement in force: the no-fault exit (notice) and the closing notes
that go into its final record."""

from functools import partial

from django.http import Http404
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from agreements.forms import ClosingNoteForm
from agreements.models import Agreement, Origin

from .access import agreement_for, attempt, detail_url


def exit_agreement(request, agreement_id):
    """The no-fault exit: a confirmation page, then notice is given on POST."""
    agreement = agreement_for(request, agreement_id, records=True)
    if agreement.status != Agreement.Status.ACTIVE or agreement.notice_given_at:
        raise Http404("Only an Active agreement without a notice can be ended early.")
    party = agreement.party_of(request.user)
    today = request.user.today()
    ends_on = agreement.notice_end_date(today)
    note = agreement.closing_note_of(party)
    form = ClosingNoteForm(request.POST or None, instance=note, prefix="note")
    if request.method == "POST" and form.is_valid():
        return attempt(
            request,
            partial(
                agreement.give_notice,
                by=request.user,
                closing_note=form.values(),
                origin=Origin.of(request),
            ),
            done=lambda ends: (
                _("The agreement has ended. Thank you both.")
                if ends <= today
                else _("Notice given: the agreement ends on %(date)s.")
                % {"date": date_format(ends)}
            ),
            back=detail_url(agreement),
        )
    return render(
        request,
        "agreements/exit.html",
        {
            "agreement": agreement,
            "term": agreement.content_in_force.term,
            "ends_on": ends_on,
            "today": today,
            "form": form,
            "other": agreement.other_person(request.user),
        },
    )


def closing_note(request, agreement_id):
    agreement = agreement_for(request, agreement_id, records=True)
    if agreement.status != Agreement.Status.ACTIVE:
        raise Http404("Closing notes are written until the agreement ends.")
    note = agreement.closing_note_of(agreement.party_of(request.user))
    form = ClosingNoteForm(request.POST or None, instance=note)
    if request.method == "POST" and form.is_valid():
        return attempt(
            request,
            partial(
                agreement.write_closing_note,
                by=request.user,
                origin=Origin.of(request),
                **form.values(),
            ),
            done=_("Your closing note is saved; it goes into the final PDF."),
            back=detail_url(agreement) + "#closing",
        )
    return render(request, "agreements/closing_note.html", {"agreement": agreement, "form": form})
