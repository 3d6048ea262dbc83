"""What a parsed issue file holds, and the rules every format shares about where things may go.

Both parsers feed an ``IssueBuilder`` line by line; it owns the structural rules (no bullet point
before the first story, one takeaway per story, a takeaway label needs text…) so that a Markdown
file and a plain-text file are refused for the same reasons with the same words.
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from issues.models import BlockKind, Issue, Newsletter, Story

from .errors import IssueImportError

DEFAULT_TAKEAWAY_LABEL = Newsletter._meta.get_field("takeaway_label").default
MAX_KICKER = Newsletter._meta.get_field("kicker").max_length
MAX_TITLE = Issue._meta.get_field("title").max_length
MAX_HEADLINE = Story._meta.get_field("headline").max_length
# Enough of a line to recognise it in an error message without flooding the terminal.
QUOTE_CHARS = 60


@dataclass(frozen=True)
class ParsedBlock:
    kind: BlockKind
    text: str
    line: int


@dataclass
class ParsedStory:
    headline: str
    line: int
    blocks: list[ParsedBlock] = field(default_factory=list)
    takeaway_paragraphs: list[str] = field(default_factory=list)

    @property
    def takeaway(self) -> str:
        return "\n\n".join(self.takeaway_paragraphs)


@dataclass
class ParsedIssue:
    """An issue file's content. Block text, intro and takeaways are inline Markdown; kicker,
    title and headlines are plain text."""

    markup: str
    kicker: str
    title: str
    intro_paragraphs: list[str] = field(default_factory=list)
    stories: list[ParsedStory] = field(default_factory=list)

    @property
    def intro(self) -> str:
        return "\n\n".join(self.intro_paragraphs)


def quote(text: str) -> str:
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1] + "…"
    return f"“{text}”"


def split_title_line(title_line: str, *, line: int, example: str) -> tuple[str, str]:
    """``KICKER: Title`` → (kicker, title); the kicker is everything before the first ": "."""
    kicker, separator, title = title_line.partition(": ")
    kicker, title = kicker.strip(), title.strip()
    if not (separator and kicker and title):
        raise IssueImportError(
            _("the first line must be the title, “KICKER: Title” like %(example)s; found %(found)s")
            % {"example": quote(example), "found": quote(title_line)},
            line=line,
        )
    if len(kicker) > MAX_KICKER:
        raise IssueImportError(
            _("the kicker is longer than %(max)d characters") % {"max": MAX_KICKER}, line=line
        )
    if len(title) > MAX_TITLE:
        raise IssueImportError(
            _("the title is longer than %(max)d characters") % {"max": MAX_TITLE}, line=line
        )
    return kicker, title


class IssueBuilder:
    """Collects an issue in reading order and refuses anything out of place."""

    def __init__(self, *, markup: str, kicker: str, title: str, takeaway_label: str):
        self.issue = ParsedIssue(markup=markup, kicker=kicker, title=title)
        self.takeaway_label = takeaway_label
        self.in_takeaway = False
        # Line of a takeaway label that stood alone and still waits for its text.
        self.awaiting_takeaway_line: int | None = None

    @property
    def story(self) -> ParsedStory | None:
        return self.issue.stories[-1] if self.issue.stories else None

    def start_story(self, headline: str, *, line: int) -> None:
        self._close_story()
        if not headline:
            raise IssueImportError(_("a story headline with no text"), line=line)
        if len(headline) > MAX_HEADLINE:
            raise IssueImportError(
                _("the headline is longer than %(max)d characters") % {"max": MAX_HEADLINE},
                line=line,
            )
        self.issue.stories.append(ParsedStory(headline=headline, line=line))
        self.in_takeaway = False

    def add_paragraph(self, text: str, *, line: int) -> None:
        if self.story is None:
            self.issue.intro_paragraphs.append(text)
        elif self.in_takeaway:
            self.story.takeaway_paragraphs.append(text)
            self.awaiting_takeaway_line = None
        else:
            self._add_block(BlockKind.PARAGRAPH, text, line)

    def add_bullet(self, text: str, *, line: int) -> None:
        self._add_story_block(
            BlockKind.BULLET,
            text,
            line=line,
            empty=_("a bullet point with no text"),
            before_story=_("a bullet point before any story headline: %(text)s"),
            in_takeaway=_(
                "a bullet point in the takeaway of %(headline)s; a takeaway is paragraphs only"
            ),
        )

    def add_subheading(self, text: str, *, line: int) -> None:
        self._add_story_block(
            BlockKind.HEADING,
            text,
            line=line,
            empty=_("a sub-heading with no text"),
            before_story=_("a sub-heading before any story headline: %(text)s"),
            in_takeaway=_(
                "a sub-heading in the takeaway of %(headline)s; start a new story instead"
            ),
        )

    def start_takeaway(self, text: str, *, line: int) -> None:
        """A takeaway label; ``text`` is what followed it on the same line, if anything."""
        label = quote(f"{self.takeaway_label}:")
        if self.story is None:
            raise IssueImportError(
                _("%(label)s before any story headline") % {"label": label}, line=line
            )
        self._check_awaiting()
        if self.in_takeaway:
            raise IssueImportError(
                _("a second %(label)s in the story %(headline)s")
                % {"label": label, "headline": quote(self.story.headline)},
                line=line,
            )
        self.in_takeaway = True
        if text:
            self.story.takeaway_paragraphs.append(text)
        else:
            self.awaiting_takeaway_line = line

    def finish(self) -> ParsedIssue:
        self._close_story()
        if not self.issue.stories:
            raise IssueImportError(
                _(
                    "no story found: no line after the intro reads as a headline "
                    "(see docs/importing.md)"
                )
            )
        return self.issue

    def _add_story_block(
        self,
        kind: BlockKind,
        text: str,
        *,
        line: int,
        empty: str,
        before_story: str,
        in_takeaway: str,
    ) -> None:
        """A bullet point or sub-heading: it needs text and a story, and is never a takeaway.

        The messages name the kind of block; ``before_story`` has a ``%(text)s`` placeholder
        and ``in_takeaway`` a ``%(headline)s`` one.
        """
        if not text:
            raise IssueImportError(empty, line=line)
        if self.story is None:
            raise IssueImportError(before_story % {"text": quote(text)}, line=line)
        if self.in_takeaway:
            self._check_awaiting()
            raise IssueImportError(
                in_takeaway % {"headline": quote(self.story.headline)}, line=line
            )
        self._add_block(kind, text, line)

    def _add_block(self, kind: BlockKind, text: str, line: int) -> None:
        self.story.blocks.append(ParsedBlock(kind=kind, text=text, line=line))

    def _close_story(self) -> None:
        self._check_awaiting()
        story = self.story
        if story is not None and not any(b.kind != BlockKind.HEADING for b in story.blocks):
            raise IssueImportError(
                _("the story %(headline)s has no paragraph or bullet point")
                % {"headline": quote(story.headline)},
                line=story.line,
            )

    def _check_awaiting(self) -> None:
        if self.awaiting_takeaway_line is not None:
            raise IssueImportError(
                _("%(label)s has no text after it (write the takeaway on the next line)")
                % {"label": quote(f"{self.takeaway_label}:")},
                line=self.awaiting_takeaway_line,
            )
