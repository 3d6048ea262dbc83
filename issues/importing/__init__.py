"""Importing an issue from the plain-text or Markdown file a newsroom already writes.

The formats and the plain-text heuristics are described in docs/importing.md. A Word document
is converted to HTML (``word``), read like any HTML made of headings, paragraphs and lists
(``html``); ``uploads`` turns an uploaded file of any of these into the text to import.
``markdown_escape`` is here because imported plain text is stored as inline Markdown, and
``issues.rendering`` relies on its escapes rendering back to the original characters.
"""

from .document import ParsedBlock, ParsedIssue, ParsedStory
from .errors import IssueImportError
from .escaping import markdown_escape
from .parsing import detect_markup, parse_issue_text
from .reading import read_issue_file
from .services import IssueImportPlan, issue_import, issue_import_preview
from .uploads import UPLOAD_MAX_BYTES, UPLOAD_SUFFIXES, IssueSource, upload_check, upload_read

__all__ = [
    "UPLOAD_MAX_BYTES",
    "UPLOAD_SUFFIXES",
    "IssueImportError",
    "IssueImportPlan",
    "IssueSource",
    "ParsedBlock",
    "ParsedIssue",
    "ParsedStory",
    "detect_markup",
    "issue_import",
    "issue_import_preview",
    "markdown_escape",
    "parse_issue_text",
    "read_issue_file",
    "upload_check",
    "upload_read",
]
