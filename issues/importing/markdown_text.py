"""The Markdown issue format: structure from headings and lists, nothing guessed.

``#`` is the title line, ``##`` a story headline, ``###`` and deeper a sub-heading, ``-``, ``*`` or
``+`` a bullet point. The inline Markdown of paragraphs, bullet points and sub-headings is
rewritten into the stored subset (see ``inline_markdown``), with the file's link reference
definitions resolved.
"""

import re

from django.utils.translation import gettext as _
from markdown_it.token import Token

from .document import IssueBuilder, ParsedIssue, quote, split_title_line
from .errors import IssueImportError
from .inline_markdown import PARSER, normalise_inline

MARKDOWN = "markdown"
TITLE_EXAMPLE = "# THE BELL WEEKLY: The Kremlin view on Putin-Trump talks"


def parse_markdown(text: str, *, takeaway_label: str) -> ParsedIssue:
    env: dict = {}
    blocks = list(_top_level_blocks(PARSER.parse(text, env)))
    title_block = blocks[0] if blocks else None
    first_line = _line(title_block[0]) if title_block else 1
    if title_block is None or title_block[0].tag != "h1":
        raise IssueImportError(
            _("the first line must be the title, “# KICKER: Title” like %(example)s")
            % {"example": quote(TITLE_EXAMPLE)},
            line=first_line,
        )
    kicker, title = split_title_line(_plain(title_block[1]), line=first_line, example=TITLE_EXAMPLE)
    builder = IssueBuilder(
        markup=MARKDOWN, kicker=kicker, title=title, takeaway_label=takeaway_label
    )
    takeaway = _takeaway_pattern(takeaway_label)
    # The definitions (“[label]: url”) are not content: markdown-it has taken them out.
    references = env.get("references", {})
    for tokens in blocks[1:]:
        _add_block(builder, takeaway, references, tokens)
    return builder.finish()


def _add_block(
    builder: IssueBuilder, takeaway: re.Pattern, references: dict, tokens: list[Token]
) -> None:
    opening, line = tokens[0], _line(tokens[0])
    if opening.type == "heading_open":
        _add_heading(builder, opening.tag, tokens[1], line, references)
    elif opening.type == "paragraph_open":
        source = tokens[1].content
        if match := takeaway.match(source):
            # The takeaway's text may start on a later line than its label.
            rest_line = line + source.count("\n", 0, match.end())
            rest = normalise_inline(source[match.end() :], references=references, line=rest_line)
            builder.start_takeaway(rest, line=line)
        else:
            text = normalise_inline(source, references=references, line=line)
            builder.add_paragraph(text, line=line)
    elif opening.type == "bullet_list_open":
        for item_line, text in _bullet_items(tokens, references):
            builder.add_bullet(text, line=item_line)
    elif opening.type != "hr":  # a thematic break only separates; there is nothing to keep
        raise IssueImportError(_unsupported(opening), line=line)


def _add_heading(
    builder: IssueBuilder, tag: str, inline: Token, line: int, references: dict
) -> None:
    plain = _plain(inline)
    if tag == "h1":
        raise IssueImportError(
            _("a second “# ” title %(text)s; a story headline starts with “## ”")
            % {"text": quote(plain)},
            line=line,
        )
    if plain.rstrip(":").strip().casefold() == builder.takeaway_label.casefold():
        builder.start_takeaway("", line=line)
    elif tag == "h2":
        builder.start_story(plain, line=line)
    else:
        text = normalise_inline(inline.content, references=references, line=line)
        builder.add_subheading(text, line=line)


def _bullet_items(tokens: list[Token], references: dict) -> list[tuple[int, str]]:
    items, line, parts = [], 0, []
    for token in tokens[1:-1]:
        if token.type == "list_item_open" and token.level == 1:
            line, parts = _line(token), []
        elif token.type == "list_item_close" and token.level == 1:
            items.append((line, " ".join(parts)))
        elif token.type == "inline":
            parts.append(normalise_inline(token.content, references=references, line=_line(token)))
        elif token.type in {"bullet_list_open", "ordered_list_open"}:
            raise IssueImportError(_("nested lists are not supported"), line=_line(token))
        elif token.type not in {"paragraph_open", "paragraph_close"} and token.nesting >= 0:
            raise IssueImportError(_unsupported(token), line=_line(token))
    return items


def _top_level_blocks(tokens: list[Token]):
    """Group the token stream into one list per top-level block, opening to closing token."""
    start = 0
    for index, token in enumerate(tokens):
        if token.level == 0 and token.nesting <= 0:
            yield tokens[start : index + 1]
            start = index + 1


def _takeaway_pattern(label: str) -> re.Pattern:
    # “Label:”, “**Label:**”, “**Label**:” or “*Label:*”, text optionally following. Matched
    # against the paragraph's source lines, so the label may be wrapped onto two of them.
    words = r"\s+".join(re.escape(word) for word in label.split())
    return re.compile(
        rf"^(?P<open>\*\*|__|\*|_)?{words}[ \t]*(?P<colon>:)?[ \t]*"
        r"(?(open)(?P=open))[ \t]*(?(colon)|:)",
        re.IGNORECASE,
    )


def _unsupported(token: Token) -> str:
    what = {
        "ordered_list_open": _("numbered lists are not supported; use “- ” bullet points"),
        "blockquote_open": _("block quotes (“> ”) are not supported"),
        "code_block": _("code blocks are not supported (is the line indented by four spaces?)"),
        "fence": _("code blocks are not supported"),
        "html_block": _("HTML blocks are not supported"),
    }
    return what.get(token.type, _("unsupported Markdown (%(type)s)") % {"type": token.type})


def _plain(inline: Token) -> str:
    """The words of an inline Markdown heading without its markup: titles are plain text."""
    parts = []
    for child in inline.children or []:
        if child.type in {"text", "code_inline"}:
            parts.append(child.content)
        elif child.type in {"softbreak", "hardbreak"}:
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts).strip()


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 1
