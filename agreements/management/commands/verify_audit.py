from django.core.management.base import BaseCommand, CommandError

from agreements.models import Agreement, AuditEvent, verify_chain


class Command(BaseCommand):
    help = (
        "Check the audit chain of every agreement and name the first broken entry. "
        "Exits with status 1 if any chain is broken."
    )

    def handle(self, *args, **options):
        broken = checked = 0
        for agreement in Agreement.objects.order_by("pk").iterator(chunk_size=200):
            events = AuditEvent.objects.filter(agreement=agreement).order_by("sequence")
            problem = verify_chain(agreement, events.iterator(chunk_size=500))
            checked += 1
            if problem:
                broken += 1
                self.stderr.write(f"Agreement {agreement.uuid}: {problem}.")
        if broken:
            raise CommandError(f"{broken} of {checked} audit chains are broken.")
        self.stdout.write(self.style.SUCCESS(f"All {checked} audit chains are intact."))
