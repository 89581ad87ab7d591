from django.db import transaction

from agreements import content
from agreements.models import (
    Agreement,
    AuditEvent,
    Confidentiality,
    ContactPreference,
    MeetingSchedule,
    Party,
    Section,
    SectionRevision,
    Term,
)


def pairing_create(*, program, mentor, mentee, created_by, origin=None):
    """Pair a mentor with a mentee and open their empty agreement."""
    with transaction.atomic():
        agreement = Agreement.objects.create(
            program=program, mentor=mentor, mentee=mentee, created_by=created_by
        )
        ContactPreference.objects.bulk_create(
            ContactPreference(agreement=agreement, party=party) for party in Party.values
        )
        MeetingSchedule.objects.create(agreement=agreement)
        Confidentiality.objects.create(agreement=agreement)
        Term.objects.create(agreement=agreement)
        Section.objects.bulk_create(
            Section(agreement=agreement, kind=kind) for kind in Section.Kind.values
        )
        # Version 0 of every section, so a later conflict can show what changed since.
        agreement = Agreement.objects.with_content().get(pk=agreement.pk)
        SectionRevision.objects.bulk_create(
            SectionRevision(
                section=section,
                version=0,
                data=content.normalise(agreement.section_data(section.kind)),
                edited_by=created_by,
            )
            for section in agreement.ordered_sections()
        )
        agreement.record(
            AuditEvent.Kind.CREATED,
            actor=created_by,
            origin=origin,
            at=agreement.created_at,
            details={"program": program.name, "mentor": mentor.email, "mentee": mentee.email},
        )
        return agreement
