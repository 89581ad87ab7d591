"""Refusals of the agreement lifecycle: each illegal move has its own name.

Every refusal is an ``AgreementError`` whose message says what happened and
what to do; views show it (``agreements.views.access.attempt``). Nothing was
changed when one is raised: the move's transaction rolled back.
"""


class AgreementError(Exception):
    """An illegal move: nothing was changed."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


# Drafting -------------------------------------------------------------------


class AgreementSigned(AgreementError):
    """The working copy is closed: the agreement is signed and not being amended."""


class SectionIncomplete(AgreementError):
    """A section cannot be agreed before it is filled in."""


class SectionChanged(AgreementError):
    """The section changed after the party last saw it."""


class SectionInvalid(AgreementError):
    """The saved section would break a rule that spans sections."""


class ProposalClosed(AgreementError):
    """The proposal was accepted, declined or withdrawn already."""


class ProposalStale(AgreementError):
    """The section changed since the proposal was made: it cannot be accepted blindly."""


class SectionConflict(AgreementError):
    """Someone else saved the section since the form was opened."""

    def __init__(self, message, *, section, changes):
        super().__init__(message)
        self.section = section
        self.changes = changes


# Signing --------------------------------------------------------------------


class NotReadyToSign(AgreementError):
    """Sections are not all agreed, a policy is broken, or the party signed already."""


class ContentChanged(AgreementError):
    """The content changed after the signer read it."""


# Amending -------------------------------------------------------------------


class NotAmendable(AgreementError):
    """Only an Active agreement, not being amended and not ending, can be amended."""


class NoAmendment(AgreementError):
    """There is no amendment to withdraw."""


class TopicAlreadyOffLimits(AgreementError):
    """The topic added after signing is already off limits."""


# The agreement in force -----------------------------------------------------


class MeetingInvalid(AgreementError):
    """The meeting cannot be logged, confirmed or changed like that."""


class PauseInvalid(AgreementError):
    """The meetings cannot be paused or resumed like that."""


class SurveyClosed(AgreementError):
    """The survey is not open, or the party answered it already."""


class NotActive(AgreementError):
    """The move needs an Active agreement."""


class CheckInInvalid(AgreementError):
    """The check-in cannot be recorded as asked."""


class NoticeAlreadyGiven(AgreementError):
    """Notice to end the agreement was given before."""


class AlreadyEnded(AgreementError):
    """The pairing has ended: the move no longer applies."""


class RemindedRecently(AgreementError):
    """A program admin reminded the pair less than a day ago."""


# Sharing --------------------------------------------------------------------


class NotShared(AgreementError):
    """A section's discussion can be shared only along with the section."""
