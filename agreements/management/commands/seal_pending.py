from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from agreements.models import Agreement, AgreementVersion
from agreements.tasks import seal_final_pdf, seal_version


class Command(BaseCommand):
    help = (
        "Queue sealing again for every signed version, and every ended agreement's final "
        "record, whose PDF is not sealed yet, e.g. after fixing the seal keys. Safe to run "
        "at any time: nothing is sealed twice."
    )

    def handle(self, *args, **options):
        versions = AgreementVersion.objects.filter(
            status__in=[AgreementVersion.Status.IN_FORCE, AgreementVersion.Status.SUPERSEDED],
            sealed_at__isnull=True,
        ).values_list("pk", flat=True)
        finals = Agreement.objects.filter(
            status=Agreement.Status.ENDED, final_sealed_at__isnull=True
        ).values_list("pk", flat=True)
        for pk in versions:
            seal_version.enqueue(pk)
        for pk in finals:
            seal_final_pdf.enqueue(pk)
        self.stdout.write(
            f"Queued {len(versions)} version{pluralize(len(versions))} and "
            f"{len(finals)} final record{pluralize(len(finals))} for sealing."
        )
