"""Turning plain text into inline Markdown that renders back to exactly the same characters."""

import re

# Characters that start inline Markdown anywhere in a line: code spans, emphasis, links and
# images, autolinks and raw HTML, GFM strikethrough, and the backslash itself.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<~])")
# An ampersand only matters when it spells an entity (``&amp;``, ``&#169;``); escaping every one
# would litter ordinary text such as “AT&T” with backslashes.
_ENTITY_START = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]*;)")
# Characters that only mean something at the start of a line: headings, block quotes, list
# markers, setext underlines. The one- to nine-digit number before “.” or “)” is an ordered list.
_LINE_START_SPECIAL = re.compile(r"^([ \t]*)(?:([#>+=-])|([0-9]{1,9})([.)])(?=\s|$))", re.MULTILINE)
# What ends or escapes a link destination written without angle brackets.
_DESTINATION_SPECIAL = re.compile(r"([\\()])")


def markdown_escape(text: str, *, line_start: bool = True) -> str:
    """Backslash-escape ``text`` so CommonMark renders it as the same characters, unformatted.

    Used on every paragraph imported from plain text, and by anything else that has to put
    literal text where inline Markdown is stored. ``issues.rendering`` relies on the reverse:
    rendering the result (inline or as a block) gives back ``text`` exactly. Escapes are added
    only where Markdown could misread a character, so ordinary prose is stored unchanged.
    Leading indentation is not escaped: callers pass stripped lines. ``line_start=False`` is for
    text that goes after other Markdown on its line, where ``#``, ``-`` or ``1.`` mean nothing.
    """
    escaped = _INLINE_SPECIAL.sub(r"\\\1", text)
    escaped = _ENTITY_START.sub(r"\\&", escaped)
    if not line_start:
        return escaped
    return _LINE_START_SPECIAL.sub(_escape_line_start, escaped)


def markdown_escape_destination(url: str) -> str:
    """A link's URL (already percent-encoded by markdown-it) as the destination in ``[text](…)``.

    Parentheses would end it early and an entity would be decoded into another URL.
    """
    return _ENTITY_START.sub(r"\\&", _DESTINATION_SPECIAL.sub(r"\\\1", url))


def _escape_line_start(match: re.Match) -> str:
    indent, marker, digits, delimiter = match.groups()
    if marker:
        return f"{indent}\\{marker}"
    return f"{indent}{digits}\\{delimiter}"
