"""The structured content of an agreement, one model per section."""

import datetime
import functools
import itertools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.formats import date_format

from agreements import content

from .users import validate_time_zone

TEXT_LIMIT = 2000
LINE_LIMIT = 200
# Lines in one text: with TEXT_LIMIT this bounds the longest PDF the forms
# allow (README: "Draft PDFs"); 2,000 one-character lines made 750 pages.
TEXT_LINES_LIMIT = 50


def validate_text_lines(value):
    # Every line break a PDF renderer honours counts: U+2028 and the like too.
    lines = len(content.normalise_text(value).splitlines()) or 1
    if lines > TEXT_LINES_LIMIT:
        raise ValidationError(
            "Keep this to at most %(limit)s lines (it has %(lines)s): join short lines, "
            "or separate items with commas.",
            code="too_many_lines",
            params={"limit": TEXT_LINES_LIMIT, "lines": lines},
        )


def long_text(verbose_name=None, **kwargs):
    """A text the pair writes: at most TEXT_LIMIT characters in at most
    TEXT_LINES_LIMIT lines."""
    return models.TextField(
        verbose_name, max_length=TEXT_LIMIT, validators=[validate_text_lines], **kwargs
    )


def _date(value):
    return datetime.date.fromisoformat(value) if value else None


def _time(value):
    return datetime.time.fromisoformat(value) if value else None


class Party(models.TextChoices):
    MENTOR = "mentor", "Mentor"
    MENTEE = "mentee", "Mentee"


class Arranger(models.TextChoices):
    MENTOR = "mentor", "The mentor"
    MENTEE = "mentee", "The mentee"
    BOTH = "both", "Both, taking turns"


class ContactPreference(models.Model):
    class ResponseTime(models.TextChoices):
        SAME_DAY = "same_day", "The same working day"
        ONE_DAY = "one_day", "Within one working day"
        TWO_DAYS = "two_days", "Within two working days"
        ONE_WEEK = "one_week", "Within a week"

    # The channels in display order: (flag field, details field, label).
    CHANNELS = [
        ("by_email", "email_details", "Email"),
        ("by_phone", "phone_details", "Phone"),
        ("by_video", "video_details", "Video call"),
        ("by_chat", "chat_details", "Chat"),
        ("in_person", "in_person_details", "In person"),
    ]

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="contact_preferences"
    )
    party = models.CharField(max_length=6, choices=Party.choices)
    by_email = models.BooleanField("email", default=False)
    email_details = models.CharField("email address", max_length=LINE_LIMIT, blank=True)
    by_phone = models.BooleanField("phone", default=False)
    phone_details = models.CharField("phone number", max_length=LINE_LIMIT, blank=True)
    by_video = models.BooleanField("video call", default=False)
    video_details = models.CharField("video call link or app", max_length=LINE_LIMIT, blank=True)
    by_chat = models.BooleanField("chat", default=False)
    chat_details = models.CharField("chat app and handle", max_length=LINE_LIMIT, blank=True)
    in_person = models.BooleanField("in person", default=False)
    in_person_details = models.CharField("where to find me", max_length=LINE_LIMIT, blank=True)
    preferred_times = models.CharField(
        "preferred days and times",
        max_length=LINE_LIMIT,
        blank=True,
        help_text="For example: weekdays 9:00–17:00, not on Fridays.",
    )
    response_time = models.CharField(
        "expected response time", max_length=10, choices=ResponseTime.choices, blank=True
    )

    class Meta:
        ordering = ["-party"]  # "mentor" sorts after "mentee": the mentor comes first
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"], name="agreements_contactpreference_one_per_party"
            ),
        ]

    def __str__(self):
        return f"Contact preferences of the {self.get_party_display().lower()}"

    def channels(self):
        """(label, details) for each channel this party chose."""
        return [
            (label, getattr(self, details))
            for flag, details, label in self.CHANNELS
            if getattr(self, flag)
        ]

    def is_complete(self):
        return bool(self.channels()) and bool(self.response_time)

    def as_data(self):
        return {
            "channels": {
                flag: {"chosen": getattr(self, flag), "details": getattr(self, details)}
                for flag, details, _label in self.CHANNELS
            },
            "preferred_times": self.preferred_times,
            "response_time": self.response_time,
        }

    @classmethod
    def from_data(cls, party, data):
        """An unsaved instance from ``as_data()`` output, e.g. a signed version's."""
        preference = cls(
            party=party,
            preferred_times=data["preferred_times"],
            response_time=data["response_time"],
        )
        for flag, details, _label in cls.CHANNELS:
            channel = data["channels"][flag]
            setattr(preference, flag, channel["chosen"])
            setattr(preference, details, channel["details"])
        return preference


