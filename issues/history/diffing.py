"""Word diffs of two texts, and diffs of two ordered lists (a story's blocks, an issue's stories).

Pure functions on plain data, built on :mod:`difflib`: no database, no HTML. The templates
escape every piece of text they print.
"""

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import StrEnum

# Words (any script), runs of whitespace, and single punctuation marks: a changed comma or
# dash is marked on its own, not with the word next to it.
_TOKENS = re.compile(r"\w+|\s+|[^\w\s]")


class Op(StrEnum):
    EQUAL = "equal"
    INSERT = "insert"
    DELETE = "delete"


@dataclass(frozen=True)
class Segment:
    op: Op
    text: str


@dataclass(frozen=True)
class TextDiff:
    """One text before and after: the old side holds the deleted words, the new side the
    inserted ones, each between the words both sides share."""

    old: tuple[Segment, ...]
    new: tuple[Segment, ...]

    @property
    def changed(self) -> bool:
        return any(segment.op != Op.EQUAL for segment in (*self.old, *self.new))


def _tokens(text: str) -> list[str]:
    return _TOKENS.findall(text)


def _opcodes(old: list[str], new: list[str]) -> list[tuple[str, int, int, int, int]]:
    # autojunk would treat the spaces of a long paragraph as noise and mark whole sentences.
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    merged: list[tuple[str, int, int, int, int]] = []
    opcodes = matcher.get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        # A lone space between two changes reads better as part of one longer change:
        # "<del>the old</del><ins>a new</ins>", not "<del>the</del><ins>a</ins> <del>old</del>…".
        between_changes = 0 < index < len(opcodes) - 1
        if tag == "equal" and between_changes and "".join(old[i1:i2]).isspace():
            tag = "replace"
        if tag != "equal" and merged and merged[-1][0] != "equal":
            _, first_i1, _, first_j1, _ = merged.pop()
            tag, i1, j1 = "replace", first_i1, first_j1
        merged.append((tag, i1, i2, j1, j2))
    return merged


def _joined(segments: list[Segment]) -> tuple[Segment, ...]:
    joined: list[Segment] = []
    for segment in segments:
        if not segment.text:
            continue
        if joined and joined[-1].op == segment.op:
            joined[-1] = Segment(segment.op, joined[-1].text + segment.text)
        else:
            joined.append(segment)
    return tuple(joined)


def _spaces_after_words(segments: tuple[Segment, ...]) -> tuple[Segment, ...]:
    """Slide the space a change starts with to its end where the text after it starts with
    the same space: "Kremlin[ now] expects" reads better as "Kremlin [now ]expects"."""
    slid = list(segments)
    for index in range(1, len(slid) - 1):
        before, change, after = slid[index - 1 : index + 2]
        if before.op != Op.EQUAL or change.op == Op.EQUAL or after.op != Op.EQUAL:
            continue
        space = change.text[: len(change.text) - len(change.text.lstrip())]
        if space and after.text.startswith(space) and change.text.strip():
            slid[index - 1] = Segment(Op.EQUAL, before.text + space)
            slid[index] = Segment(change.op, change.text[len(space) :] + space)
            slid[index + 1] = Segment(Op.EQUAL, after.text[len(space) :])
    return tuple(segment for segment in slid if segment.text)


def text_diff(old: str, new: str) -> TextDiff:
    """The words removed from ``old`` and added in ``new``."""
    old_tokens, new_tokens = _tokens(old), _tokens(new)
    old_side: list[Segment] = []
    new_side: list[Segment] = []
    for tag, i1, i2, j1, j2 in _opcodes(old_tokens, new_tokens):
        removed, added = "".join(old_tokens[i1:i2]), "".join(new_tokens[j1:j2])
        if tag == "equal":
            old_side.append(Segment(Op.EQUAL, removed))
            new_side.append(Segment(Op.EQUAL, added))
        else:
            old_side.append(Segment(Op.DELETE, removed))
            new_side.append(Segment(Op.INSERT, added))
    return TextDiff(
        old=_spaces_after_words(_joined(old_side)), new=_spaces_after_words(_joined(new_side))
    )


