"""Settings for the mentorship project, read from the environment.

Every value that differs between a laptop and production comes from an
environment variable; see `.env.example` and docs/operations.md for the list.
"""

import os
from pathlib import Path
from typing import Any

import dj_database_url
import xstatic.pkg.bootstrap
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name, default):
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}") from None


def env_list(name, default=""):
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set SECRET_KEY, or DEBUG=true for local development.")
    SECRET_KEY = "django-insecure-local-development-only"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "agreements",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # allauth's list of passkeys says when each was last used ("2 days ago").
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "csp",
    "axes",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Single sign-on with an organisation's identity provider: any OpenID
    # Connect provider (by its discovery URL) or SAML 2.0 one, each a SocialApp
    # a superuser adds in the Django admin (docs/operations.md).
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "django_q",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The browser features no page uses are off (PERMISSIONS_POLICY).
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise, which serves its own precompressed static files; before
    # everything that reads or writes the body. Pages, not files; what that risks
    # (BREACH) and why it is accepted: docs/operations.md.
    "mentorship.middleware.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language from the switcher's cookie or the browser's Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    # django-allauth's sign-in flow: the second step (a code, a passkey).
    "allauth.account.middleware.AccountMiddleware",
    # Answers to a signed-in person are not kept by any cache.
    "mentorship.middleware.PrivateResponsesMiddleware",
    # Signs out a session idle too long, or older than SESSION_MAX_AGE.
    "mentorship.middleware.SessionLifetimeMiddleware",
    # A signed-in person's chosen language wins over the browser's.
    "mentorship.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Lets a page's single sign-on buttons go on to their providers.
    "mentorship.middleware.SignOnFormsMiddleware",
    # Last, as django-axes asks: it turns a lockout into its own response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "mentorship.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                # LANGUAGES (named in themselves), LANGUAGE_CODE, LANGUAGE_BIDI.
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # ``waiting.count`` for the menu: one query, only if a page reads it.
                "agreements.context_processors.waiting",
            ],
        },
    },
]

WSGI_APPLICATION = "mentorship.wsgi.application"

