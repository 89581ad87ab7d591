from django.core.management.base import BaseCommand

from agreements.digests import send_due_digests

from .send_reminders import iso_date


class Command(BaseCommand):
    help = (
        "Email each party who chose a daily digest (the default) what is new in the "
        "discussions of each agreement not ended: comments, proposals waiting for their "
        "answer, answers to theirs. Counts and links only, never what was written. Run it "
        "daily from cron. At most one digest a day per agreement and person, however "
        "often this runs; nothing new, no email."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=iso_date,
            help="The date (YYYY-MM-DD) the digests are for, for every user, instead of "
            "the date in each user's own time zone: for a test.",
        )

    def handle(self, *args, date=None, verbosity=1, **options):
        sent = send_due_digests(today=date, stdout=self.stdout if verbosity > 1 else None)
        if verbosity:
            self.stdout.write(f"Queued {sent} digest{'s' if sent != 1 else ''} to send.")