# Ordered lists ------------------------------------------------------------------------------


class Change(StrEnum):
    UNCHANGED = "unchanged"
    CHANGED = "changed"
    ADDED = "added"
    REMOVED = "removed"


@dataclass(frozen=True)
class Item:
    """One entry of an ordered list: a block, or a story in an issue."""

    key: int | None  # the row's id; None when the data does not say
    text: str
    kind: str = ""  # what the entry is, in words ("Paragraph"); compared like the text


@dataclass(frozen=True)
class ItemDiff:
    change: Change
    old: Item | None
    new: Item | None
    old_number: int | None  # 1-based place in the old list
    new_number: int | None
    moved: bool
    text: TextDiff

    @property
    def kind_changed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.kind != self.new.kind


def _pairs(old: Sequence[Item], new: Sequence[Item]) -> dict[int, int]:
    """New index → old index: by key, then entries left over on both sides at the same place."""
    old_by_key = {item.key: index for index, item in enumerate(old) if item.key is not None}
    pairs = {
        index: old_by_key[item.key] for index, item in enumerate(new) if item.key in old_by_key
    }
    # An entry deleted and typed again has a new id but stands where the old one stood.
    paired_old = set(pairs.values())
    for index in range(min(len(old), len(new))):
        if index not in pairs and index not in paired_old:
            pairs[index] = index
    return pairs


def _stayed(old_indexes: list[int]) -> set[int]:
    """The most entries that kept their order (the longest increasing subsequence of their
    old indexes, in the new order). The others are the ones that moved."""
    # Patience sorting: tails[k] ends the best increasing subsequence of length k + 1 so far.
    tails: list[int] = []
    tail_at: list[int] = []
    before: list[int | None] = []
    for position, value in enumerate(old_indexes):
        low = bisect_left(tails, value)
        before.append(tail_at[low - 1] if low else None)
        if low == len(tails):
            tails.append(value)
            tail_at.append(position)
        else:
            tails[low] = value
            tail_at[low] = position
    stayed: set[int] = set()
    position = tail_at[-1] if tail_at else None
    while position is not None:
        stayed.add(old_indexes[position])
        position = before[position]
    return stayed


def items_diff(old: Sequence[Item], new: Sequence[Item]) -> tuple[ItemDiff, ...]:
    """Both lists as one, in the new order, with removed entries where they used to be."""
    pairs = _pairs(old, new)
    stayed = _stayed([pairs[index] for index in sorted(pairs)])
    rows: list[ItemDiff] = []
    row_of_old: dict[int, ItemDiff] = {}
    for new_index, item in enumerate(new):
        old_index = pairs.get(new_index)
        if old_index is None:
            row = ItemDiff(
                change=Change.ADDED,
                old=None,
                new=item,
                old_number=None,
                new_number=new_index + 1,
                moved=False,
                text=text_diff("", item.text),
            )
        else:
            before = old[old_index]
            edited = before.text != item.text or before.kind != item.kind
            row = ItemDiff(
                change=Change.CHANGED if edited else Change.UNCHANGED,
                old=before,
                new=item,
                old_number=old_index + 1,
                new_number=new_index + 1,
                moved=old_index not in stayed,
                text=text_diff(before.text, item.text),
            )
            if not row.moved:
                row_of_old[old_index] = row
        rows.append(row)
    for old_index, item in enumerate(old):
        if old_index in pairs.values():
            continue
        row = ItemDiff(
            change=Change.REMOVED,
            old=item,
            new=None,
            old_number=old_index + 1,
            new_number=None,
            moved=False,
            text=text_diff(item.text, ""),
        )
        # Right after the nearest earlier entry that is still where it was.
        anchor = next(
            (row_of_old[index] for index in range(old_index - 1, -1, -1) if index in row_of_old),
            None,
        )
        at = 0 if anchor is None else next(n for n, r in enumerate(rows) if r is anchor) + 1
        rows.insert(at, row)
        row_of_old[old_index] = row
    return tuple(rows)
