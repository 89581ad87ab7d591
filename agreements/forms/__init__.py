"""The app's forms, one module per concept; this package only re-exports them."""

from .accounts import AccountForm, LoginForm, PasswordResetForm
from .checkins import CheckInAnswerForm, CheckInRecordForm
from .discussion import CommentForm, DeclineForm, ProposalReasonForm
from .editor import SectionEditor
from .ending import ClosingNoteForm
from .imports import PairingConfirmForm, PairingUploadForm
from .meetings import MeetingForm, PauseForm
from .pairings import EndPairingForm, PairingForm, RepairForm
from .programs import ProgramTemplateForm
from .section_rows import OffLimitsAdditionForm
from .signing import SignForm
from .surveys import SurveyForm

__all__ = [
    "AccountForm",
    "CheckInAnswerForm",
    "CheckInRecordForm",
    "ClosingNoteForm",
    "CommentForm",
    "DeclineForm",
    "EndPairingForm",
    "LoginForm",
    "MeetingForm",
    "OffLimitsAdditionForm",
    "PairingConfirmForm",
    "PairingForm",
    "PairingUploadForm",
    "PasswordResetForm",
    "PauseForm",
    "ProgramTemplateForm",
    "ProposalReasonForm",
    "RepairForm",
    "SectionEditor",
    "SignForm",
    "SurveyForm",
]
