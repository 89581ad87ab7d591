from .agreement import (
    AUTHENTICATION,
    CONSENT_STATEMENT,
    STATEMENTS,
    Agreement,
    Section,
    SectionRevision,
    Signature,
)
from .audit import AuditEvent, Origin, verify_chain
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
from .snapshot import AgreementContent
from .users import User
from .versions import AgreementVersion

__all__ = [
    "AUTHENTICATION",
    "CONSENT_STATEMENT",
    "STATEMENTS",
    "Agreement",
    "AgreementContent",
    "AgreementVersion",
    "AuditEvent",
    "Arranger",
    "CheckIn",
    "Confidentiality",
    "ContactPreference",
    "Goal",
    "MeetingSchedule",
    "OffLimitsTopic",
    "Origin",
    "Party",
    "Program",
    "Section",
    "SectionRevision",
    "Signature",
    "Term",
    "User",
    "verify_chain",
]
