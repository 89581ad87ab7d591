"""Django's makemessages, over the project's own code only."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    """Extracts every marked string of templates/ and agreements/ into the
    catalogues under LOCALE_PATHS (``make messages``).

    The tests, the benchmark scripts, the docs and what is generated (collected
    static files, var/) hold nothing a person reads in the app; hidden
    directories (.venv) are skipped by Django already.
    """

    IGNORED = ["tests", "scripts", "docs", "staticfiles", "var", "*.egg-info"]

    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *self.IGNORED]
        return super().handle(*args, **options)
