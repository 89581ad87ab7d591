"""The program's Outcomes page and each chart's CSV, for its admins: counts,
shares and survey averages over enough people (``agreements.outcomes``),
never what a pair wrote."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from agreements import outcomes

from .access import program_for


def outcomes_page(request, program_id):
    program = program_for(request, program_id)
    # The program's day (TIME_ZONE), whose months the rows are kept in.
    period = outcomes.Period(request.GET, timezone.localdate())
    charts, fading = outcomes.page(program, period)
    return render(
        request,
        "programs/outcomes.html",
        {"program": program, "period": period, "charts": charts, "fading": fading},
    )


def outcomes_csv(request, program_id, chart):
    """One chart's figures as CSV, for the same range as the page (the
    default one when the range cannot be used)."""
    program = program_for(request, program_id)
    if chart not in outcomes.CHARTS:
        raise Http404
    period = outcomes.Period(request.GET, timezone.localdate())
    response = HttpResponse(
        outcomes.chart_csv(program, period, chart), content_type="text/csv; charset=utf-8"
    )
    name = f"outcomes-{chart}-{period.first:%Y-%m}-to-{period.last:%Y-%m}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
