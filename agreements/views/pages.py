"""The public pages that explain the app: how it works, and its accessibility."""

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import render


@login_not_required
def how_it_works(request):
    return render(request, "pages/how_it_works.html")


@login_not_required
def accessibility(request):
    return render(request, "pages/accessibility.html", {"contact": settings.ACCESSIBILITY_CONTACT})
