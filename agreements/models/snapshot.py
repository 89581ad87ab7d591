"""What an agreement says, in one shape for the live draft and a signed version.

The section partials (``templates/agreements/sections/``) render an
``AgreementContent``, so a page or PDF of a signed version shows exactly its
canonical JSON, whatever was edited or renamed since.
"""

import dataclasses
from dataclasses import dataclass

from .clauses import SOURCE_LANGUAGE, clauses_in
from .confidentiality import Confidentiality, OffLimitsTopic
from .parties import Party
from .sections import CheckIn, ContactPreference, Goal, MeetingSchedule, Term


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Languages:
    """The language an agreement is written and signed in (``binding``), and
    the one it is also shown in, side by side, if the pair chose one."""

    binding: str
    second: str = ""

    @classmethod
    def from_data(cls, data):
        return cls(data["language"], data["second_language"])

    def as_data(self):
        return {"language": self.binding, "second_language": self.second}


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
    languages: Languages
    # The fixed clauses and the consent statement, as they read in
    # ``clause_language``: the binding language, except in ``in_second_language()``.
    statements: dict
    consent_statement: str
    clause_language: str
    # The clauses in the second language ({"language", "statements",
    # "consent_statement"}), or None.
    translation: dict | None = None

    @classmethod
    def live(cls, agreement):
        """From an agreement loaded with ``with_working_copy()``."""
        languages = Languages(agreement.language, agreement.second_language)
        clauses = clauses_in(languages.binding)
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
            languages=languages,
            statements=clauses["statements"],
            consent_statement=clauses["consent_statement"],
            clause_language=languages.binding,
            translation=(
                {"language": languages.second, **clauses_in(languages.second)}
                if languages.second
                else None
            ),
        )

    @classmethod
    def frozen(cls, data):
        """From the canonical content (``Agreement.canonical_content()``) of a version."""
        sections, parties = data["sections"], data["parties"]
        # Before /4 an agreement had no language: it was in the source words.
        languages = (
            Languages.from_data(sections["language"])
            if "language" in sections
            else Languages(SOURCE_LANGUAGE)
        )
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
            languages=languages,
            statements=data["statements"],
            # Before /3 the canonical content held no consent statement.
            consent_statement=data.get("consent_statement", ""),
            clause_language=languages.binding,
            translation=data.get("translation"),
        )

    def in_second_language(self):
        """The same content with the clauses of its second language, for the
        second column of a PDF that shows both."""
        if self.translation is None:
            raise ValueError("This agreement has no second language.")
        return dataclasses.replace(
            self,
            statements=self.translation["statements"],
            consent_statement=self.translation["consent_statement"],
            clause_language=self.translation["language"],
        )

    def canonical_clauses(self):
        """The clauses as the canonical content records them (``/4``)."""
        return {
            "statements": self.statements,
            "consent_statement": self.consent_statement,
            "translation": self.translation,
        }

    def person(self, party):
        return self.mentor if party == Party.MENTOR else self.mentee

    def section_data(self, kind):
        """One section's canonical data (``Agreement.canonical_content()``).

        For a version signed under an older format this reads it through
        today's models, so it compares field for field with the live copy.
        """
        if kind == "contact":
            return {p.party: p.as_data() for p in self.contact}
        if kind == "language":
            return self.languages.as_data()
        if kind in {"schedule", "confidentiality", "term"}:
            return getattr(self, kind).as_data()
        if kind in {"goals", "checkins", "off_limits"}:
            return [row.as_data() for row in getattr(self, kind)]
        raise ValueError(kind)