# SQLite by default so a newcomer needs no server; DATABASE_URL selects PostgreSQL.
DATABASES = {
    "default": dj_database_url.parse(env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A new PostgreSQL connection costs more than most pages (the cheapest
    # signed-in page answers 3.4 times as fast on a kept one): keep each for
    # ten minutes.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 600)
    # JIT compiling took most of the time of the dashboard's slowest plans; the
    # app's queries are short, so it never pays back.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
    # Prepared statements: a statement a connection has run five times is
    # planned once, not on every request (planning the joins of the agreement
    # page and the menu's count cost more than running them). A pooler in
    # transaction mode before PgBouncer 1.21 cannot keep them: turn off there.
    if env_bool("PG_PREPARED_STATEMENTS", True):
        _options["server_side_binding"] = True
        _options["prepare_threshold"] = 5
else:
    # A SQLite file opens in microseconds. BEGIN IMMEDIATE takes the write lock
    # up front, so concurrent writers wait (up to "timeout" seconds) instead of
    # failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("CONN_MAX_AGE", 0)
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
# A kept-open connection can outlive its server (a restart, a failover): check
# it before each request's first query, or that request fails with a 500.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env_bool(
    "CONN_HEALTH_CHECKS", default=DATABASES["default"]["CONN_MAX_AGE"] != 0
)

AUTH_USER_MODEL = "agreements.User"

# Signing in is django-allauth's flow (the login page, a second factor,
# passkeys), configured, not forked (agreements/adapters.py). Accounts are
# made by invitation only. Passwords stay Django's: allauth's own backend is
# not installed, so the login finds the account by ``email_key`` through
# ModelBackend, and django-axes counts failures as before. Password resets
# and changes stay the app's views (throttled, sent by the worker).
ACCOUNT_ADAPTER = "agreements.adapters.AccountAdapter"
ACCOUNT_FORMS = {"login": "agreements.forms.accounts.LoginForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "none"
# A session's life is the app's (SESSION_COOKIE_AGE, SessionLifetimeMiddleware).
ACCOUNT_SESSION_REMEMBER = True
# A factor added or removed, or new recovery codes: the person is told by
# email (the app's own, sent by the worker: AccountAdapter).
ACCOUNT_EMAIL_NOTIFICATIONS = True
MFA_ADAPTER = "agreements.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# An authenticator app's code is accepted for one 30-second period either
# side of now (RFC 6238 5.2): a code typed as it rolls over, or on a phone
# whose clock drifts, still works. Each code still logs in once.
MFA_TOTP_TOLERANCE = 1
MFA_PASSKEY_LOGIN_ENABLED = True
# A passkey always asks for its device's PIN, fingerprint or face, never a
# mere touch: it stands in for the password at login and when signing.
MFA_WEBAUTHN_USER_VERIFICATION = "required"
# Browsers allow passkeys on plain http only for localhost (development).
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
# Single sign-on (agreements/adapters.py SocialAccountAdapter): the adapter
# matches a person to their account by an address the provider says it
# verified, in its one form (email_key), and connects it; allauth's own match
# by address (EMAIL_AUTHENTICATION, its case-insensitive lookup) stays off. A
# program may let its providers create accounts. Nothing is kept of the
# provider's tokens. OpenID Connect logins use PKCE unless a provider's
# settings say otherwise ("oauth_pkce_enabled": false). SAML logins go
# through allauth's provider extended to ask for ForceAuthn and keep the
# AuthnInstant, so a fresh login at the IdP can confirm a signature.
SOCIALACCOUNT_ADAPTER = "agreements.adapters.SocialAccountAdapter"
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_STORE_TOKENS = False
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"OAUTH_PKCE_ENABLED": True},
    "saml": {"provider_class": "agreements.saml.SAMLProvider"},
}
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "agreements:home"
LOGOUT_REDIRECT_URL = "login"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five wrong passwords for one account from one address lock that pair out
# for an hour; a correct login resets the count.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
# From the failure that locked it: more wrong passwords during the lockout do
# not start the hour again, so nobody can keep an account locked for ever.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The login form posts the email address as "login" (allauth's LoginForm).
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "agreements.models.users.login_username"
# The address lockouts count by is the one the audit trail records (one rule
# for proxies: TRUSTED_PROXY_COUNT).
AXES_CLIENT_IP_CALLABLE = "agreements.models.audit.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Failures are counted in the database, as sessions are kept there: every web
# server sees the same ones, whichever server a request reaches. The handler
# adds a ceiling per account across all addresses: this many wrong passwords
# in the hour stop its password logins everywhere (agreements/lockouts.py),
# until the owner chooses a new one through an emailed link.
AXES_HANDLER = "agreements.lockouts.AccountCeilingHandler"
LOGIN_ACCOUNT_CEILING = env_int("LOGIN_ACCOUNT_CEILING", 20)
SESSION_ENGINE = "django.contrib.sessions.backends.db"
# A session ends after SESSION_IDLE_HOURS without a request (a working day:
# a section can take a while to write, and an ended session loses what was
# being typed), and SESSION_MAX_DAYS after signing in whatever the activity
# (mentorship.middleware.SessionLifetimeMiddleware).
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_HOURS", 8) * 3600
SESSION_MAX_AGE = env_int("SESSION_MAX_DAYS", 14) * 86400
# A session's expiry moves on at most this often, not on every request: each
# move writes the session's row.
SESSION_ACTIVITY_STEP = 300

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The app's own words are written in British English and translated into the
# other languages here, each named in itself for the switcher. A person's
# language is the one they chose in their settings, else their browser's
# (Accept-Language), else LANGUAGE_CODE. How to add one: docs/languages.md.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [
    ("en-gb", "English"),
    ("fr", "Français"),
    ("es", "Español"),
    ("de", "Deutsch"),
    ("pt-br", "Português (Brasil)"),
    ("ar", "العربية"),
]
# The catalogues of every string in templates/ and agreements/
# (`make messages` extracts them, `make install` compiles them).
LOCALE_PATHS = [BASE_DIR / "mentorship" / "locale"]
# Dates follow the language: Django's formats, but British English's own.
FORMAT_MODULE_PATH = ["mentorship.formats"]
TIME_ZONE = env("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Bootstrap comes from the XStatic-Bootstrap package, never from a CDN.
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("bootstrap", xstatic.pkg.bootstrap.BASE_DIR),
]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "agreements.storage.AtomicFileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Signed PDFs are kept here and served only through the app's own views.
MEDIA_ROOT = Path(env("MEDIA_ROOT", BASE_DIR / "var" / "media"))
# More than one machine (docs/topology.md): the stored PDFs (sealed versions,
# final records, drafts) go to this S3-compatible bucket instead, shared by
# every web server and task worker. boto3 finds the credentials itself:
# AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or an instance role.
STORAGE_BUCKET = env("STORAGE_BUCKET", "")
if STORAGE_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "agreements.objectstorage.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_BUCKET,
            # Empty: Amazon S3 itself.
            "endpoint_url": env("S3_ENDPOINT_URL") or None,
            "region_name": env("S3_REGION") or None,
            # Private objects: the app serves each file itself, after its
            # access check and with a download in the audit trail. Any URL made
            # for an object would be signed and short-lived.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": 300,
            # A stored file is never replaced, as on the file system.
            "file_overwrite": False,
            # A download larger than this waits in a temporary file, not in memory.
            "max_memory_size": 4 * 1024 * 1024,
        },
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = env("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
# Where the file backend (django.core.mail.backends.filebased.EmailBackend,
# which `make demo` uses) writes each email; superusers read them on the
# "Sent emails" page.
EMAIL_FILE_PATH = Path(env("EMAIL_FILE_PATH", BASE_DIR / "var" / "mail"))
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "mentorship@localhost")
# A mail server that does not answer fails the attempt, to be tried again.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
# Who to write to about the accessibility of the site (the /accessibility/ page).
ACCESSIBILITY_CONTACT = env("ACCESSIBILITY_CONTACT", DEFAULT_FROM_EMAIL)

