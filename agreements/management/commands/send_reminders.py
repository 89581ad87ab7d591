import argparse
import datetime

from django.core.management.base import BaseCommand

from agreements.reminders import send_due_reminders


def iso_date(value):
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not a date of the form YYYY-MM-DD."
        ) from None


class Command(BaseCommand):
    help = (
        "Email both parties of each Active agreement the reminders that are due: before "
        "each check-in, when a check-in is overdue, before the exit date, a few days after "
        "a planned meeting nobody logged, and when the midpoint or the end-of-term survey "
        "opens for a party who has not answered it. Run it daily from cron. Each reminder "
        "is queued once, however often this runs, and the task worker sends it, trying "
        "again while the mail server is down."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=iso_date,
            help="Run as of this date (YYYY-MM-DD) for every user, instead of the date "
            "in each user's own time zone: for a backfill or a test.",
        )

    def handle(self, *args, date=None, verbosity=1, **options):
        sent = send_due_reminders(today=date, stdout=self.stdout if verbosity > 1 else None)
        if verbosity:
            self.stdout.write(f"Queued {sent} reminder{'s' if sent != 1 else ''} to send.")
