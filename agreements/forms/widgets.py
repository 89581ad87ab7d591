"""Widgets and choices that forms of several concepts share."""

import zoneinfo

from django import forms


def time_zone_choices():
    return [("", "---------")] + [(zone, zone) for zone in sorted(zoneinfo.available_timezones())]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)
