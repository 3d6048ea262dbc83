"""Formatted text, as a word processor or a web page holds it, written as stored inline Markdown.

HTML, a Word document or a paste gives text in *runs*: pieces of text that are bold, italic, a
link, or several of these. The stored format (``issues.markup``) is CommonMark with links,
``*emphasis*`` and ``**strong**``, so the runs are written as that, and read back to check that
Markdown shows exactly the words and formatting the runs had.

Markdown is pickier than a word processor about where formatting may start and end: ``**`` does
not close after a space, nor between a full stop and a letter. So whitespace at the edge of a bold
or italic run moves outside it (“**bold **text” would show its asterisks), and formatting that
still cannot be written is refused, naming the text, rather than lost or spread to other words.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from itertools import groupby

from django.utils.translation import gettext as _

from .document import quote
from .errors import IssueImportError
from .escaping import markdown_escape, markdown_escape_destination
from .inline_markdown import PARSER

# Emphasis markers to try, in order: asterisks work inside words, underscores only around them,
# so the second pair helps only in the rare tangle the first cannot write.
_MARKERS = (("**", "*"), ("__", "_"), ("**", "_"), ("__", "*"))
_SPACES = re.compile(r" {2,}")


@dataclass(frozen=True)
class Run:
    """A piece of text with one formatting: ``href`` is the link's URL, "" for no link."""

    text: str
    strong: bool = False
    emphasis: bool = False
    href: str = ""

    @property
    def style(self) -> tuple[bool, bool, str]:
        return (self.strong, self.emphasis, self.href)


def runs_text(runs: Iterable[Run]) -> str:
    """The characters of ``runs``, without formatting."""
    return "".join(run.text for run in runs)


def runs_normalise(runs: Iterable[Run]) -> list[Run]:
    """The same visible text with the fewest runs: neighbours with one style merged, no empty
    run, spaces collapsed, none at either end, and none at the edges of bold, italic or a link
    (between two bold words a space stays bold, so the phrase is written as one)."""
    pieces: list[Run] = []
    for run in runs:
        core = run.text.strip()
        lead = run.text[: len(run.text) - len(run.text.lstrip())]
        trail = run.text[len(lead) + len(core) :]
        pieces += [replace(run, text=lead), replace(run, text=core), replace(run, text=trail)]
    pieces = [piece for piece in pieces if piece.text]
    for name in ("href", "strong", "emphasis"):
        _clear_at_edges(pieces, name)
    return _collapse_spaces(_merge(pieces))


def _clear_at_edges(pieces: list[Run], name: str) -> None:
    """Take ``name`` (a style) off the whitespace-only pieces at the ends of each of its spans."""
    index = 0
    while index < len(pieces):
        value = getattr(pieces[index], name)
        end = index
        while end < len(pieces) and getattr(pieces[end], name) == value:
            end += 1
        if value:
            span = range(index, end)
            for order in (span, reversed(span)):
                for position in order:
                    if pieces[position].text.strip():
                        break
                    pieces[position] = replace(pieces[position], **{name: type(value)()})
        index = end


def runs_markdown(runs: Iterable[Run], *, line: int | None = None) -> str:
    """``runs`` as stored inline Markdown, checked to read back as the same text and formatting.

    Link URLs must already be allowed ones (http, https, mailto). Raises ``IssueImportError``
    when Markdown cannot hold the formatting where it is, naming the text and ``line``.
    """
    runs = [replace(run, href=PARSER.normalizeLink(run.href) if run.href else "") for run in runs]
    expected = runs_normalise(runs)
    for strong, emphasis in _MARKERS:
        stored = _write(expected, strong=strong, emphasis=emphasis)
        if runs_from_markdown(stored) == expected:
            return stored
    raise IssueImportError(
        _(
            "bold or italic that Markdown cannot hold where it starts or ends in %(text)s; "
            "put it around whole words"
        )
        % {"text": quote(runs_text(expected))},
        line=line,
    )


