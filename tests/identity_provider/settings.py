"""Settings of the test OpenID Connect provider (see tests/sso.py).

tests/sso.py writes the database and the signing key into a temporary folder
and names them in the environment, so that every process of one provider (its
migrations, its registrations and its server) shares them.
"""

import os
from pathlib import Path

# Test-only values: this provider never runs outside the tests.
SECRET_KEY = "insecure-test-identity-provider"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "allauth",
    "allauth.account",
    "allauth.idp.oidc",
]

MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Sets allauth's request context, which the IdP's adapter reads.
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "tests.identity_provider.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["IDP_DATABASE_PATH"],
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True

AUTHENTICATION_BACKENDS = ["allauth.account.auth_backends.AuthenticationBackend"]
# Fast hashing for the people and client secrets the tests register.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"

# People sign in with email and password; an unverified address may still sign
# in, so that a test can see the provider say ``email_verified: false``.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
# Every test signs in from 127.0.0.1, many times a minute.
ACCOUNT_RATE_LIMITS = False

# The key that signs ID tokens; tests/sso.py makes a new one for each provider.
IDP_OIDC_PRIVATE_KEY = Path(os.environ["IDP_PRIVATE_KEY_PATH"]).read_text()
# Adds ``auth_time`` to ID tokens, which allauth's IdP leaves out.
IDP_OIDC_ADAPTER = "tests.identity_provider.adapter.TestProviderAdapter"
