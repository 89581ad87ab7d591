"""What an agreement says, in one shape for the live draft and a signed version.

The section partials (``templates/agreements/sections/``) render an
``AgreementContent``, so a page or PDF of a signed version shows exactly its
canonical JSON, whatever was edited or renamed since.
"""

from dataclasses import dataclass

from .confidentiality import Confidentiality, OffLimitsTopic
from .parties import Party
from .sections import CheckIn, ContactPreference, Goal, MeetingSchedule, Term


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class AgreementContent:
    program: str
    mentor: Person
    mentee: Person
    contact: list  # ContactPreference, the mentor's first
    schedule: MeetingSchedule
    goals: list
    checkins: list
    confidentiality: Confidentiality
    off_limits: list
    term: Term
    statements: dict

    @classmethod
    def live(cls, agreement, statements):
        """From an agreement loaded with ``with_working_copy()``."""
        return cls(
            program=agreement.program.name,
            mentor=Person(agreement.mentor.full_name, agreement.mentor.email),
            mentee=Person(agreement.mentee.full_name, agreement.mentee.email),
            contact=list(agreement.contact_preferences.all()),
            schedule=agreement.schedule,
            goals=list(agreement.goals.all()),
            checkins=list(agreement.checkins.all()),
            confidentiality=agreement.confidentiality,
            off_limits=list(agreement.off_limits_topics.all()),
            term=agreement.term,
            statements=statements,
        )

    @classmethod
    def frozen(cls, data):
        """From the canonical content (``Agreement.canonical_content()``) of a version."""
        sections, parties = data["sections"], data["parties"]
        return cls(
            program=data["program"],
            mentor=Person(**parties["mentor"]),
            mentee=Person(**parties["mentee"]),
            contact=[
                ContactPreference.from_data(party, sections["contact"][party])
                for party in (Party.MENTOR, Party.MENTEE)
            ],
            schedule=MeetingSchedule.from_data(sections["schedule"]),
            goals=[Goal.from_data(item) for item in sections["goals"]],
            checkins=[CheckIn.from_data(item) for item in sections["checkins"]],
            confidentiality=Confidentiality.from_data(sections["confidentiality"]),
            off_limits=[OffLimitsTopic.from_data(item) for item in sections["off_limits"]],
            term=Term.from_data(sections["term"]),
            statements=data["statements"],
        )

    def person(self, party):
        return self.mentor if party == Party.MENTOR else self.mentee

    def section_data(self, kind):
        """One section's canonical data (``Agreement.canonical_content()``).

        For a version signed under an older format this reads it through
        today's models, so it compares field for field with the live copy.
        """
        if kind == "contact":
            return {p.party: p.as_data() for p in self.contact}
        if kind in {"schedule", "confidentiality", "term"}:
            return getattr(self, kind).as_data()
        if kind in {"goals", "checkins", "off_limits"}:
            return [row.as_data() for row in getattr(self, kind)]
        raise ValueError(kind)