class MeetingSchedule(models.Model):
    class Frequency(models.TextChoices):
        WEEKLY = "weekly", "Weekly"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        MONTHLY = "monthly", "Monthly"
        CUSTOM = "custom", "Other (describe)"

    class Format(models.TextChoices):
        IN_PERSON = "in_person", "In person"
        VIDEO = "video", "Video call"
        PHONE = "phone", "Phone"
        MIXED = "mixed", "Mixed"

    agreement = models.OneToOneField("Agreement", on_delete=models.CASCADE, related_name="schedule")
    frequency = models.CharField(max_length=12, choices=Frequency.choices, blank=True)
    frequency_custom = models.CharField(
        "other frequency", max_length=LINE_LIMIT, blank=True, help_text="Only for “Other”."
    )
    time = models.TimeField(
        "time of day",
        null=True,
        blank=True,
        help_text="Meetings repeat from the start date at this time, until the exit date.",
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text="Where the meeting time is reckoned; each calendar shows it in local time.",
    )
    duration_minutes = models.PositiveSmallIntegerField(
        "duration (minutes)",
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
    )
    format = models.CharField(max_length=10, choices=Format.choices, blank=True)
    location = models.CharField("place or link", max_length=LINE_LIMIT, blank=True)
    arranged_by = models.CharField(
        "who arranges meetings", max_length=6, choices=Arranger.choices, blank=True
    )
    agenda_by = models.CharField(
        "who sets the agenda", max_length=6, choices=Arranger.choices, blank=True
    )
    notice_hours = models.PositiveSmallIntegerField(
        "notice to cancel or move a meeting (hours)",
        null=True,
        blank=True,
        validators=[MaxValueValidator(720)],
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True) | Q(duration_minutes__gt=0),
                name="agreements_meetingschedule_duration_positive",
            ),
        ]

    def __str__(self):
        return "Meeting schedule"

    def frequency_display(self):
        if self.frequency == self.Frequency.CUSTOM:
            return self.frequency_custom
        return self.get_frequency_display()

    @property
    def repeats(self):
        """Meetings follow a rhythm a calendar can repeat."""
        return self.frequency in {
            self.Frequency.WEEKLY,
            self.Frequency.FORTNIGHTLY,
            self.Frequency.MONTHLY,
        }

    def is_complete(self):
        return all(
            [
                self.frequency,
                self.frequency != self.Frequency.CUSTOM or self.frequency_custom,
                self.frequency == self.Frequency.CUSTOM or (self.time and self.time_zone),
                self.duration_minutes,
                self.format,
                self.arranged_by,
                self.agenda_by,
                self.notice_hours is not None,
            ]
        )

    def as_data(self):
        return {
            "frequency": self.frequency,
            "frequency_custom": self.frequency_custom,
            "time": self.time.strftime("%H:%M") if self.time else None,
            "time_zone": self.time_zone,
            "duration_minutes": self.duration_minutes,
            "format": self.format,
            "location": self.location,
            "arranged_by": self.arranged_by,
            "agenda_by": self.agenda_by,
            "notice_hours": self.notice_hours,
        }

    @classmethod
    def from_data(cls, data):
        # Versions signed before meeting times existed have no time keys.
        return cls(
            **{**data, "time": _time(data.get("time")), "time_zone": data.get("time_zone", "")}
        )


class Goal(models.Model):
    agreement = models.ForeignKey("Agreement", on_delete=models.CASCADE, related_name="goals")
    owner = models.CharField("whose goal", max_length=6, choices=Party.choices)
    description = long_text("goal")
    success_measure = long_text("how success is measured")
    target_date = models.DateField()

    class Meta:
        ordering = ["target_date", "pk"]

    def __str__(self):
        # Content never goes into __str__: the Django admin shows it in lists.
        return f"Goal {self.pk}"

    def as_data(self):
        return {
            "owner": self.owner,
            "description": self.description,
            "success_measure": self.success_measure,
            "target_date": self.target_date,
        }

    @classmethod
    def from_data(cls, data):
        return cls(**{**data, "target_date": _date(data["target_date"])})


