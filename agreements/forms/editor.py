"""The editor of one section of the draft: the form or formsets that edit it,
validated and saved together."""

from django.db import transaction
from django.utils.translation import gettext as _

from agreements.models import Section
from agreements.services import MAX_CHECKINS, checkin_dates

from .languages import LanguageForm
from .section_rows import CheckInFormSet, GoalFormSet, OffLimitsTopicFormSet
from .sections import ConfidentialityForm, ContactPreferenceForm, MeetingScheduleForm, TermForm


def suggested_checkins(agreement):
    """Check-in dates for an empty check-ins section, once the term is known:
    the locked cadence, else the one the program's template suggests today."""
    term = agreement.term
    if agreement.checkins.all() or not (term.start_date and term.exit_date):
        return []
    weeks = agreement.policy.get("checkin_every_weeks") or agreement.program.checkin_every_weeks
    if not weeks:
        return []
    return checkin_dates(term.start_date, term.exit_date, weeks)[:MAX_CHECKINS]


class SectionEditor:
    """The form(s) that edit one section, validated and saved together."""

    def __init__(self, agreement, kind, party, data=None):
        self.kind = kind
        self.forms = []  # (heading, form or formset)
        # The other party's contact preferences, shown but not editable: each
        # party writes only their own, and agrees to the other's.
        self.other_contact = None
        Kind = Section.Kind
        if kind == Kind.CONTACT:
            self.forms.append(
                (
                    None,
                    ContactPreferenceForm(
                        data,
                        instance=agreement.contact_for(party),
                        prefix=party.value,
                        legend=_("Your contact preferences"),
                    ),
                )
            )
            other = party.other
            self.other_contact = {
                "party": other,
                "person": agreement.user_for(other),
                "content": {
                    "contact": [agreement.contact_for(other)],
                    other.value: {"name": agreement.user_for(other).full_name},
                },
            }
        elif kind == Kind.SCHEDULE:
            self.forms.append(
                (
                    None,
                    MeetingScheduleForm(
                        data,
                        instance=agreement.schedule,
                        default_time_zone=agreement.user_for(party).time_zone,
                    ),
                )
            )
        elif kind == Kind.GOALS:
            self.forms.append((None, GoalFormSet(data, instance=agreement, prefix="goals")))
        elif kind == Kind.CHECKINS:
            suggested = [] if data is not None else suggested_checkins(agreement)
            self.forms.append(
                (
                    None,
                    CheckInFormSet(
                        data,
                        instance=agreement,
                        prefix="checkins",
                        initial=[{"date": day} for day in suggested] or None,
                    ),
                )
            )
        elif kind == Kind.CONFIDENTIALITY:
            self.forms.append(
                (None, ConfidentialityForm(data, instance=agreement.confidentiality, party=party))
            )
        elif kind == Kind.OFF_LIMITS:
            self.forms.append(
                (None, OffLimitsTopicFormSet(data, instance=agreement, prefix="topics"))
            )
        elif kind == Kind.TERM:
            self.forms.append((None, TermForm(data, instance=agreement.term)))
        elif kind == Kind.LANGUAGE:
            self.forms.append((None, LanguageForm(data, instance=agreement)))
        else:
            raise ValueError(kind)

    @property
    def form(self):
        """The one form or formset every section has (for the page's error summary)."""
        return self.forms[0][1]

    def is_valid(self):
        return all([form.is_valid() for _heading, form in self.forms])

    def save(self):
        with transaction.atomic():
            for _heading, form in self.forms:
                form.save()
