"""Getting an issue file's text safely: size first, then bytes, then characters.

Everything here refuses with an ``IssueImportError`` rather than letting a ``UnicodeDecodeError``
or ``IsADirectoryError`` reach the person running the import as a traceback.
"""

import os
import re
import stat
from pathlib import Path

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .errors import IssueImportError

# How much of a file is sampled to tell text from binary, and how much of it may be control
# characters before it is called binary rather than text with a stray character.
BINARY_SAMPLE_BYTES = 8192
BINARY_CONTROL_SHARE = 0.1
_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r") + b"\x7f"
# Tabs and line breaks are text; every other C0/C1 control character is corruption (C1 ones
# usually come from a Windows-1252 file that was converted to UTF-8 as if it were Latin-1).
_CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")
_BOM = "\ufeff"


def import_max_bytes() -> int:
    return settings.BELLCMS_IMPORT_MAX_BYTES


def read_issue_file(path: str | os.PathLike) -> str:
    """The text of the issue file at ``path``, checked and with LF line endings."""
    path = Path(path)
    try:
        status = path.stat()
    except FileNotFoundError:
        raise IssueImportError(_("no such file")) from None
    except OSError as exc:
        raise IssueImportError(_("cannot read the file: %(why)s") % {"why": exc.strerror}) from None
    if stat.S_ISDIR(status.st_mode):
        raise IssueImportError(_("this is a directory, not an issue file"))
    if not stat.S_ISREG(status.st_mode):
        raise IssueImportError(_("this is not a regular file"))
    check_size(status.st_size)
    try:
        with path.open("rb") as file:
            # One byte more than allowed tells a file that grew since stat() from one that fits.
            data = file.read(import_max_bytes() + 1)
    except OSError as exc:
        raise IssueImportError(_("cannot read the file: %(why)s") % {"why": exc.strerror}) from None
    check_size(len(data))
    return decode_issue_bytes(data)


def check_size(size: int) -> None:
    limit = import_max_bytes()
    if size > limit:
        raise IssueImportError(
            _("the file is %(size)s, larger than the %(limit)s an import accepts")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )


def decode_issue_bytes(data: bytes) -> str:
    """Bytes → checked text. Refuses binary data and invalid UTF-8 (naming the line and column
    of the first bad byte); accepts a UTF-8 byte order mark and CRLF line endings silently."""
    sample = data[:BINARY_SAMPLE_BYTES]
    controls = sum(sample.count(byte) for byte in _CONTROL_BYTES)
    if b"\x00" in data or controls > len(sample) * BINARY_CONTROL_SHARE:
        raise IssueImportError(_("this looks like a binary file, not text"))
    data = data.removeprefix(b"\xef\xbb\xbf")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        column = len(data[line_start : exc.start].decode("utf-8", errors="replace")) + 1
        raise IssueImportError(
            _("not valid UTF-8 (byte 0x%(byte)02X); save the file as UTF-8")
            % {"byte": data[exc.start]},
            line=data.count(b"\n", 0, exc.start) + 1,
            column=column,
        ) from None
    return check_issue_text(text)


def check_issue_text(text: str) -> str:
    """Text → the same text with LF line endings, refusing stray control characters."""
    text = text.removeprefix(_BOM).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise IssueImportError(_("the file is empty (no text, or only whitespace)"))
    check_size(len(text.encode("utf-8")))
    if match := _CONTROL_CHARACTER.search(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        raise IssueImportError(
            _("unexpected control character U+%(code)04X") % {"code": ord(match.group())},
            line=text.count("\n", 0, match.start()) + 1,
            column=match.start() - line_start + 1,
        )
    return text
