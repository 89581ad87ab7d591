from .agreement import Agreement
from .audit import AuditEvent, Origin, verify_chain
from .calendar import CalendarFeed
from .checkins import CheckInRecord, CheckInState, GoalProgress, PlannedCheckIn, StillWorking
from .clauses import CONSENT_STATEMENT, STATEMENTS
from .confidentiality import Confidentiality, OffLimitsTopic
from .discussion import SectionComment, ThreadRead
from .drafting import Section, SectionRevision
from .effects import Effect
from .ending import ClosingNote, runs_on
from .meetings import Meeting, MeetingsKept, meeting_days
from .outcomes import MonthlyOutcome, refresh_all_outcomes
from .parties import Party
from .pauses import Pause
from .programs import Program
from .proposals import Proposal
from .reminders import Reminder
from .sections import Arranger, CheckIn, ContactPreference, Goal, MeetingSchedule, Term
from .sharing import SharingConsent
from .signatures import AUTHENTICATIONS, Signature
from .snapshot import AgreementContent, Languages
from .surveys import SurveyResponse
from .users import User
from .versions import AgreementVersion

__all__ = [
    "AUTHENTICATIONS",
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
    "Languages",
    "Meeting",
    "MeetingSchedule",
    "MeetingsKept",
    "MonthlyOutcome",
    "OffLimitsTopic",
    "Origin",
    "Party",
    "Pause",
    "PlannedCheckIn",
    "Program",
    "Proposal",
    "Reminder",
    "Section",
    "SectionComment",
    "SectionRevision",
    "SharingConsent",
    "Signature",
    "StillWorking",
    "SurveyResponse",
    "Term",
    "ThreadRead",
    "User",
    "meeting_days",
    "refresh_all_outcomes",
    "runs_on",
    "verify_chain",
]
