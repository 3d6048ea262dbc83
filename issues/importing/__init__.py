"""Importing an issue from the plain-text or Markdown file a newsroom already writes.

The formats and the plain-text heuristics are described in docs/importing.md.
``markdown_escape`` is here because imported plain text is stored as inline Markdown, and
``issues.rendering`` relies on its escapes rendering back to the original characters.
"""

from .document import ParsedBlock, ParsedIssue, ParsedStory
from .errors import IssueImportError
from .escaping import markdown_escape
from .parsing import detect_markup, parse_issue_text
from .reading import read_issue_file
from .services import issue_import

__all__ = [
    "IssueImportError",
    "ParsedBlock",
    "ParsedIssue",
    "ParsedStory",
    "detect_markup",
    "issue_import",
    "markdown_escape",
    "parse_issue_text",
    "read_issue_file",
]
