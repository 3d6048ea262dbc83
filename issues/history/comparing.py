"""What a story or an issue looked like in one version, and how two versions differ.

Snapshots are built from django-reversion's field dictionaries (plain data: no queries), and
compared field by field and entry by entry. ``issues.history.loading`` reads the versions.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from issues.models import Block, Issue, Story

from .diffing import Change, Item, ItemDiff, TextDiff, items_diff, text_diff

FieldValues = Mapping[str, Any]


@dataclass(frozen=True)
class StorySnapshot:
    headline: str
    takeaway: str
    authors: tuple[Item, ...]  # by name
    blocks: tuple[Item, ...]  # in order
    revision: int | None


@dataclass(frozen=True)
class IssueSnapshot:
    number: int
    title: str
    intro: str
    stories: tuple[Item, ...]  # headlines, in order


@dataclass(frozen=True)
class FieldDiff:
    label: str
    text: TextDiff

    is_list = False

    @property
    def changed(self) -> bool:
        return self.text.changed


@dataclass(frozen=True)
class ListDiff:
    label: str
    rows: tuple[ItemDiff, ...]
    # Authors read as one line of names; blocks and stories as one row each.
    inline: bool = False

    is_list = True

    def count(self, change: Change) -> int:
        return sum(row.change == change for row in self.rows)

    @property
    def moved(self) -> int:
        return sum(row.moved for row in self.rows)

    @property
    def changed(self) -> bool:
        return any(row.change != Change.UNCHANGED or row.moved for row in self.rows)

    @property
    def summary(self) -> str:
        counts = [
            (self.count(Change.CHANGED), _("%(count)s changed")),
            (self.count(Change.ADDED), _("%(count)s added")),
            (self.count(Change.REMOVED), _("%(count)s removed")),
            (self.moved, _("%(count)s moved")),
        ]
        return ", ".join(text % {"count": count} for count, text in counts if count)


@dataclass(frozen=True)
class VersionDiff:
    parts: tuple[FieldDiff | ListDiff, ...]

    @property
    def changed(self) -> bool:
        return any(part.changed for part in self.parts)

    @property
    def changed_parts(self) -> tuple[FieldDiff | ListDiff, ...]:
        return tuple(part for part in self.parts if part.changed)


def _label(model, field_name: str) -> str:
    return str(capfirst(model._meta.get_field(field_name).verbose_name))


def _kind_label(kind: str) -> str:
    # A kind no longer offered still reads as what was stored.
    return str(Block.Kind(kind).label) if kind in Block.Kind.values else kind


def author_name(user_id: int, names: Mapping[int, str]) -> str:
    return names.get(user_id) or _("deleted user #%(id)s") % {"id": user_id}


def _block_text(block: FieldValues) -> str:
    # Another app's words about the block (the sources it cites) read after its text.
    note = block.get("note")
    return f"{block['text']} [{note}]" if note else block["text"]


def story_snapshot(
    *, story: FieldValues, blocks: Iterable[FieldValues], author_names: Mapping[int, str]
) -> StorySnapshot:
    """A story as one version stored it: its fields, and the blocks of the same revision."""
    ordered = sorted(blocks, key=lambda block: (block["position"], block["id"]))
    authors = sorted(
        (
            Item(key=user_id, text=author_name(user_id, author_names))
            for user_id in story.get("authors", ())
        ),
        key=lambda author: (author.text.casefold(), author.key),
    )
    return StorySnapshot(
        headline=story["headline"],
        takeaway=story["takeaway"],
        authors=tuple(authors),
        blocks=tuple(
            Item(key=block["id"], text=_block_text(block), kind=_kind_label(block["kind"]))
            for block in ordered
        ),
        revision=story.get("revision"),
    )


def issue_snapshot(*, issue: FieldValues, stories: Iterable[FieldValues]) -> IssueSnapshot:
    """An issue as one version stored it, with the stories it held at the time."""
    ordered = sorted(stories, key=lambda story: (story["position"] or 0, story["id"]))
    return IssueSnapshot(
        number=issue["number"],
        title=issue["title"],
        intro=issue["intro"],
        stories=tuple(Item(key=story["id"], text=story["headline"]) for story in ordered),
    )


def story_compare(old: StorySnapshot, new: StorySnapshot) -> VersionDiff:
    """Headline, authors, blocks and takeaway: in the order the story reads."""
    return VersionDiff(
        parts=(
            FieldDiff(_label(Story, "headline"), text_diff(old.headline, new.headline)),
            ListDiff(_label(Story, "authors"), items_diff(old.authors, new.authors), inline=True),
            ListDiff(_("Blocks"), items_diff(old.blocks, new.blocks)),
            FieldDiff(_label(Story, "takeaway"), text_diff(old.takeaway, new.takeaway)),
        )
    )


def issue_compare(old: IssueSnapshot, new: IssueSnapshot) -> VersionDiff:
    """Number, title, intro and the stories in their order."""
    return VersionDiff(
        parts=(
            FieldDiff(_label(Issue, "number"), text_diff(str(old.number), str(new.number))),
            FieldDiff(_label(Issue, "title"), text_diff(old.title, new.title)),
            FieldDiff(_label(Issue, "intro"), text_diff(old.intro, new.intro)),
            ListDiff(_("Stories"), items_diff(old.stories, new.stories)),
        )
    )


# How two snapshots of one kind are compared; other apps add theirs (``history_register``).
COMPARERS: dict[type, Any] = {StorySnapshot: story_compare, IssueSnapshot: issue_compare}


def snapshots_compare(old, new) -> VersionDiff:
    compare = COMPARERS.get(type(old))
    if compare is None or type(old) is not type(new):
        raise TypeError(f"cannot compare {type(old).__name__} with {type(new).__name__}")
    return compare(old, new)
