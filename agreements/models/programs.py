import uuid

from allauth.socialaccount.models import SocialApp
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy

from .text import long_text


class ProgramQuerySet(models.QuerySet):
    def administered_by(self, user):
        if not user.is_authenticated:
            return self.none()
        return self.filter(admins=user)


class Program(models.Model):
    """A mentoring program (a workplace scheme, a university cohort...).

    It also holds the template new agreements start from. Each clause of
    the template is either negotiable (a starting point the pair may change)
    or locked: program policy, which the pair cannot change.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="administered_programs", blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The day every pairing's dashboard columns were last brought to (``overview``).
    overview_as_of = models.DateField(null=True, blank=True, editable=False)

    # The template ------------------------------------------------------
    exceptions_notes = long_text(
        gettext_lazy("how a confidentiality exception is handled"),
        blank=True,
        help_text=gettext_lazy(
            "For example: the mentor tells the mentee first, where that is safe, "
            "and contacts the program's wellbeing lead."
        ),
    )
    exceptions_notes_locked = models.BooleanField(gettext_lazy("program policy"), default=False)
    checkin_every_weeks = models.PositiveSmallIntegerField(
        gettext_lazy("a check-in at least every (weeks)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(52)],
    )
    checkin_every_weeks_locked = models.BooleanField(gettext_lazy("program policy"), default=False)
    term_months = models.PositiveSmallIntegerField(
        gettext_lazy("term length (months)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(60)],
    )
    term_months_locked = models.BooleanField(gettext_lazy("program policy"), default=False)
    notice_days = models.PositiveSmallIntegerField(
        gettext_lazy("notice for an early exit (days)"),
        default=14,
        validators=[MaxValueValidator(365)],
    )
    notice_days_locked = models.BooleanField(gettext_lazy("program policy"), default=False)
    pause_max_days = models.PositiveSmallIntegerField(
        gettext_lazy("longest pause of the meetings (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=gettext_lazy("Empty: a pair may pause for as long as the term lasts."),
    )
    pause_max_days_locked = models.BooleanField(gettext_lazy("program policy"), default=False)

    # Oversight ---------------------------------------------------------
    unsigned_flag_days = models.PositiveSmallIntegerField(
        gettext_lazy("flag pairings still unsigned after (days)"),
        default=14,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )

    # Signing in --------------------------------------------------------
    admins_need_second_factor = models.BooleanField(
        gettext_lazy("admins log in with a second factor"),
        default=False,
        help_text=gettext_lazy(
            "An admin without an authenticator app or a passkey is asked to add one before "
            "opening this program's pages."
        ),
    )

    # Single sign-on: the organisation's identity providers (allauth's
    # SocialApp rows, OpenID Connect or SAML), connected by a superuser in the
    # Django admin. A provider connected to no program serves the installation.
    sign_on_providers: models.ManyToManyField = models.ManyToManyField(
        SocialApp,
        blank=True,
        related_name="programs",
        verbose_name=gettext_lazy("single sign-on providers"),
    )
    sign_on_required = models.BooleanField(
        gettext_lazy("members log in with single sign-on"),
        default=False,
        help_text=gettext_lazy(
            "The pair and the admins open this program's pages only after logging in with "
            "the program's single sign-on, not with a password or an invitation link."
        ),
    )
    sign_on_creates_accounts = models.BooleanField(
        gettext_lazy("single sign-on creates accounts"),
        default=False,
        help_text=gettext_lazy(
            "Someone without an account who logs in with one of this program's providers, "
            "with an address the provider has verified, gets one. Otherwise only people "
            "invited to a pairing can log in."
        ),
    )

    objects = ProgramQuerySet.as_manager()

    TEMPLATE_CLAUSES = (
        "exceptions_notes",
        "checkin_every_weeks",
        "term_months",
        "notice_days",
        "pause_max_days",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def policy(self):
        """The locked clauses, by name: what every new agreement must keep."""
        return {
            clause: getattr(self, clause)
            for clause in self.TEMPLATE_CLAUSES
            if getattr(self, f"{clause}_locked")
        }
