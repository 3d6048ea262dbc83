"""Inline Markdown from an imported file, rewritten into exactly what the stored format holds.

Stored text is CommonMark with links, *emphasis* and **strong** only (``issues.markup``,
docs/rendering.md); the renderer shows any other syntax as typed. A Markdown file may use more,
so each piece of inline text is parsed as a Markdown editor previews it and written out again:
reference links and ``<autolinks>`` become ``[text](url)``, entities and code spans their
characters. What cannot be kept (images, raw HTML, links the renderer would not make) is refused
with its line rather than stored as something else.
"""

from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from markdown_it import MarkdownIt
from markdown_it.token import Token

from issues.markup import ALLOWED_URL_SCHEMES

from .document import quote
from .errors import IssueImportError
from .escaping import markdown_escape, markdown_escape_destination

# Every link is parsed as a link, whatever its URL, so that one the renderer would not make is
# refused here instead of reaching subscribers as brackets and parentheses.
PARSER = MarkdownIt("commonmark")
PARSER.validateLink = lambda url: True

_LITERAL = {"text", "code_inline"}
_BREAKS = {"softbreak", "hardbreak"}
_EMPHASIS = {"em_open", "em_close", "strong_open", "strong_close"}


def normalise_inline(source: str, *, references: dict, line: int) -> str:
    """``source``, inline Markdown that starts on ``line`` of the file, as stored inline Markdown.

    ``references`` are the file's link reference definitions, as markdown-it collects them in
    ``env["references"]``. The result holds the same words, links and emphasis a CommonMark
    preview of ``source`` shows, on one line, and is checked to read back as exactly that.
    Raises ``IssueImportError`` for what the stored format cannot hold.
    """
    content = _content(_parse(source, references), line=line)
    stored = _markdown(content)
    # Rewriting can regroup runs of * and _ in a few tangles of them (“**a*-**”); refuse those
    # rather than store emphasis that falls apart differently.
    if _content(_parse(stored, {}), line=line) != content:
        raise IssueImportError(
            _("emphasis that cannot be kept as written in %(text)s; simplify its * and _")
            % {"text": quote(" ".join(source.split()))},
            line=line,
        )
    return stored


def _parse(source: str, references: dict) -> list[Token]:
    return PARSER.parseInline(source, {"references": references})[0].children or []


def _content(tokens: list[Token], *, line: int) -> list[tuple[str, str]]:
    """What the tokens show, as ("text", characters), (emphasis token, its marker) and
    ("link_open" or "link_close", URL). Code spans are their characters, autolinks links."""
    content: list[tuple[str, str]] = []
    href, depth = "", 0
    for token in tokens:
        if token.type in _BREAKS:
            line += 1
            _add_text(content, " ")
        elif token.type in _LITERAL:
            _add_text(content, token.content)
        elif token.type in _EMPHASIS:
            content.append((token.type, token.markup))  # the author's * or _: same flanking rules
        elif token.type == "link_open":
            depth += 1
            if depth == 1:  # an <autolink> in a link's text is only text: links do not nest
                href = _allowed_href(token, line=line)
                content.append((token.type, href))
        elif token.type == "link_close":
            depth -= 1
            if depth == 0:
                content.append((token.type, href))
        else:
            raise IssueImportError(_refusal(token), line=line)
    if content and content[0][0] == "text":
        content[0] = ("text", content[0][1].lstrip())
    if content and content[-1][0] == "text":
        content[-1] = ("text", content[-1][1].rstrip())
    return [part for part in content if part != ("text", "")]


def _add_text(content: list[tuple[str, str]], text: str) -> None:
    if content and content[-1][0] == "text":
        text = content.pop()[1] + text
    content.append(("text", text))


def _markdown(content: list[tuple[str, str]]) -> str:
    parts: list[str] = []
    for kind, value in content:
        if kind == "text":
            parts.append(markdown_escape(value, line_start=not parts))
        elif kind == "link_open":
            if parts and parts[-1].endswith("!"):
                parts[-1] = parts[-1][:-1] + "\\!"  # “![” would start an image
            parts.append("[")
        elif kind == "link_close":
            parts.append(f"]({markdown_escape_destination(value)})")
        else:
            parts.append(value)
    return "".join(parts)


def _allowed_href(token: Token, *, line: int) -> str:
    # The renderer's test (issues.rendering), on the same normalised URL markdown-it gives it.
    return link_href_checked(str(token.attrGet("href") or ""), line=line)


def link_href_checked(href: str, *, line: int) -> str:
    """``href`` if the renderer would make it a link (http, https, mailto); otherwise
    ``IssueImportError``. Shared by the Markdown and the HTML (Word) readers."""
    try:
        allowed = urlsplit(href.strip()).scheme.lower() in ALLOWED_URL_SCHEMES
    except ValueError:  # not a URL at all, such as an unclosed “[” in the host
        allowed = False
    if not allowed:
        raise IssueImportError(
            _("a link to %(url)s; only %(schemes)s links are supported")
            % {"url": quote(href), "schemes": "/".join(sorted(ALLOWED_URL_SCHEMES))},
            line=line,
        )
    return href


def _refusal(token: Token) -> str:
    if token.type == "image":
        return _("images are not supported in story text; link to it instead")
    if token.type == "html_inline":
        return _("raw HTML is not supported in story text: %(html)s") % {
            "html": quote(token.content)
        }
    return _("unsupported Markdown (%(type)s)") % {"type": token.type}
