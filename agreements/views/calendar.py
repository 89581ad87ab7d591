"""Agreements in a calendar: a file per agreement, and a private feed per person.

The feed's URL is its only key (calendar apps cannot log in): a long random
token that its owner can replace, which makes the old URL a plain 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST, require_safe

from agreements import sign_on
from agreements.calendar import agreement_calendar, meetings_left_out
from agreements.models import Agreement, CalendarFeed

from .access import agreement_for

ICS_TYPE = "text/calendar; charset=utf-8"


def _for_calendar(agreements):
    """What the calendar reads, in a fixed number of queries however many agreements."""
    return agreements.select_related("program", "mentor", "mentee").prefetch_related(
        "versions", "checkin_records", "pauses"
    )


def _other_name(agreement, user):
    return agreement.other_person(user).full_name


def agreement_ics(request, agreement_id):
    agreement = agreement_for(request, agreement_id, working_copy=False)
    if agreement.version_in_force is None:
        raise Http404("Nothing is in force yet: both of you sign first.")
    # Read for every event: once, not a query each.
    prefetch_related_objects([agreement], "pauses")
    other = _other_name(agreement, request.user)
    calendar = agreement_calendar(
        [agreement], user=request.user, name=_("Mentoring with %(name)s") % {"name": other}
    )
    response = HttpResponse(calendar.to_ical(), content_type=ICS_TYPE)
    filename = f"mentoring-{slugify(other) or agreement.uuid}.ics"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def calendar_page(request):
    feed = CalendarFeed.objects.filter(user=request.user).first()
    feed_url = (
        request.build_absolute_uri(reverse("agreements:calendar_feed", args=[feed.token]))
        if feed
        else None
    )
    rows, unsigned = [], []
    # Not the agreements of a program this session has not logged in for
    # (sign_on).
    agreements, _locked = sign_on.split_by_program(
        request,
        Agreement.objects.for_party(request.user)
        .select_related("program", "mentor", "mentee")
        .prefetch_related("versions"),
    )
    for agreement in agreements:
        if agreement.content_in_force is None:
            unsigned.append((agreement, _other_name(agreement, request.user)))
            continue
        rows.append(
            {
                "agreement": agreement,
                "other": _other_name(agreement, request.user),
                "schedule": agreement.content_in_force.schedule,
                "left_out": meetings_left_out(agreement.content_in_force.schedule),
                "end_date": agreement.end_date,
            }
        )
    return render(
        request,
        "agreements/calendar.html",
        {"feed": feed, "feed_url": feed_url, "rows": rows, "unsigned": unsigned},
    )


@require_POST
def calendar_regenerate(request):
    feed, created = CalendarFeed.objects.get_or_create(user=request.user)
    if created:
        messages.success(
            request,
            _("Your private feed link is ready. Add it to your calendar app as a subscription."),
        )
    else:
        feed.regenerate()
        messages.success(
            request,
            _(
                "You have a new feed link; the old one no longer works. Subscribe again with the "
                "new link."
            ),
        )
    return redirect("agreements:calendar")


@login_not_required
@require_safe
@cache_control(private=True, max_age=300)
def calendar_feed(request, token):
    # The token is the whole key: an unknown or replaced one is a plain 404,
    # which says nothing about whether it ever existed.
    feed = get_object_or_404(
        CalendarFeed.objects.select_related("user"), token=token, user__is_active=True
    )
    # A program that asks for single sign-on keeps its agreements out of it:
    # a secret address is no login with the organisation.
    agreements = _for_calendar(
        Agreement.objects.for_party(feed.user).exclude(program__sign_on_required=True)
    )
    # A calendar app cannot sign in: the owner's chosen language, else the
    # one its Accept-Language asked for.
    language = feed.user.chosen_language or translation.get_language()
    with translation.override(language):
        calendar = agreement_calendar(agreements, user=feed.user)
    return HttpResponse(calendar.to_ical(), content_type=ICS_TYPE)
