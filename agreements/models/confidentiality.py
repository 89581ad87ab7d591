"""The sections on what stays private: confidentiality and its limits, and
the topics that are off limits. Like the other sections (``sections.py``),
each turns into canonical data and back."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .text import LINE_LIMIT, long_text


class Confidentiality(models.Model):
    agreement = models.OneToOneField(
        "Agreement", on_delete=models.CASCADE, related_name="confidentiality"
    )
    work_matters = long_text(
        gettext_lazy("work matters the mentee chooses to share"),
        blank=True,
        help_text=gettext_lazy("For example performance feedback, team conflicts, career plans."),
    )
    personal_matters = long_text(
        gettext_lazy("life outside work the mentee is willing to discuss"), blank=True
    )
    mentor_areas = long_text(gettext_lazy("areas the mentor brings in"), blank=True)
    yields_to_risk_of_harm = models.BooleanField(
        gettext_lazy("risk of harm to the mentee or others"), default=True
    )
    yields_to_legal_duty = models.BooleanField(
        gettext_lazy("a legal duty to disclose"), default=True
    )
    yields_to_organisation_duty = models.BooleanField(
        gettext_lazy("duties to the organisation (e.g. fraud, safety)"), default=True
    )
    exceptions_notes = long_text(
        gettext_lazy("how an exception is handled"),
        blank=True,
        help_text=gettext_lazy(
            "For example: the mentor tells the mentee first, where that is safe."
        ),
    )
    third_party_allowed = models.BooleanField(
        gettext_lazy("the mentor may consult a named third party"), default=False
    )
    third_party_name = models.CharField(
        gettext_lazy("third party"), max_length=LINE_LIMIT, blank=True
    )
    third_party_limits = long_text(gettext_lazy("within these limits"), blank=True)
    third_party_consent = models.BooleanField(
        gettext_lazy("the mentee consents to this consultation"), default=False
    )
    line_manager_by_mentor = long_text(
        gettext_lazy("what the mentor may tell the mentee's line manager"), blank=True
    )
    line_manager_by_mentee = long_text(
        gettext_lazy("what the mentee may tell their line manager"), blank=True
    )

    def __str__(self):
        return _("Confidentiality")

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
        NOT_DISCUSSED = "never", gettext_lazy("Not discussed")
        MENTEE_RAISES = "mentee_raises", gettext_lazy("Only if the mentee raises it")

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
        return _("Off-limits topic %(id)s") % {"id": self.pk}

    def as_data(self):
        return {"topic": self.topic, "rule": self.rule}

    @classmethod
    def from_data(cls, data):
        return cls(**data)
