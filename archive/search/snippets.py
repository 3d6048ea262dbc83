"""Highlighted text as safe HTML: every character of a story escaped, and only the marks the
search put around matching words turned into ``<mark>`` elements."""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from .indexing import LESS_THAN, MARK_END, MARK_START

# How much of a story the plain search shows around the first match.
EXCERPT_CHARS = 220
# A cut is moved to the nearest space, unless that is further than this.
WORD_REACH = 30


def marked_html(marked: str) -> SafeString:
    """Text with matches between ``MARK_START`` and ``MARK_END`` (from ts_headline) as HTML."""
    html = escape(" ".join(marked.replace(LESS_THAN, "<").split()))
    return mark_safe(html.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))  # noqa: S308 - escaped first


def excerpt_marked(text: str, words: list[str], *, whole: bool = False) -> SafeString:
    """The part of ``text`` around the first of ``words`` (any case), every one of them marked;
    with ``whole``, all of ``text``."""
    text = " ".join(text.split())
    pattern = _pattern(words)
    if not whole:
        first = pattern.search(text) if pattern else None
        text = _around(text, first.start() if first else 0)
    if pattern is None:
        return escape(text)
    return marked_html(pattern.sub(lambda match: f"{MARK_START}{match[0]}{MARK_END}", text))


def _pattern(words: list[str]) -> re.Pattern | None:
    if not words:
        return None
    longest_first = sorted(set(words), key=len, reverse=True)
    return re.compile("|".join(map(re.escape, longest_first)), re.IGNORECASE)


def _around(text: str, at: int) -> str:
    start = max(0, at - EXCERPT_CHARS // 3)
    end = min(len(text), start + EXCERPT_CHARS)
    if start > 0:
        space = text.rfind(" ", 0, start)
        start = space + 1 if space != -1 and start - space <= WORD_REACH else start
    if end < len(text):
        space = text.find(" ", end)
        end = space if space != -1 and space - end <= WORD_REACH else end
    excerpt = text[start:end]
    return f"{'… ' if start > 0 else ''}{excerpt}{' …' if end < len(text) else ''}"