class CheckIn(models.Model):
    """A dated progress review the pair commits to."""

    agreement = models.ForeignKey("Agreement", on_delete=models.CASCADE, related_name="checkins")
    date = models.DateField()
    focus = models.CharField(
        "what to review", max_length=LINE_LIMIT, blank=True, help_text="Optional."
    )

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "date"], name="agreements_checkin_one_per_day"
            ),
        ]

    def __str__(self):
        return f"Check-in {self.pk}"

    def as_data(self):
        return {"date": self.date, "focus": self.focus}

    @classmethod
    def from_data(cls, data):
        return cls(date=_date(data["date"]), focus=data["focus"])


class Confidentiality(models.Model):
    agreement = models.OneToOneField(
        "Agreement", on_delete=models.CASCADE, related_name="confidentiality"
    )
    work_matters = long_text(
        "work matters the mentee chooses to share",
        blank=True,
        help_text="For example performance feedback, team conflicts, career plans.",
    )
    personal_matters = long_text("life outside work the mentee is willing to discuss", blank=True)
    mentor_areas = long_text("areas the mentor brings in", blank=True)
    yields_to_risk_of_harm = models.BooleanField(
        "risk of harm to the mentee or others", default=True
    )
    yields_to_legal_duty = models.BooleanField("a legal duty to disclose", default=True)
    yields_to_organisation_duty = models.BooleanField(
        "duties to the organisation (e.g. fraud, safety)", default=True
    )
    exceptions_notes = long_text(
        "how an exception is handled",
        blank=True,
        help_text="For example: the mentor tells the mentee first, where that is safe.",
    )
    third_party_allowed = models.BooleanField(
        "the mentor may consult a named third party", default=False
    )
    third_party_name = models.CharField("third party", max_length=LINE_LIMIT, blank=True)
    third_party_limits = long_text("within these limits", blank=True)
    third_party_consent = models.BooleanField(
        "the mentee consents to this consultation", default=False
    )
    line_manager_by_mentor = long_text(
        "what the mentor may tell the mentee's line manager", blank=True
    )
    line_manager_by_mentee = long_text("what the mentee may tell their line manager", blank=True)

    def __str__(self):
        return "Confidentiality"

    def exceptions(self):
        return [
            self._meta.get_field(name).verbose_name
            for name in (
                "yields_to_risk_of_harm",
                "yields_to_legal_duty",
                "yields_to_organisation_duty",
            )
            if getattr(self, name)
        ]

    def is_complete(self):
        if self.third_party_allowed and not self.third_party_consent:
            return False
        return bool(self.work_matters and self.line_manager_by_mentor)

    def as_data(self):
        return {
            "work_matters": self.work_matters,
            "personal_matters": self.personal_matters,
            "mentor_areas": self.mentor_areas,
            "yields_to": {
                "risk_of_harm": self.yields_to_risk_of_harm,
                "legal_duty": self.yields_to_legal_duty,
                "organisation_duty": self.yields_to_organisation_duty,
            },
            "exceptions_notes": self.exceptions_notes,
            "third_party": {
                "allowed": self.third_party_allowed,
                "name": self.third_party_name,
                "limits": self.third_party_limits,
                "mentee_consent": self.third_party_consent,
            },
            "line_manager": {
                "by_mentor": self.line_manager_by_mentor,
                "by_mentee": self.line_manager_by_mentee,
            },
        }

    @classmethod
    def from_data(cls, data):
        yields_to, third_party = data["yields_to"], data["third_party"]
        return cls(
            work_matters=data["work_matters"],
            personal_matters=data["personal_matters"],
            mentor_areas=data["mentor_areas"],
            yields_to_risk_of_harm=yields_to["risk_of_harm"],
            yields_to_legal_duty=yields_to["legal_duty"],
            yields_to_organisation_duty=yields_to["organisation_duty"],
            exceptions_notes=data["exceptions_notes"],
            third_party_allowed=third_party["allowed"],
            third_party_name=third_party["name"],
            third_party_limits=third_party["limits"],
            third_party_consent=third_party["mentee_consent"],
            line_manager_by_mentor=data["line_manager"]["by_mentor"],
            line_manager_by_mentee=data["line_manager"]["by_mentee"],
        )


