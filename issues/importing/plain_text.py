"""The plain-text issue format: one paragraph per line, structure guessed from the lines' shape.

The rules are documented, with examples, in docs/importing.md; change both together.
"""

import re

from .document import IssueBuilder, ParsedIssue, split_title_line
from .escaping import markdown_escape

PLAIN_TEXT = "text"
TITLE_EXAMPLE = "THE BELL WEEKLY: The Kremlin view on Putin-Trump talks"
# Room for a long headline (the sample's longest is 48 characters) yet well short of a
# paragraph (the sample's shortest is 205): a long line without a full stop is still a paragraph.
HEADING_MAX_CHARS = 100
# A line ending in one of these is a sentence, so a paragraph. The question mark is deliberately
# missing: questions are common headlines (“What does the Kremlin want?”) and a one-line
# question as a whole paragraph is rare in a newsletter.
SENTENCE_END = ".:;,!…"
# Looked through when finding a line's last real character: “…talk calmly.” ends a sentence.
CLOSING_MARKS = "\"'\u201d\u2019\u00bb)]"
_BULLET = re.compile(r"^[-*•][ \t]+(.*)$|^[-*•]$")
# Three or more of the same *, -, _ or =, spaced or not: a separator between parts of the text.
# Any other line is content, even one without letters (“★★★★☆”, a flag emoji).
_SEPARATOR = re.compile(r"^([-*_=])(?:[ \t]*\1){2,}$")


def is_heading_like(line: str) -> bool:
    """Short, and not ending like a sentence: a headline or a sub-heading, not a paragraph."""
    last = _last_mark(line)
    return len(line) <= HEADING_MAX_CHARS and bool(last) and last not in SENTENCE_END


def _last_mark(line: str) -> str:
    return line.rstrip(CLOSING_MARKS + " \t")[-1:]


def bullet_text(line: str) -> str | None:
    """The text of a ``- `` (or ``* ``, ``• ``) bullet line, "" for an empty one, else None."""
    match = _BULLET.match(line)
    if match is None:
        return None
    return (match.group(1) or "").strip()


def parse_plain_text(text: str, *, takeaway_label: str) -> ParsedIssue:
    lines = [(number, line.strip()) for number, line in enumerate(text.split("\n"), start=1)]
    lines = [(number, line) for number, line in lines if line]
    title_number, title_line = lines[0]
    kicker, title = split_title_line(title_line, line=title_number, example=TITLE_EXAMPLE)
    builder = IssueBuilder(
        markup=PLAIN_TEXT, kicker=kicker, title=title, takeaway_label=takeaway_label
    )
    takeaway = re.compile(rf"^{re.escape(takeaway_label)}[ \t]*:(.*)$", re.IGNORECASE)
    for number, line in lines[1:]:
        _add_line(builder, takeaway, number, line)
    return builder.finish()


def _add_line(builder: IssueBuilder, takeaway: re.Pattern, number: int, line: str) -> None:
    if _SEPARATOR.match(line):
        return
    if match := takeaway.match(line):
        builder.start_takeaway(markdown_escape(match.group(1).strip()), line=number)
        return
    bullet = bullet_text(line)
    if bullet is not None:
        builder.add_bullet(markdown_escape(bullet), line=number)
        return
    # Right after a bare takeaway label a question is the takeaway, not the next headline.
    is_takeaway_question = builder.awaiting_takeaway_line is not None and _last_mark(line) == "?"
    if not is_heading_like(line) or is_takeaway_question:
        builder.add_paragraph(markdown_escape(line), line=number)
    elif builder.story is None or builder.in_takeaway:
        builder.start_story(line, line=number)
    else:
        builder.add_subheading(markdown_escape(line), line=number)
