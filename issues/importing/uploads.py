"""An uploaded issue file (the admin's Import page) as the text ``issue_import`` reads.

A ``.txt`` or ``.md`` file is read exactly as the command reads it. A ``.docx`` is converted to
HTML by mammoth (``word``) and imported as HTML: what is kept is the converted text, so the
preview and the import read the same thing.
"""

from dataclasses import dataclass
from pathlib import PurePath

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from .errors import IssueImportError
from .html import HTML
from .parsing import detect_markup
from .reading import check_issue_text, check_size, decode_issue_bytes
from .word import DOCX_SUFFIX, docx_to_html

# A Word document carries its styles, fonts and pictures besides the text; the text inside any
# file is still held to BELLCMS_IMPORT_MAX_BYTES.
UPLOAD_MAX_BYTES = 5 * 1024 * 1024
UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", DOCX_SUFFIX)


@dataclass(frozen=True)
class IssueSource:
    """An issue file's text and how to read it: ``markup`` is "text", "markdown" or "html".

    ``notes`` are what the conversion of a Word document left out, for the person to check.
    """

    text: str
    markup: str
    filename: str
    notes: tuple[str, ...] = ()


def upload_check(*, filename: str, size: int) -> None:
    """Refuse an upload by its name and size, before reading it."""
    if PurePath(filename).suffix.lower() not in UPLOAD_SUFFIXES:
        raise IssueImportError(
            _("this is not an issue file; upload a .txt, .md or Word .docx file")
        )
    if size > UPLOAD_MAX_BYTES:
        raise IssueImportError(
            _("the file is %(size)s, larger than the %(limit)s an upload accepts")
            % {"size": filesizeformat(size), "limit": filesizeformat(UPLOAD_MAX_BYTES)}
        )


def upload_read(*, data: bytes, filename: str) -> IssueSource:
    """The uploaded file's text, checked as the command checks a file. Raises
    ``IssueImportError`` (naming the file) for a wrong type, size or encoding."""
    try:
        upload_check(filename=filename, size=len(data))
        if PurePath(filename).suffix.lower() == DOCX_SUFFIX:
            html, notes = docx_to_html(data)
            return IssueSource(
                text=check_issue_text(html), markup=HTML, filename=filename, notes=tuple(notes)
            )
        check_size(len(data))
        text = decode_issue_bytes(data)
        return IssueSource(
            text=text, markup=detect_markup(text, filename=filename), filename=filename
        )
    except IssueImportError as exc:
        exc.filename = filename
        raise
