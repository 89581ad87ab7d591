from .agreement import (
    CONSENT_STATEMENT,
    STATEMENTS,
    Agreement,
    Section,
    SectionRevision,
    Signature,
)
from .programs import Program
from .sections import (
    Arranger,
    CheckIn,
    Confidentiality,
    ContactPreference,
    Goal,
    MeetingSchedule,
    OffLimitsTopic,
    Party,
    Term,
)
from .users import User

__all__ = [
    "CONSENT_STATEMENT",
    "STATEMENTS",
    "Agreement",
    "Arranger",
    "CheckIn",
    "Confidentiality",
    "ContactPreference",
    "Goal",
    "MeetingSchedule",
    "OffLimitsTopic",
    "Party",
    "Program",
    "Section",
    "SectionRevision",
    "Signature",
    "Term",
    "User",
]
