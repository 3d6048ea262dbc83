"""The HTML issue format: structure from headings and lists, as a Word document converts to it.

A ``.docx`` is converted to HTML by mammoth (``issues.importing.word``) and read here; any other
HTML made of headings, paragraphs and bullet lists reads the same way (Ghost's posts, for one).
``<h1>`` is the title line, ``KICKER: Title``; ``<h2>`` a story headline; ``<h3>`` and deeper a
sub-heading; ``<li>`` of a ``<ul>`` a bullet point; ``<p>`` a paragraph. Inline, links, bold and
italic (as tags or as ``font-weight``/``font-style``, the way Google Docs marks them) are kept as
the stored inline Markdown; every other tag is only its text. Empty paragraphs are nothing.

What the stored format cannot hold is refused, as in Markdown: images, tables, block quotes,
numbered and nested lists, links to anything but http, https and mailto. A link within the page
(``#…``, a Word table of contents) keeps its text and loses the link.
"""

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .document import IssueBuilder, ParsedIssue, quote, split_title_line
from .errors import IssueImportError
from .inline_markdown import link_href_checked
from .runs import Run, runs_drop_prefix, runs_markdown, runs_normalise, runs_text

HTML = "html"
TITLE_EXAMPLE = "THE BELL WEEKLY: The Kremlin view on Putin-Trump talks"
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
# Elements whose content is not text a reader sees.
_SKIPPED = {"head", "script", "style", "template", "title", "noscript"}
# Tags that hold no content and have no end tag.
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}
# Elements the stored format has nothing for: refused, as the Markdown importer refuses them.
_IMAGES = gettext_lazy("images are not supported in story text; link to it instead")
_MEDIA = gettext_lazy("video, audio and embedded pages are not supported; link to them instead")
_REFUSED = {
    "img": _IMAGES,
    "picture": _IMAGES,
    "svg": _IMAGES,
    "video": _MEDIA,
    "audio": _MEDIA,
    "iframe": _MEDIA,
    "object": _MEDIA,
    "embed": _MEDIA,
    "table": gettext_lazy("tables are not supported"),
    "blockquote": gettext_lazy("block quotes are not supported"),
    "pre": gettext_lazy("code blocks are not supported"),
    "ol": gettext_lazy("numbered lists are not supported; use bullet points"),
}
# Elements that hold blocks: text loose in one is a paragraph of its own, ended with it. Every
# element not named here or above is inline, only its text (a <span>, <u>, <code>, <sup>…).
_CONTAINERS = {
    "address", "article", "aside", "body", "center", "dd", "details", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "header", "html", "main", "nav",
    "section", "summary",
}  # fmt: skip
_WHITESPACE = re.compile(r"[ \t\n\r\f]+")  # HTML's, not Unicode's: a no-break space stays
_BOLD_WEIGHT = re.compile(r"font-weight\s*:\s*(bold(?:er)?|[6-9]00)\b", re.IGNORECASE)
_NORMAL_WEIGHT = re.compile(r"font-weight\s*:\s*(normal|lighter|[1-5]00)\b", re.IGNORECASE)
_ITALIC_STYLE = re.compile(r"font-style\s*:\s*(italic|oblique)\b", re.IGNORECASE)
_NORMAL_STYLE = re.compile(r"font-style\s*:\s*normal\b", re.IGNORECASE)


@dataclass
class HtmlBlock:
    """One heading, paragraph or list item, as formatted runs, with the line it starts on."""

    tag: str
    line: int
    runs: list[Run] = field(default_factory=list)

    @property
    def text(self) -> str:
        return runs_text(runs_normalise(self.runs))


def parse_html(text: str, *, takeaway_label: str) -> ParsedIssue:
    """An issue's HTML as a ``ParsedIssue``; ``IssueImportError`` for what it cannot place."""
    blocks = html_blocks(text)
    if not blocks or blocks[0].tag != "h1":
        raise IssueImportError(
            _(
                "the document must start with its title as a top-level heading (Heading 1 in "
                "Word, <h1> in HTML), “KICKER: Title” like %(example)s; found %(found)s"
            )
            % {
                "example": quote(TITLE_EXAMPLE),
                "found": quote(blocks[0].text) if blocks else _("nothing"),
            },
            line=blocks[0].line if blocks else 1,
        )
    title = blocks[0]
    kicker, title_text = split_title_line(title.text, line=title.line, example=TITLE_EXAMPLE)
    builder = IssueBuilder(
        markup=HTML, kicker=kicker, title=title_text, takeaway_label=takeaway_label
    )
    takeaway = _takeaway_pattern(takeaway_label)
    for block in blocks[1:]:
        _add_block(builder, takeaway, block)
    return builder.finish()


def html_blocks(text: str) -> list[HtmlBlock]:
    """The headings, paragraphs and list items of ``text``, in order, none of them empty."""
    reader = _BlockReader()
    reader.feed(text)
    reader.close()
    return reader.blocks


