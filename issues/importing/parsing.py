"""From the text of an issue file to a ``ParsedIssue``: picks the format, then its parser."""

from pathlib import PurePath

from django.utils.translation import gettext as _

from .document import DEFAULT_TAKEAWAY_LABEL, ParsedIssue
from .errors import IssueImportError
from .html import HTML, parse_html
from .markdown_text import MARKDOWN, parse_markdown
from .plain_text import PLAIN_TEXT, parse_plain_text

MARKUPS = (PLAIN_TEXT, MARKDOWN, HTML)
MARKDOWN_SUFFIXES = {".md", ".markdown"}


def detect_markup(text: str, *, filename: str = "") -> str:
    """Markdown for a .md/.markdown file or one whose first line is a ``# `` heading."""
    if PurePath(filename).suffix.lower() in MARKDOWN_SUFFIXES:
        return MARKDOWN
    first_line = next((line for line in text.split("\n") if line.strip()), "")
    return MARKDOWN if first_line.lstrip().startswith("# ") else PLAIN_TEXT


def parse_issue_text(
    text: str,
    *,
    markup: str | None = None,
    filename: str = "",
    takeaway_label: str = DEFAULT_TAKEAWAY_LABEL,
) -> ParsedIssue:
    """Parse an issue file's text (already decoded, LF line endings) without touching the
    database. ``markup`` is "text", "markdown" or "html" (a converted Word document); None
    detects text or Markdown from ``filename`` and the first line. Raises ``IssueImportError``
    naming the line for anything it cannot place."""
    if not text.strip():
        raise IssueImportError(_("the file is empty (no text, or only whitespace)"))
    markup = markup or detect_markup(text, filename=filename)
    if markup == MARKDOWN:
        return parse_markdown(text, takeaway_label=takeaway_label)
    if markup == HTML:
        return parse_html(text, takeaway_label=takeaway_label)
    if markup == PLAIN_TEXT:
        return parse_plain_text(text, takeaway_label=takeaway_label)
    raise ValueError(f"unknown markup {markup!r}; expected one of {MARKUPS}")
