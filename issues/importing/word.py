"""A Word document (``.docx``) as the HTML the importer reads, converted by mammoth.

mammoth keeps what a document means (Heading 1 to 6, lists, bold, italic, links) and drops how it
looks (fonts, colours, sizes); comments are left out and tracked changes read as accepted. Its
HTML has no line breaks, so one is put before each paragraph: an error's “line N” is then the
document's Nth paragraph (headings and list items count; empty paragraphs do not).
"""

import io
import re
import zipfile

import mammoth
from django.utils.translation import gettext as _

from .errors import IssueImportError

DOCX_SUFFIX = ".docx"
# A .docx is a zip archive: its text unpacks to many times its size. Past this, the document is
# refused before mammoth reads it, so a small crafted file cannot fill the server's memory.
DOCX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024
# Word's own "Title" style is where many people type a document's title.
STYLE_MAP = "p[style-name='Title'] => h1:fresh"
# Before each paragraph, heading and list item; a list's first item is on the line of the list.
_PARAGRAPH_START = re.compile(r"(?<!^)(?<!<ul>)(?<!<ol>)(?=<(?:p|h[1-6]|li|ul|ol)[ >])")


def docx_to_html(data: bytes) -> tuple[str, list[str]]:
    """The HTML of a .docx's content, and mammoth's notes about what it left out.

    Raises ``IssueImportError`` for a file that is not a Word document mammoth can read.
    """
    _check_archive(data)
    try:
        result = mammoth.convert_to_html(
            io.BytesIO(data),
            style_map=STYLE_MAP,
            # An empty <img> instead of the picture inlined as data: the reader refuses images
            # anyway, and a photo must not swell the text past the import's size limit.
            convert_image=mammoth.images.img_element(lambda image: {}),
        )
    except Exception as exc:  # whatever a broken upload makes mammoth (zip, XML) raise
        raise IssueImportError(
            _("this is not a Word document that can be read (%(why)s); save it again as .docx")
            % {"why": type(exc).__name__}
        ) from None
    notes = [message.message for message in result.messages]
    return _PARAGRAPH_START.sub("\n", result.value), notes


def _check_archive(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise IssueImportError(
            _("this is not a Word document (.docx); an older .doc must be saved as .docx first")
        ) from None
    if unpacked > DOCX_MAX_UNPACKED_BYTES:
        raise IssueImportError(_("this Word document unpacks to too much data to import"))