def _add_block(builder: IssueBuilder, takeaway: re.Pattern, block: HtmlBlock) -> None:
    plain, line = block.text, block.line
    if block.tag == "h1":
        raise IssueImportError(
            _("a second title %(text)s; a story headline is a Heading 2 (<h2>)")
            % {"text": quote(plain)},
            line=line,
        )
    is_label = plain.rstrip(":").strip().casefold() == builder.takeaway_label.casefold()
    if block.tag in HEADINGS and is_label:
        builder.start_takeaway("", line=line)
    elif block.tag == "h2":
        builder.start_story(plain, line=line)
    elif block.tag in HEADINGS:
        builder.add_subheading(runs_markdown(block.runs, line=line), line=line)
    elif block.tag == "li":
        builder.add_bullet(runs_markdown(block.runs, line=line), line=line)
    elif match := takeaway.match(plain):
        rest = runs_drop_prefix(runs_normalise(block.runs), match.end())
        builder.start_takeaway(runs_markdown(rest, line=line), line=line)
    else:
        builder.add_paragraph(runs_markdown(block.runs, line=line), line=line)


def _takeaway_pattern(label: str) -> re.Pattern:
    words = r"\s+".join(re.escape(word) for word in label.split())
    return re.compile(rf"^{words}\s*:", re.IGNORECASE)


@dataclass(frozen=True)
class _Element:
    tag: str
    strong: bool
    emphasis: bool
    href: str


class _BlockReader(HTMLParser):
    """Reads HTML into ``HtmlBlock``s, keeping the bold, italic and links in force for each
    piece of text. Mis-nested end tags close what they enclose, as browsers do."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[HtmlBlock] = []
        self.block: HtmlBlock | None = None
        self.open: list[_Element] = [_Element("", strong=False, emphasis=False, href="")]
        self.lists = 0
        self.skipping: list[str] = []  # the skipped elements still open

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        line = self.getpos()[0]
        if self.skipping or tag in _SKIPPED:
            if tag not in _VOID:
                self.skipping.append(tag)
            return
        if tag in _REFUSED:
            raise IssueImportError(str(_REFUSED[tag]), line=line)
        if tag == "ul":
            if self.lists:
                raise IssueImportError(_("nested lists are not supported"), line=line)
            self._end_block()
            self.lists += 1
        elif tag == "li" or tag in HEADINGS:
            self._start_block(tag, line)
        elif tag == "p":
            if self.block is not None and self.block.tag == "li":
                self._add_text(" ")  # a list item's paragraphs are one bullet point
            else:
                self._start_block(tag, line)
        elif tag == "br":
            self._add_text(" ")
        elif tag == "hr" or tag in _CONTAINERS:
            self._end_block()
        if tag not in _VOID:
            self.open.append(self._element(tag, attrs, line))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if self.skipping:
            while tag in self.skipping and self.skipping.pop() != tag:
                pass
            return
        if not any(element.tag == tag for element in self.open[1:]):
            return  # an end tag with no start: browsers ignore it
        while self.open[-1].tag != tag:
            self.open.pop()
        self.open.pop()
        if tag == "ul":
            self._end_block()
            self.lists -= 1
        elif tag in HEADINGS or tag == "li" or (tag == "p" and self._in_block("p")):
            self._end_block()
        elif tag == "p":
            self._add_text(" ")
        elif tag in _CONTAINERS:
            self._end_block()

    def handle_data(self, data):
        if self.skipping:
            return
        self._add_text(data)

    def close(self):
        super().close()
        self._end_block()

    def _in_block(self, tag: str) -> bool:
        return self.block is not None and self.block.tag == tag

    def _element(self, tag: str, attrs: dict, line: int) -> _Element:
        parent = self.open[-1]
        style = attrs.get("style") or ""
        strong = (tag in {"b", "strong"} or parent.strong or bool(_BOLD_WEIGHT.search(style))) and (
            not _NORMAL_WEIGHT.search(style)
        )
        emphasis = (
            tag in {"i", "em"} or parent.emphasis or bool(_ITALIC_STYLE.search(style))
        ) and not _NORMAL_STYLE.search(style)
        href = _link_href(attrs.get("href"), line=line) if tag == "a" else parent.href
        return _Element(tag, strong=strong, emphasis=emphasis, href=href)

    def _start_block(self, tag: str, line: int) -> None:
        self._end_block()
        self.block = HtmlBlock(tag=tag, line=line)

    def _end_block(self) -> None:
        if self.block is not None and self.block.text:
            self.blocks.append(self.block)
        self.block = None

    def _add_text(self, data: str) -> None:
        text = _WHITESPACE.sub(" ", data)
        if self.block is None:
            if not text.strip():
                return  # whitespace between blocks
            # Text outside any paragraph (in a <div>, or bare) is a paragraph of its own.
            self.block = HtmlBlock(tag="li" if self.lists else "p", line=self.getpos()[0])
        current = self.open[-1]
        self.block.runs.append(Run(text, current.strong, current.emphasis, current.href))


def _link_href(href: str | None, *, line: int) -> str:
    """The URL a link keeps, "" when the link is only its text (an anchor, a link in the page);
    ``IssueImportError`` for a link the renderer would not make."""
    href = (href or "").strip()
    if not href or href.startswith("#"):
        return ""
    return link_href_checked(href, line=line)
