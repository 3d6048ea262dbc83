"""Unsaved drafts: what the story editor keeps for a person between their saves.

The editor sends its whole content every few seconds and when it loses focus; a reload or a
crashed browser opens the story with that content again. A draft belongs to one person and one
story (or to the story they have not saved yet), records the revision it started from, and is
dropped when the story is saved. It is never a version: others see nothing of it.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from .models import Block, BlockKind, Story, StoryDraft

# Far above any story (the longest in the sample archive is ~60 blocks, ~20 000 characters),
# low enough that a draft cannot fill the database.
DRAFT_MAX_BLOCKS = 2000
DRAFT_MAX_CHARACTERS = 1_000_000


class DraftError(ValueError):
    """The content sent is not a draft the editor could have written."""


def draft_content_clean(content) -> dict:
    """The draft as stored: headline, takeaway and blocks of known kinds, nothing else."""
    if not isinstance(content, dict):
        raise DraftError(_("A draft is an object with a headline, a takeaway and blocks."))
    blocks = content.get("blocks")
    if not isinstance(blocks, list) or len(blocks) > DRAFT_MAX_BLOCKS:
        raise DraftError(_("A draft has a list of at most %(n)s blocks.") % {"n": DRAFT_MAX_BLOCKS})
    clean = {
        "headline": _text(content.get("headline", "")),
        "takeaway": _text(content.get("takeaway", "")),
        "blocks": [_block(block) for block in blocks],
        # When the browser made the last change this draft holds, by the browser's clock:
        # what tells its draft from the copy it keeps itself (static/issues/editor/editor.js).
        "editedAt": _text(content.get("editedAt", ""))[:40],
    }
    size = len(clean["headline"]) + len(clean["takeaway"])
    size += sum(len(block["text"]) for block in clean["blocks"])
    if size > DRAFT_MAX_CHARACTERS:
        raise DraftError(_("This draft is too long to keep."))
    return clean


def _text(value) -> str:
    if not isinstance(value, str):
        raise DraftError(_("Draft texts are strings."))
    return value


def _block(block) -> dict:
    if not isinstance(block, dict) or block.get("kind") not in BlockKind.values:
        raise DraftError(_("Each block has a kind: sub-heading, paragraph or bullet point."))
    block_id = block.get("id")
    if block_id is not None and (not isinstance(block_id, int) or isinstance(block_id, bool)):
        raise DraftError(_("A block's id is a number."))
    return {"id": block_id, "kind": block["kind"], "text": _text(block.get("text", ""))}


def story_content(story: Story) -> dict:
    """A stored story in the shape of a draft: what a draft is compared with."""
    blocks = Block.objects.filter(story=story).order_by("position", "pk")
    return {
        "headline": story.headline,
        "takeaway": story.takeaway,
        "blocks": [{"id": b.pk, "kind": b.kind, "text": b.text} for b in blocks],
    }


def _drafts(*, user, story: Story | None):
    drafts = StoryDraft.objects.filter(user=user)
    return drafts.filter(story__isnull=True) if story is None else drafts.filter(story=story)


def story_draft_save(
    *, user, story: Story | None, base_revision: int | None, content
) -> StoryDraft:
    """Keep what ``user`` has typed in ``story``'s editor (``None``: a story not yet saved)."""
    content = draft_content_clean(content)
    with transaction.atomic():
        draft = _drafts(user=user, story=story).select_for_update().first()
        if draft is None:
            draft = StoryDraft(user=user, story=story)
        draft.base_revision = base_revision
        draft.content = content
        draft.save()
    return draft


def story_draft_get(*, user, story: Story | None) -> StoryDraft | None:
    """``user``'s unsaved draft of ``story``, if it says something the stored story does not."""
    draft = _drafts(user=user, story=story).first()
    if draft is None:
        return None
    if story is not None and _text_of(draft.content) == story_content(story):
        return None
    if story is None and not _says_anything(draft.content):
        return None
    return draft


def _text_of(content: dict) -> dict:
    return {key: content[key] for key in ("headline", "takeaway", "blocks")}


def _says_anything(content: dict) -> bool:
    texts = [content["headline"], content["takeaway"], *(b["text"] for b in content["blocks"])]
    return any(text.strip() for text in texts)


def story_draft_discard(*, user, story: Story | None) -> None:
    """Drop ``user``'s draft of ``story``: it has been saved (or thrown away on purpose)."""
    _drafts(user=user, story=story).delete()