# Production hardening; `manage.py check --deploy` is clean with DEBUG=false.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# The switcher's cookie: read by the server only.
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Pages load nothing but the app's own files; Bootstrap draws its form icons
# with data: SVGs.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Browser features no page uses, off for every page and for anything a page
# might embed (django-permissions-policy). Passkeys (publickey-credentials-*)
# keep the browser's default: this site only.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# Work promised after a request (emails, sealing, draft PDFs) runs in the task
# worker, `manage.py qcluster` (django-q2), queued in the app's own database.
# A task a dead worker held is delivered again after TASK_RETRY seconds; a
# task running longer than TASK_TIMEOUT is stopped (the longest draft PDF the
# forms allow, about 85 pages, renders in about 7 s). Tests set TASKS_SYNC to
# run tasks in-process once the transaction commits.
Q_CLUSTER = {
    "name": "mentorship",
    "orm": "default",
    "workers": env_int("TASK_WORKERS", 2),
    "timeout": env_int("TASK_TIMEOUT", 120),
    "retry": env_int("TASK_RETRY", 180),
    # Transport-level failures (the database unreachable) are redelivered
    # without limit; each effect bounds its own attempts (EFFECT_MAX_ATTEMPTS).
    "max_attempts": 0,
    "ack_failures": False,
    "poll": 1,
    "save_limit": 250,
    "catch_up": False,
    "sync": env_bool("TASKS_SYNC", default=False),
    "label": "Task queue",
}
if Q_CLUSTER["retry"] <= Q_CLUSTER["timeout"]:
    raise ImproperlyConfigured("TASK_RETRY must be longer than TASK_TIMEOUT.")