class OffLimitsTopic(models.Model):
    class Rule(models.TextChoices):
        NOT_DISCUSSED = "never", "Not discussed"
        MENTEE_RAISES = "mentee_raises", "Only if the mentee raises it"

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="off_limits_topics"
    )
    topic = models.CharField(max_length=LINE_LIMIT)
    rule = models.CharField(max_length=13, choices=Rule.choices)
    # Set when one party added the topic to an Active agreement: an addition
    # only narrows what is discussed, so it needs no new signatures.
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Off-limits topic {self.pk}"

    def as_data(self):
        return {"topic": self.topic, "rule": self.rule}

    @classmethod
    def from_data(cls, data):
        return cls(**data)


class Term(models.Model):
    agreement = models.OneToOneField("Agreement", on_delete=models.CASCADE, related_name="term")
    start_date = models.DateField(null=True, blank=True)
    exit_date = models.DateField(null=True, blank=True)
    notice_days = models.PositiveSmallIntegerField(
        "notice for an early exit (days)",
        default=14,
        validators=[MaxValueValidator(365)],
        help_text="Either party may end the relationship early, without giving a reason.",
    )
    closing_conversation = models.BooleanField(
        "offer a closing conversation if both want one", default=True
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(exit_date__isnull=True)
                | Q(exit_date__gt=F("start_date")),
                name="agreements_term_exit_after_start",
            ),
        ]

    def __str__(self):
        return "Term and exit"

    def is_complete(self):
        return bool(self.start_date and self.exit_date)

    def as_data(self):
        return {
            "start_date": self.start_date,
            "exit_date": self.exit_date,
            "notice_days": self.notice_days,
            "closing_conversation": self.closing_conversation,
        }

    @classmethod
    def from_data(cls, data):
        return cls(
            **{
                **data,
                "start_date": _date(data["start_date"]),
                "exit_date": _date(data["exit_date"]),
            }
        )


def checkin_gaps(start, exit_, dates, weeks):
    """Each stretch of a term from ``start`` to ``exit_`` that goes more than
    ``weeks`` weeks without a check-in, in words."""
    bounds = [
        (f"the start date, {date_format(start)},", start),
        *((f"the check-in on {date_format(day)}", day) for day in sorted(dates)),
        (f"the exit date, {date_format(exit_)},", exit_),
    ]
    limit = datetime.timedelta(weeks=weeks)
    return [
        f"{(to - since).days} days from {first} to {second}"
        for (first, since), (second, to) in itertools.pairwise(bounds)
        if to - since > limit
    ]


# Keys of the canonical data that are not model fields (see the as_data methods).
EXTRA_LABELS = {
    "mentor": "Mentor",
    "mentee": "Mentee",
    "channels": "channels",
    "chosen": "chosen",
    "details": "details",
    "yields_to": "confidentiality yields to",
    "risk_of_harm": "risk of harm",
    "legal_duty": "legal duty",
    "organisation_duty": "duties to the organisation",
    "third_party": "third party",
    "allowed": "allowed",
    "name": "name",
    "limits": "limits",
    "mentee_consent": "mentee's consent",
    "line_manager": "line manager",
    "by_mentor": "what the mentor may tell",
    "by_mentee": "what the mentee may tell",
}


@functools.cache
def vocabulary():
    """Human words for the canonical data: (labels by key, choice labels by key)."""
    labels, choices = dict(EXTRA_LABELS), {}
    for model in (
        ContactPreference, MeetingSchedule, Goal, CheckIn, Confidentiality, OffLimitsTopic, Term
    ):  # fmt: skip
        for field in model._meta.concrete_fields:
            labels.setdefault(field.name, str(field.verbose_name))
            if field.choices:
                choices[field.name] = {value: str(label) for value, label in field.flatchoices}
    return labels, choices


def describe_changes(before, after):
    """What changed between two snapshots of a section, in the words of its form."""
    return content.diff(before, after, *vocabulary())
