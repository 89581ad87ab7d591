from django.core.management.base import BaseCommand
from django.template.defaultfilters import pluralize

from agreements.models import Agreement, AgreementVersion, Effect


class Command(BaseCommand):
    help = (
        "Try sealing again now for every signed version, and every ended agreement's final "
        "record, whose PDF is not sealed yet, e.g. after fixing the seal keys. Safe to run "
        "at any time: nothing is sealed twice."
    )

    def handle(self, *args, **options):
        versions = AgreementVersion.objects.filter(
            status__in=AgreementVersion.SIGNED,
            sealed_at__isnull=True,
        )
        finals = Agreement.objects.filter(
            status=Agreement.Status.ENDED,
            final_sealed_at__isnull=True,
            versions__status=AgreementVersion.Status.IN_FORCE,
        )
        for version in versions:
            Effect.objects.renew(Effect.Kind.SEAL_VERSION, version.seal_key, version_id=version.pk)
        for agreement in finals:
            Effect.objects.renew(
                Effect.Kind.SEAL_FINAL, agreement.final_seal_key, agreement_id=agreement.pk
            )
        self.stdout.write(
            f"Queued {len(versions)} version{pluralize(len(versions))} and "
            f"{len(finals)} final record{pluralize(len(finals))} for sealing."
        )
