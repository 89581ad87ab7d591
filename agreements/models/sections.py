"""The structured content of an agreement, one model per section.

Each model turns into the canonical data a signature stands on
(``as_data``) and back (``from_data``), so an amendment can be withdrawn.
"""

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .parties import Party
from .text import LINE_LIMIT, long_text
from .users import validate_time_zone


def _date(value):
    return datetime.date.fromisoformat(value) if value else None


def _time(value):
    return datetime.time.fromisoformat(value) if value else None


class Arranger(models.TextChoices):
    MENTOR = "mentor", gettext_lazy("The mentor")
    MENTEE = "mentee", gettext_lazy("The mentee")
    BOTH = "both", gettext_lazy("Both, taking turns")


class ContactPreference(models.Model):
    class ResponseTime(models.TextChoices):
        SAME_DAY = "same_day", gettext_lazy("The same working day")
        ONE_DAY = "one_day", gettext_lazy("Within one working day")
        TWO_DAYS = "two_days", gettext_lazy("Within two working days")
        ONE_WEEK = "one_week", gettext_lazy("Within a week")

    # The channels in display order: (flag field, details field, label).
    CHANNELS = [
        ("by_email", "email_details", gettext_lazy("Email")),
        ("by_phone", "phone_details", gettext_lazy("Phone")),
        ("by_video", "video_details", gettext_lazy("Video call")),
        ("by_chat", "chat_details", gettext_lazy("Chat")),
        ("in_person", "in_person_details", gettext_lazy("In person")),
    ]

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="contact_preferences"
    )
    party = models.CharField(max_length=6, choices=Party.choices)
    by_email = models.BooleanField(gettext_lazy("email"), default=False)
    email_details = models.CharField(
        gettext_lazy("email address"), max_length=LINE_LIMIT, blank=True
    )
    by_phone = models.BooleanField(gettext_lazy("phone"), default=False)
    phone_details = models.CharField(
        gettext_lazy("phone number"), max_length=LINE_LIMIT, blank=True
    )
    by_video = models.BooleanField(gettext_lazy("video call"), default=False)
    video_details = models.CharField(
        gettext_lazy("video call link or app"), max_length=LINE_LIMIT, blank=True
    )
    by_chat = models.BooleanField(gettext_lazy("chat"), default=False)
    chat_details = models.CharField(
        gettext_lazy("chat app and handle"), max_length=LINE_LIMIT, blank=True
    )
    in_person = models.BooleanField(gettext_lazy("in person"), default=False)
    in_person_details = models.CharField(
        gettext_lazy("where to find me"), max_length=LINE_LIMIT, blank=True
    )
    preferred_times = models.CharField(
        gettext_lazy("preferred days and times"),
        max_length=LINE_LIMIT,
        blank=True,
        help_text=gettext_lazy("For example: weekdays 9:00–17:00, not on Fridays."),
    )
    response_time = models.CharField(
        gettext_lazy("expected response time"),
        max_length=10,
        choices=ResponseTime.choices,
        blank=True,
    )

    class Meta:
        ordering = ["-party"]  # "mentor" sorts after "mentee": the mentor comes first
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party"], name="agreements_contactpreference_one_per_party"
            ),
        ]

    def __str__(self):
        if self.party == Party.MENTOR:
            return _("Contact preferences of the mentor")
        return _("Contact preferences of the mentee")

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
        WEEKLY = "weekly", gettext_lazy("Weekly")
        FORTNIGHTLY = "fortnightly", gettext_lazy("Every two weeks")
        MONTHLY = "monthly", gettext_lazy("Monthly")
        CUSTOM = "custom", gettext_lazy("Other (describe)")

    class Format(models.TextChoices):
        IN_PERSON = "in_person", gettext_lazy("In person")
        VIDEO = "video", gettext_lazy("Video call")
        PHONE = "phone", gettext_lazy("Phone")
        MIXED = "mixed", gettext_lazy("Mixed")

    agreement = models.OneToOneField("Agreement", on_delete=models.CASCADE, related_name="schedule")
    frequency = models.CharField(max_length=12, choices=Frequency.choices, blank=True)
    frequency_custom = models.CharField(
        gettext_lazy("other frequency"),
        max_length=LINE_LIMIT,
        blank=True,
        help_text=gettext_lazy("Only for “Other”."),
    )
    time = models.TimeField(
        gettext_lazy("time of day"),
        null=True,
        blank=True,
        help_text=gettext_lazy(
            "Meetings repeat from the start date at this time, until the exit date."
        ),
    )
    time_zone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=gettext_lazy(
            "Where the meeting time is reckoned; each calendar shows it in local time."
        ),
    )
    duration_minutes = models.PositiveSmallIntegerField(
        gettext_lazy("duration (minutes)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(600)],
    )
    format = models.CharField(max_length=10, choices=Format.choices, blank=True)
    location = models.CharField(gettext_lazy("place or link"), max_length=LINE_LIMIT, blank=True)
    arranged_by = models.CharField(
        gettext_lazy("who arranges meetings"), max_length=6, choices=Arranger, blank=True
    )
    agenda_by = models.CharField(
        gettext_lazy("who sets the agenda"), max_length=6, choices=Arranger, blank=True
    )
    notice_hours = models.PositiveSmallIntegerField(
        gettext_lazy("notice to cancel or move a meeting (hours)"),
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
        return _("Meeting schedule")

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
    owner = models.CharField(gettext_lazy("whose goal"), max_length=6, choices=Party.choices)
    description = long_text(gettext_lazy("goal"))
    success_measure = long_text(gettext_lazy("how success is measured"))
    target_date = models.DateField()

    class Meta:
        ordering = ["target_date", "pk"]

    def __str__(self):
        # Content never goes into __str__: the Django admin shows it in lists.
        return _("Goal %(id)s") % {"id": self.pk}

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
        gettext_lazy("what to review"),
        max_length=LINE_LIMIT,
        blank=True,
        help_text=gettext_lazy("Optional."),
    )

    class Meta:
        ordering = ["date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "date"], name="agreements_checkin_one_per_day"
            ),
        ]

    def __str__(self):
        return _("Check-in %(id)s") % {"id": self.pk}

    def as_data(self):
        return {"date": self.date, "focus": self.focus}

    @classmethod
    def from_data(cls, data):
        return cls(date=_date(data["date"]), focus=data["focus"])


class Term(models.Model):
    agreement = models.OneToOneField("Agreement", on_delete=models.CASCADE, related_name="term")
    start_date = models.DateField(null=True, blank=True)
    exit_date = models.DateField(null=True, blank=True)
    notice_days = models.PositiveSmallIntegerField(
        gettext_lazy("notice for an early exit (days)"),
        default=14,
        validators=[MaxValueValidator(365)],
        help_text=gettext_lazy(
            "Either party may end the relationship early, without giving a reason."
        ),
    )
    closing_conversation = models.BooleanField(
        gettext_lazy("offer a closing conversation if both want one"), default=True
    )
    # Either party may pause the meetings without a reason
    # (``agreements.models.pauses``): for at most this many days at a time.
    pause_max_days = models.PositiveSmallIntegerField(
        gettext_lazy("longest pause (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=gettext_lazy(
            "Either of you may pause meetings without giving a reason, for at most this "
            "many days at a time. Leave empty for no limit within the term."
        ),
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
        return _("Term and exit")

    def is_complete(self):
        return bool(self.start_date and self.exit_date)

    def as_data(self):
        return {
            "start_date": self.start_date,
            "exit_date": self.exit_date,
            "notice_days": self.notice_days,
            "closing_conversation": self.closing_conversation,
            "pause_max_days": self.pause_max_days,
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
