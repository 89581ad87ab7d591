"""A small OpenID Connect provider for the sign-on tests: django-allauth's own
IdP (``allauth.idp.oidc``) behind allauth's email-and-password sign-in, run by
tests/sso.py as a separate process, so the app meets a real provider over HTTP.
Nothing here is imported by the app."""
