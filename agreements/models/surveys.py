"""Pulse surveys: at the midpoint of the term and near its end, each party
answers three questions and may add a comment.

Each party sees their own answers only. The program sees answers only
summed over at least ``SURVEY_MIN_RESPONDENTS`` people (``agreements.outcomes``),
and never a comment; the trail records that a party answered, not what.
``SurveysMixin`` is a concern of ``Agreement``.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.exceptions import SurveyClosed

from .audit import AuditEvent
from .ending import runs_on
from .parties import Party
from .text import long_text

if TYPE_CHECKING:
    from .agreement import Agreement
    from .audit import Origin
    from .users import User

# The end-of-term survey opens this many days before the end date, and
# stays open this many days after it.
END_SURVEY_OPENS_BEFORE = datetime.timedelta(days=14)
END_SURVEY_CLOSES_AFTER = datetime.timedelta(days=60)


class SurveysMixin(models.Model):
    class Meta:
        abstract = True

    def survey_opens_on(self: Agreement, moment: str) -> datetime.date | None:
        """The day the survey at ``moment`` opens, or None if this agreement
        has none: the midpoint of the term in force, or two weeks before its end."""
        plan = self.content_in_force
        if plan is None or plan.term.start_date is None:
            return None
        end = self.end_date
        if moment == SurveyResponse.Moment.MIDPOINT:
            if plan.term.exit_date is None:
                return None
            length = (plan.term.exit_date - plan.term.start_date).days
            midpoint = plan.term.start_date + datetime.timedelta(days=length // 2)
            return midpoint if runs_on(midpoint, end) else None
        if end is None:
            return None
        return max(plan.term.start_date, end - END_SURVEY_OPENS_BEFORE)

    def survey_is_open(self: Agreement, moment: str, today: datetime.date) -> bool:
        opens = self.survey_opens_on(moment)
        if opens is None or today < opens:
            return False
        end = self.end_date
        if moment == SurveyResponse.Moment.MIDPOINT:
            return self.status == self.Status.ACTIVE and runs_on(today, end)
        return today <= end + END_SURVEY_CLOSES_AFTER

    def survey_answer_of(self: Agreement, user: User, moment: str) -> SurveyResponse | None:
        """The user's own answer at ``moment``, from the prefetched answers."""
        party = self.party_of(user)
        return next(
            (
                answer
                for answer in self.survey_responses.all()
                if answer.party == party and answer.moment == moment
            ),
            None,
        )

    def surveys_to_answer(self: Agreement, user: User, today: datetime.date) -> list[str]:
        """The moments whose survey is open and the user has not answered."""
        return [
            moment
            for moment in SurveyResponse.Moment.values
            if self.survey_is_open(moment, today) and self.survey_answer_of(user, moment) is None
        ]

    def _surveys_todo(self: Agreement, user: User) -> list[str]:
        return [
            SurveyResponse.Moment(moment).todo
            for moment in self.surveys_to_answer(user, user.today())
        ]

    def answer_survey(
        self: Agreement,
        *,
        moment: str,
        satisfaction: int,
        growth: int,
        recommend: int,
        comment: str,
        by: User,
        origin: Origin | None = None,
    ) -> SurveyResponse:
        """A party's answers, once per survey."""
        with transaction.atomic():
            agreement = self._lock()
            if not agreement.survey_is_open(moment, by.today()):
                raise SurveyClosed(_("This survey is not open."))
            party = agreement.party_of(by)
            if agreement.survey_responses.filter(party=party, moment=moment).exists():
                raise SurveyClosed(_("You already answered this survey. Thank you!"))
            now = timezone.now()
            answer = SurveyResponse.objects.create(
                agreement=agreement,
                program_id=agreement.program_id,
                party=party,
                moment=moment,
                satisfaction=satisfaction,
                growth=growth,
                recommend=recommend,
                comment=comment,
                answered_at=now,
            )
            # That they answered, never what; and not as the pair's activity,
            # which the program's dashboard shows.
            agreement.audit(
                AuditEvent.Kind.SURVEY_ANSWERED,
                actor=by,
                origin=origin,
                at=now,
                details={"moment": moment, "party": party},
            )
            return answer


class SurveyResponse(models.Model):
    """One party's answers to one survey. The numbers reach the program only
    summed over enough people; the comment never does."""

    class Moment(models.TextChoices):
        MIDPOINT = "midpoint", gettext_lazy("Midpoint of the term")
        END = "end", gettext_lazy("End of the term")

        @property
        def todo(self):
            if self == SurveyResponse.Moment.MIDPOINT:
                return _("Answer the short midpoint survey (three questions)")
            return _("Answer the short end-of-term survey (three questions)")

    agreement = models.ForeignKey(
        "Agreement", on_delete=models.CASCADE, related_name="survey_responses"
    )
    # The agreement's program, so the Outcomes page sums a program's answers off one index.
    program = models.ForeignKey("Program", on_delete=models.CASCADE, related_name="+")
    party = models.CharField(max_length=6, choices=Party.choices)
    moment = models.CharField(max_length=8, choices=Moment.choices)
    satisfaction = models.PositiveSmallIntegerField(
        gettext_lazy("How satisfied are you with the mentoring so far?"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    growth = models.PositiveSmallIntegerField(
        gettext_lazy("Is this relationship helping you grow?"),
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    recommend = models.PositiveSmallIntegerField(
        gettext_lazy("How likely are you to recommend the program to a colleague or friend?"),
        validators=[MaxValueValidator(10)],
    )
    comment = long_text(gettext_lazy("Anything else? (only you see this)"), blank=True)
    answered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["answered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "party", "moment"], name="agreements_survey_once_each"
            ),
            models.CheckConstraint(
                condition=models.Q(satisfaction__range=(1, 5), growth__range=(1, 5))
                & models.Q(recommend__lte=10),
                name="agreements_survey_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["program", "answered_at"], name="survey_by_program_time"),
        ]

    def __str__(self):
        # Never the answers: the Django admin and logs show this.
        return _("Survey answer %(id)s") % {"id": self.pk}