def runs_from_markdown(stored: str) -> list[Run]:
    """Stored inline Markdown back as normalised runs: what a reader sees, formatting and all."""
    runs, strong, emphasis, href = [], 0, 0, ""
    for token in PARSER.parseInline(stored, {})[0].children or []:
        if token.type in {"strong_open", "strong_close"}:
            strong += 1 if token.nesting > 0 else -1
        elif token.type in {"em_open", "em_close"}:
            emphasis += 1 if token.nesting > 0 else -1
        elif token.type == "link_open":
            href = str(token.attrGet("href") or "")
        elif token.type == "link_close":
            href = ""
        elif token.type in {"softbreak", "hardbreak"}:
            runs.append(Run(" ", href=href))
        else:  # text, or what would be markup if the writer had a bug: compared as its text
            runs.append(Run(token.content, strong > 0, emphasis > 0, href))
    return runs_normalise(runs)


def runs_drop_prefix(runs: Sequence[Run], length: int) -> list[Run]:
    """``runs`` without their first ``length`` characters (a label such as the takeaway's)."""
    rest = []
    for run in runs:
        if length >= len(run.text):
            length -= len(run.text)
            continue
        rest.append(replace(run, text=run.text[length:]))
        length = 0
    return runs_normalise(rest)


def _merge(runs: Iterable[Run]) -> list[Run]:
    merged = []
    for style, group in groupby((run for run in runs if run.text), key=lambda run: run.style):
        strong, emphasis, href = style
        merged.append(Run(runs_text(group), strong, emphasis, href))
    return merged


def _collapse_spaces(runs: list[Run]) -> list[Run]:
    collapsed: list[Run] = []
    after_space = True  # at the start, as after a space: leading whitespace goes
    for run in runs:
        text = _SPACES.sub(" ", run.text)
        if after_space:
            text = text.lstrip(" ") if collapsed else text.lstrip()
        if text:
            collapsed.append(replace(run, text=text))
            after_space = text.endswith(" ")
    while collapsed and not collapsed[-1].text.rstrip():
        collapsed.pop()
    if collapsed:
        collapsed[-1] = replace(collapsed[-1], text=collapsed[-1].text.rstrip())
    return _merge(collapsed)


def _write(runs: list[Run], *, strong: str, emphasis: str) -> str:
    parts: list[str] = []
    for href, group in groupby(runs, key=lambda run: run.href):
        if href:
            if parts and parts[-1].endswith("!"):
                parts[-1] = parts[-1][:-1] + "\\!"  # “![” would start an image
            inner = _write_emphasis(list(group), strong=strong, emphasis=emphasis, first=False)
            parts.append(f"[{inner}]({markdown_escape_destination(href)})")
        else:
            inner = _write_emphasis(list(group), strong=strong, emphasis=emphasis, first=not parts)
            parts.append(inner)
    return "".join(parts)


def _write_emphasis(runs: list[Run], *, strong: str, emphasis: str, first: bool) -> str:
    """Runs of one link (or none): markers opened and closed in nesting order, the one that
    lasts longer outside, so “**a *b* c**” is not written as “**a** ***b*** **c**”."""
    markers = {"strong": strong, "emphasis": emphasis}
    parts: list[str] = []
    open_: list[str] = []  # attribute names, outermost first
    for index, run in enumerate(runs):
        wanted = {name for name in markers if getattr(run, name)}
        # Close from the innermost out down to the first one that must go.
        keep = 0
        while keep < len(open_) and open_[keep] in wanted:
            keep += 1
        while len(open_) > keep:
            parts.append(markers[open_.pop()])
        to_open = sorted(wanted - set(open_), key=lambda name: -_extent(runs, index, name))
        for name in to_open:
            parts.append(markers[name])
            open_.append(name)
        parts.append(markdown_escape(run.text, line_start=first and not parts))
    while open_:
        parts.append(markers[open_.pop()])
    return "".join(parts)


def _extent(runs: list[Run], start: int, name: str) -> int:
    length = 0
    for run in runs[start:]:
        if not getattr(run, name):
            break
        length += len(run.text)
    return length
