"""Subscribers in and out as files: Ghost's members export, or plain ``email,name``.

The whole file is read and checked before anything is written, and written in one transaction:
a file that cannot be read (encoding, missing column, broken CSV, no rows) writes nothing. Rows
that are wrong on their own (bad address, duplicate, a date that is not one or out of bounds)
are skipped and reported by line number, and columns the import does not read are named. Only
rows whose file says they consented (``subscribed_to_emails``, or Ghost 3's ``subscribed``) are
active. A stored address is subscribed only with consent in its row, and never against what
the person told us since (``subscribers.consent``): importing a file twice adds nothing.
"""

from .errors import ImportFileError
from .exporting import subscribers_export
from .reading import GHOST_COLUMNS
from .rows import ImportReport
from .services import members_import, subscribers_import

__all__ = [
    "GHOST_COLUMNS",
    "ImportFileError",
    "ImportReport",
    "members_import",
    "subscribers_export",
    "subscribers_import",
]
