import unicodedata
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as BaseUserManager
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.dispatch import receiver
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


def default_time_zone():
    return settings.TIME_ZONE


def validate_time_zone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone we know, such as Europe/London."),
            code="unknown_time_zone",
            params={"value": value},
        )


def email_key(address):
    """The one form of an email address that accounts are found and counted
    by: its compatibility characters folded (NFKC: a fullwidth ｉ or the
    Kelvin sign K is the letter), trimmed and lower-cased.

    Every account's address is stored in this form, and every lookup compares
    it exactly: the login, its lockout count (django-axes), invitations, the
    CSV import, uniqueness. Never the database's case-insensitive match, whose
    case rules are not Python's: PostgreSQL's UPPER makes the Turkish dotless
    ı an I, so ``ınes@`` found ``ines@`` while the lockout counted it apart.
    Here such a lookalike keeps its own key, so it finds only an account of
    its own, never ``ines@``'s; so does any address with an invisible
    (format) character.
    """
    return unicodedata.normalize("NFKC", address or "").strip().lower()


# The invisible format characters a name may keep, because names in some
# scripts need them to be spelt right: the zero-width non-joiner U+200C
# (Persian and Kurdish names, such as Alireza, written with one between its
# two parts; Indic scripts), the zero-width joiner U+200D (Indic conjuncts,
# emoji sequences such as the woman technologist) and the Mongolian vowel
# separator U+180E. They only decide how neighbouring letters join, never the
# order or the visibility of the text around them.
NAME_JOINERS = frozenset("\u200c\u200d\u180e")


def name_fault(name):
    """Why a person's name cannot be used as it is, as an error code, or None.

    A name goes into email headers, pages and the sealed PDF. A control
    character (category Cc), such as a line break, could add an email header.
    A format character (category Cf) is invisible and can reorder or hide the
    text around it: "Eve yrallih" with a right-to-left override (U+202E)
    before "yrallih" reads "Eve hillary". That covers the bidirectional
    embeddings, overrides, isolates and marks, the zero-width space, word
    joiner, byte order mark, soft hyphen and the tag characters, which also
    rules out the few flag emoji built from tags (England, Scotland, Wales).
    Right-to-left letters are not format characters: Arabic and Hebrew names
    are displayed in their own direction without them.
    """
    categories = {unicodedata.category(char) for char in name if char not in NAME_JOINERS}
    if "Cc" in categories:
        return "control_character"
    if "Cf" in categories:
        return "format_character"
    return None


def validate_name(value):
    """Refuse a name ``name_fault`` finds unfit, with a message that says
    what to do. The field's validator, so every path that sets a name
    validates it: the pairing forms, the Django admin, ``full_clean``."""
    fault = name_fault(value)
    if fault == "control_character":
        raise ValidationError(
            _("Remove the line breaks or other control characters from this name."), code=fault
        )
    if fault == "format_character":
        raise ValidationError(
            _(
                "This name contains invisible characters that can change how it is displayed, "
                "such as direction marks: type it again rather than pasting it."
            ),
            code=fault,
        )


class UserManager(BaseUserManager):
    """People log in with their email address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=email_key(email), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, email):
        return self.get(email=email_key(email))


class User(AbstractUser):
    username = None
    first_name = None
    last_name = None
    email = models.EmailField(gettext_lazy("email address"), unique=True)
    full_name = models.CharField(
        max_length=150,
        validators=[validate_name],
        help_text=gettext_lazy("As it should appear on a signed agreement."),
    )
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[validate_time_zone],
        help_text=gettext_lazy(
            "Meeting times, check-in dates and reminders follow this time zone."
        ),
    )
    # The language of the pages and of the emails sent to the person. Empty:
    # their browser's (Accept-Language, or the switcher's cookie), which is
    # kept as browser_language each time they sign in, for the emails.
    language = models.CharField(
        gettext_lazy("language"), max_length=8, choices=settings.LANGUAGES, blank=True
    )
    browser_language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True)

    class DiscussionEmails(models.TextChoices):
        IMMEDIATELY = "immediately", gettext_lazy("As it happens")
        DAILY = "daily", gettext_lazy("At most once a day per agreement")
        NEVER = "never", gettext_lazy("Never: I look in the app")

    # When the person is emailed about comments and proposals on their
    # agreements: the email names what waits, never what was written.
    discussion_emails = models.CharField(
        gettext_lazy("emails about discussions and proposals"),
        max_length=11,
        choices=DiscussionEmails.choices,
        default=DiscussionEmails.DAILY,
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    objects = UserManager()

    class Meta:
        ordering = ["full_name", "email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="agreements_user_email_ci_unique"),
        ]

    def __str__(self):
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        """Save, with the address in its one form (``email_key``), and keep the
        name the program's dashboard sorts on (a column of each of the
        person's agreements, ``overview``) the same."""
        self.email = email_key(self.email)
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "full_name" in update_fields:
            agreements = self.agreements_as_mentor.model._default_manager
            agreements.filter(mentor=self).update(mentor_name=self.full_name)
            agreements.filter(mentee=self).update(mentee_name=self.full_name)

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def zone(self):
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def chosen_language(self):
        """The language the person chose, if the app still speaks it; else ""."""
        return supported_language(self.language)

    @property
    def own_language(self):
        """The language to write to the person in when they are not the one
        asking (an email): theirs, else their browser's when they last signed
        in, else the site's."""
        return (
            self.chosen_language
            or supported_language(self.browser_language)
            or settings.LANGUAGE_CODE
        )

    def today(self):
        """The date where the user is."""
        return timezone.localdate(timezone=self.zone)


@receiver(user_logged_in)
def keep_browser_language(sender, request, user, **kwargs):
    """Remember the language the browser asked for, the emails' language for
    someone who has not chosen one."""
    asked = getattr(request, "LANGUAGE_CODE", "")
    if not user.language and asked in dict(settings.LANGUAGES) and asked != user.browser_language:
        user.browser_language = asked
        user.save(update_fields=["browser_language"])


@receiver(user_logged_in)
def session_starts(sender, request, user, **kwargs):
    """How long the session lasts counts from here (``SESSION_MAX_AGE``)."""
    from mentorship.middleware import start_session_clock

    if request is not None and hasattr(request, "session"):
        start_session_clock(request.session)


def supported_language(code):
    """``code`` if it is one of LANGUAGES (a language dropped since a person
    chose it is not), else ""."""
    try:
        return translation.get_supported_language_variant(code) if code else ""
    except LookupError:
        return ""


def login_username(request, credentials):
    """The email typed at login in its one form (``email_key``): the key
    django-axes counts failed attempts by is the one the account is found by,
    so no variant of the address starts a count of its own and logs in."""
    source = credentials if credentials is not None else request.POST
    # allauth authenticates with "email" (its form posts "login"); the sign
    # form (forms/signing.py) with "username", as Django's authenticate() does.
    typed = next((source[key] for key in ("email", "login", "username") if key in source), "")
    return email_key(typed)
