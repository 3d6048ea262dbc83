"""Which blocks of a story attribute a claim to a source, by the phrases a newsroom uses.

Each newsletter keeps its own list (``Newsletter.attribution_patterns``, one phrase a line,
``DEFAULT_ATTRIBUTION_PATTERNS`` until an editor changes it). A paragraph or bullet point
containing one of them rests on a source: the sources app checks, when a story is submitted or
approved, that such a block cites one (see ``issues.signals.story_review_checks``). This module
only finds the blocks; it knows nothing of sources.

A phrase matches whole words, whatever the case, the spacing, curly or straight apostrophes and
quotes, and the Markdown around or inside it: "told *The Bell*" is found by "told The Bell".
"""

import re
from collections.abc import Iterable
from functools import lru_cache

from django.utils.translation import gettext as _

from .models import DEFAULT_ATTRIBUTION_PATTERNS, Block, BlockKind, Story
from .rendering import inline_text

__all__ = [
    "DEFAULT_ATTRIBUTION_PATTERNS",
    "attributed_blocks",
    "attribution_matches",
    "attribution_patterns_parse",
    "attribution_problem",
]

# Sub-headings make no claims.
ATTRIBUTING_KINDS = (BlockKind.PARAGRAPH, BlockKind.BULLET)
# Enough of a block to find it in the story, in a message that may name several.
QUOTE_CHARS = 60

_TYPOGRAPHIC = str.maketrans(
    {
        **dict.fromkeys("‘’‚‛ʼ′`´", "'"),  # noqa: RUF001 - curly apostrophes are the point
        **dict.fromkeys("“”„‟«»″", '"'),
    }
)


def _folded(text: str) -> str:
    """Plain text reduced to what a phrase is compared on: one kind of apostrophe and quote,
    single spaces, no case."""
    return " ".join(text.translate(_TYPOGRAPHIC).split()).casefold()


@lru_cache(maxsize=64)
def _matcher(patterns: tuple[str, ...]) -> re.Pattern | None:
    phrases = {_folded(pattern) for pattern in patterns} - {""}
    if not phrases:
        return None
    # Not inside a word: "told The Bell" is not found in "told The Bellingcat".
    alternatives = "|".join(re.escape(phrase) for phrase in sorted(phrases))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


def attribution_patterns_parse(text: str) -> list[str]:
    """The phrases in a newsletter's ``attribution_patterns``: one a line, blank lines and
    lines starting with # left out."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def attribution_matches(text: str, patterns: Iterable[str]) -> bool:
    """Whether ``text`` (inline Markdown, as block text is stored) contains one of ``patterns``."""
    matcher = _matcher(tuple(patterns))
    if matcher is None:
        return False
    return matcher.search(_folded(inline_text(text, urls=False))) is not None


def attributed_blocks(*, story: Story) -> list[Block]:
    """The story's paragraphs and bullet points, in order, that contain one of its newsletter's
    attribution patterns (the defaults while the story is in no issue)."""
    if story.issue_id is None:
        patterns = DEFAULT_ATTRIBUTION_PATTERNS
    else:
        patterns = attribution_patterns_parse(story.issue.newsletter.attribution_patterns)
    blocks = story.blocks.filter(kind__in=ATTRIBUTING_KINDS).order_by("position")
    return [block for block in blocks if attribution_matches(block.text, patterns)]


def attribution_problem(block: Block) -> str:
    """How a review check names an attributing block that cites no source:
    ``paragraph 3: “A source close to the Kremlin told The Bell…” attributes to a source but
    cites none``."""
    text = inline_text(block.text, urls=False)
    if len(text) > QUOTE_CHARS:
        text = text[: QUOTE_CHARS - 1].rstrip() + "…"
    return _("%(kind)s %(position)s: “%(text)s” attributes to a source but cites none") % {
        "kind": str(block.get_kind_display()).lower(),
        "position": block.position,
        "text": text,
    }
