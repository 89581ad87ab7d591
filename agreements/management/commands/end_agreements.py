import datetime
import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from agreements.management.commands.send_reminders import iso_date
from agreements.models import Agreement, AgreementVersion, Program, refresh_all_outcomes

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "End every Active agreement whose end date has come: its exit date (completed) "
        "or the day a notice takes effect (early exit), then bring every pairing's "
        "dashboard columns (next check-in, check-ins overdue) and the program's outcomes "
        "(meetings promised, pairs fading) to the day. Run it daily "
        "from cron, before send_reminders. Safe to run at any time: an agreement ends once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            type=iso_date,
            help="Run as of this date (YYYY-MM-DD) instead of today in TIME_ZONE.",
        )

    def handle(self, *args, date=None, verbosity=1, **options):
        today = date or timezone.localdate()
        in_force = AgreementVersion.objects.filter(status=AgreementVersion.Status.IN_FORCE)
        candidates = (
            Agreement.objects.filter(status=Agreement.Status.ACTIVE)
            .prefetch_related(models.Prefetch("versions", queryset=in_force))
            .order_by("pk")
        )
        ended = failed = 0
        for agreement in candidates:
            end = agreement.end_date
            if end is None or end > today:
                continue
            # end_if_due locks the row and checks again: another run may have ended it.
            try:
                ended += agreement.end_if_due(today)
            except Exception:
                failed += 1
                logger.exception("Could not end agreement %s.", agreement.uuid)
        if verbosity:
            self.stdout.write(f"Ended {ended} agreement{'s' if ended != 1 else ''}.")
        # The new day moves the next check-in and makes check-ins overdue.
        # Ended pairings keep the columns they had when they ended.
        refreshed = Agreement.objects.exclude(status=Agreement.Status.ENDED).refresh_overview(today)
        Program.objects.update(overview_as_of=today)
        # The new day moves what the meetings promised and who is fading. An
        # agreement that ended lately is counted until the meetings logged
        # before its end have had their time for an objection; one never
        # counted (from before the upgrade) gets its figures.
        lately = timezone.now() - datetime.timedelta(days=settings.MEETING_OBJECTION_DAYS + 1)
        refresh_all_outcomes(
            Agreement.objects.filter(
                Q(status=Agreement.Status.ACTIVE)
                | Q(status=Agreement.Status.ENDED, ended_at__gte=lately)
                | Q(status=Agreement.Status.ENDED, outcomes_as_of__isnull=True)
            ),
            today,
        )
        if verbosity > 1:
            self.stdout.write(
                f"Brought {refreshed} dashboard row{'s' if refreshed != 1 else ''} to {today}."
            )
        if failed:
            raise CommandError(
                f"{failed} agreement{'s' if failed != 1 else ''} could not be ended."
            )
