"""Refusals of the agreement lifecycle; views turn them into messages."""


class AgreementError(Exception):
    """An illegal move: nothing was changed."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class NotEditable(AgreementError):
    pass


class SectionIncomplete(AgreementError):
    pass


class SectionChanged(AgreementError):
    """The section changed after the party last saw it."""


class SectionInvalid(AgreementError):
    """The saved section would break a rule that spans sections."""


class NotReadyToSign(AgreementError):
    pass


class ContentChanged(AgreementError):
    pass


class SectionConflict(AgreementError):
    """Someone else saved the section since the form was opened."""

    def __init__(self, message, *, section, changes):
        super().__init__(message)
        self.section = section
        self.changes = changes


class CheckInInvalid(AgreementError):
    """The check-in cannot be recorded as asked."""
