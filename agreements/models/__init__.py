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
from .calendar import CalendarFeed
from .checkins import CheckInRecord, GoalProgress, PlannedCheckIn, StillWorking
from .effects import Effect
from .ending import ClosingNote
from .living import CheckInState
from .programs import Program
from .reminders import Reminder
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
from .sharing import SharingConsent
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
    "CalendarFeed",
    "CheckIn",
    "CheckInRecord",
    "CheckInState",
    "ClosingNote",
    "Confidentiality",
    "ContactPreference",
    "Effect",
    "Goal",
    "GoalProgress",
    "MeetingSchedule",
    "OffLimitsTopic",
    "Origin",
    "Party",
    "PlannedCheckIn",
    "Program",
    "Reminder",
    "Section",
    "SectionRevision",
    "SharingConsent",
    "Signature",
    "StillWorking",
    "Term",
    "User",
    "verify_chain",
]
