"""What the sources app's services raise when they refuse; the message is for the person."""


class SourceRefused(Exception):
    """A change to sources that may not be made; the message says why, to the person acting."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class RevealRefused(SourceRefused):
    """An identity the person may not see now. The refusal is in the reveal log already."""
