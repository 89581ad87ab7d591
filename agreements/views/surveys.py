"""A party's pulse survey, at the midpoint of the term and near its end: the
short form while it is open, then their own answers, read-only.

Each party sees their own answers only; the other party's are never loaded.
The program sees the numbers only added up over enough people
(``agreements.outcomes``), never a comment.
"""

from functools import partial

from django.contrib import messages
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from agreements.forms import SurveyForm
from agreements.models import Origin, SurveyResponse
from agreements.outcomes import min_respondents

from .access import agreement_for, detail_url, moved


def surveys_for(agreement, user, today):
    """(moment, answered) of each survey the agreement page offers the user:
    those they answered, and those open that they have not; from the
    prefetched answers."""
    offered = []
    for moment in SurveyResponse.Moment:
        answered = agreement.survey_answer_of(user, moment) is not None
        if answered or agreement.survey_is_open(moment, today):
            offered.append((moment, answered))
    return offered


def _survey_url(agreement, moment):
    return reverse("agreements:survey", args=[agreement.uuid, moment])


def survey(request, agreement_id, moment):
    """GET: the user's own answers, or the form while the survey is open
    (else 404). POST: answer it, once."""
    agreement = agreement_for(request, agreement_id, working_copy=False)
    # What the survey's dates and the user's answer read: the version in
    # force and the user's own answers (the other party's are not even loaded).
    own = SurveyResponse.objects.filter(party=agreement.party_of(request.user))
    prefetch_related_objects([agreement], "versions", Prefetch("survey_responses", queryset=own))
    moment = SurveyResponse.Moment(moment)
    answer = agreement.survey_answer_of(request.user, moment)
    if answer is None and not agreement.survey_is_open(moment, request.user.today()):
        raise Http404("No survey to answer.")
    if answer is not None:
        if request.method == "POST":
            # Nothing to change: the answers are given once.
            messages.info(request, _("You already answered this survey: here are your answers."))
            return redirect(_survey_url(agreement, moment))
        return _page(request, agreement, moment, answer=answer)
    form = SurveyForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        answered = moved(
            request,
            partial(
                agreement.answer_survey,
                moment=moment,
                **form.cleaned_data,
                by=request.user,
                origin=Origin.of(request),
            ),
            done=_("Thank you! Your answers are saved."),
        )
        # Refused (closed or answered since the page was shown): the
        # agreement's page says why.
        return redirect(_survey_url(agreement, moment) if answered else detail_url(agreement))
    return _page(request, agreement, moment, form=form)


def _page(request, agreement, moment, *, answer=None, form=None):
    """The form, or the user's answers to the form's questions in its words."""
    answers = answer and [
        (field.label, getattr(answer, field.name), field.field.ends)
        for field in SurveyForm().scales()
    ]
    return render(
        request,
        "agreements/survey.html",
        {
            "agreement": agreement,
            "moment": moment,
            "other": agreement.other_person(request.user),
            "answer": answer,
            "answers": answers,
            "form": form,
            "min_respondents": min_respondents(),
        },
    )