# A failed effect is tried again after 1, 2, 4 ... times this many seconds
# (at most an hour apart), EFFECT_MAX_ATTEMPTS times in all, then marked failed.
EFFECT_RETRY_DELAY = env_int("EFFECT_RETRY_DELAY", 60)
EFFECT_MAX_ATTEMPTS = env_int("EFFECT_MAX_ATTEMPTS", 10)

# The cache holds nothing the app depends on: lockouts, sessions and the task
# queue are in the database. It counts password-reset emails
# (agreements/forms/accounts.py), which go out unlimited while it is down.
# django-q2 keeps each cluster's heartbeat there, which `manage.py qinfo` and
# `qmonitor` read: with REDIS_URL, a Redis every machine shares, they show
# every worker, from any machine; without, each process has its own memory
# (one machine, development, tests).
REDIS_URL = env("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A call to a Redis that does not answer gives up after 2 s.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Where the app is reached; printed with a QR code on every signed PDF.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# Number of reverse proxies in front of the app that append to
# X-Forwarded-For. 0: the client address is REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# The seal on signed PDFs (`manage.py create_seal_keys` writes these files).
SEAL_DIR = Path(env("SEAL_DIR", BASE_DIR / "var" / "seal"))
SEAL_KEY_FILE = Path(env("SEAL_KEY_FILE", SEAL_DIR / "seal-key.pem"))
SEAL_CERT_FILE = Path(env("SEAL_CERT_FILE", SEAL_DIR / "seal-cert.pem"))
SEAL_ROOT_CERT_FILE = Path(env("SEAL_ROOT_CERT_FILE", SEAL_DIR / "root-cert.pem"))
SEAL_ROOT_KEY_FILE = Path(env("SEAL_ROOT_KEY_FILE", SEAL_DIR / "root-key.pem"))
# An RFC 3161 timestamp authority; empty: the seal carries the server's time.
SEAL_TSA_URL = env("SEAL_TSA_URL", "")
SEAL_NAME = env("SEAL_NAME", "Mentorship agreements")

# Reminders (`manage.py send_reminders`, run daily from cron): how many days
# ahead of a check-in and of the exit date, and how many days after a missed
# check-in it counts as overdue.
REMINDER_DAYS_BEFORE_CHECKIN = env_int("REMINDER_DAYS_BEFORE_CHECKIN", 3)
REMINDER_DAYS_BEFORE_EXIT = env_int("REMINDER_DAYS_BEFORE_EXIT", 14)
CHECKIN_OVERDUE_AFTER_DAYS = env_int("CHECKIN_OVERDUE_AFTER_DAYS", 3)
# A logged meeting counts once the other party confirms it, or after this
# many days without an objection.
MEETING_OBJECTION_DAYS = env_int("MEETING_OBJECTION_DAYS", 7)
if MEETING_OBJECTION_DAYS < 1:
    raise ImproperlyConfigured("MEETING_OBJECTION_DAYS must be at least 1.")
# Program admins see survey answers only summed over at least this many people.
SURVEY_MIN_RESPONDENTS = env_int("SURVEY_MIN_RESPONDENTS", 5)
if SURVEY_MIN_RESPONDENTS < 5:
    raise ImproperlyConfigured(
        "SURVEY_MIN_RESPONDENTS must be at least 5: fewer singles people out."
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    # WeasyPrint logs each refused fetch; they are expected, not noise worth INFO.
    "loggers": {
        "weasyprint": {"level": "ERROR"},
        "fontTools": {"level": "WARNING"},
        # Lockouts are warnings; every successful login is not news.
        "axes": {"level": "WARNING"},
    },
}

# An invitation link sets a password once, within this many days.
INVITATION_TIMEOUT_DAYS = env_int("INVITATION_TIMEOUT_DAYS", 7)
