from django.core.management.base import BaseCommand

from agreements.models import AgreementVersion
from agreements.tasks import seal_version


class Command(BaseCommand):
    help = (
        "Queue sealing again for every signed version whose PDF is not sealed yet, "
        "e.g. after fixing the seal keys. Safe to run at any time: a sealed version "
        "is never sealed twice."
    )

    def handle(self, *args, **options):
        pending = AgreementVersion.objects.filter(
            status__in=[AgreementVersion.Status.IN_FORCE, AgreementVersion.Status.SUPERSEDED],
            sealed_at__isnull=True,
        ).values_list("pk", flat=True)
        count = 0
        for pk in pending:
            seal_version.enqueue(pk)
            count += 1
        self.stdout.write(f"Queued {count} version{'s' if count != 1 else ''} for sealing.")
