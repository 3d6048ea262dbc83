"""Saving a story from a form: its row and place, then what the save means for the workflow.

A form saves in two steps with the story's blocks in between, so this service has two parts:

- ``story_save`` writes the story's row. A save that does not move the story keeps the place it
  has now (another editor may have reordered the issue since the form was opened); a save that
  moves it renumbers the issues it leaves and joins.
- ``story_save_complete``, once the blocks are saved, raises the story's revision when
  something changed, records an edit (an approved story goes back to review, because approval
  belongs to a revision), records that each issue whose list changed was edited, and adds the
  final state to the open django-reversion revision.

The admin turns the returned ``StorySaved`` into messages; the status is never set here.
"""

from dataclasses import dataclass, field

import reversion
from django.db.models import F, Value
from django.db.models.functions import Greatest

from .access import user_writes_own_stories_only
from .drafts import story_draft_discard
from .models import Issue, Story, StoryStatus
from .ordering import POSITION, positions_save
from .services import issue_edited, story_edited

# Another editor may have reordered the issue since the form was opened.
_PLACE = {"issue", POSITION}


@dataclass
class StorySaved:
    """What a save did beyond writing the text, for the person who saved."""

    story: Story
    # The story was approved, and this change sent it back to review.
    back_to_review: bool = False
    # Issues that were approved and went back to draft, oldest first.
    issues_reopened: list[Issue] = field(default_factory=list)


def story_save(*, story: Story, created: bool, moves: bool) -> set[int]:
    """Write ``story``'s row; returns the ids of the issues whose list of stories changed.

    ``moves`` says the form asked for a new issue or position. Without it an existing story
    keeps the place stored now, which is read back into ``story``.
    """
    if not created and not moves:
        fields = [f.name for f in Story._meta.concrete_fields if not f.primary_key]
        story.save(update_fields=[name for name in fields if name not in _PLACE])
        story.refresh_from_db(fields=sorted(_PLACE))
        return set()
    previous_issue_id = (
        None
        if created
        else Story.objects.filter(pk=story.pk).values_list("issue_id", flat=True).first()
    )
    if story.issue_id is None:
        # A position only means something inside an issue.
        story.position = None
        story.save()
    else:
        positions_save(parent=story.issue, related_name="stories", instances=[story])
    if previous_issue_id is not None and previous_issue_id != story.issue_id:
        issue_gap_close(previous_issue_id)
    return {previous_issue_id, story.issue_id} - {None}


def story_save_complete(
    *,
    story: Story,
    acting_user,
    created: bool,
    rewritten: bool,
    moved: bool,
    issue_ids: set[int],
    revision_floor: int | None = None,
) -> StorySaved:
    """Record what the save of ``story`` (row and blocks already written) means.

    ``rewritten``: its text, a block or the blocks' order changed; ``moved``: its issue or
    position did; ``issue_ids``: the issues whose list of stories changed. ``revision_floor``
    is given by a revert: the new revision is above every revision the story ever had, so a
    form opened before the revert is refused as stale.
    """
    if created and user_writes_own_stories_only(acting_user):
        # A journalist sees only their own stories: the one they start is theirs.
        story.authors.add(acting_user)
    # Saved: what the person kept unsaved is in the story now (or was refused with it).
    story_draft_discard(user=acting_user, story=None if created else story)
    saved = StorySaved(story=story)
    # A save that changes nothing is not a new revision.
    if not created and (rewritten or moved):
        # F() so that two editors saving at once both count.
        revision = (
            F("revision") if revision_floor is None else Greatest("revision", Value(revision_floor))
        )
        Story.objects.filter(pk=story.pk).update(revision=revision + 1)
        story.refresh_from_db(fields=["revision"])
    if not created and rewritten:
        was = story.status
        issue_was = story.issue.status if story.issue_id else None
        story_edited(story=story, acting_user=acting_user)
        saved.back_to_review = was == StoryStatus.APPROVED and story.status != was
        if issue_was is not None:
            issue = Issue.objects.get(pk=story.issue_id)
            if issue.status != issue_was:
                saved.issues_reopened.append(issue)
    saved.issues_reopened += issues_edited(issue_ids=issue_ids, acting_user=acting_user)
    if reversion.is_active():
        # The UPDATEs bypassed the signals reversion listens to: record the final state.
        reversion.add_to_revision(story)
    return saved


def stories_deleted(*, issue_ids: set[int], acting_user) -> list[Issue]:
    """Renumber and record as edited the issues that lost stories; returns those that were
    approved and went back to draft."""
    issue_ids = set(issue_ids) - {None}
    for issue_id in sorted(issue_ids):
        issue_gap_close(issue_id)
    return issues_edited(issue_ids=issue_ids, acting_user=acting_user)


def issues_edited(*, issue_ids: set[int], acting_user) -> list[Issue]:
    """``issue_edited`` for each issue, adding each to the open django-reversion revision;
    returns those that were approved and went back to draft."""
    reopened = []
    for issue in Issue.objects.filter(pk__in=issue_ids).order_by("pk"):
        was = issue.status
        issue_edited(issue=issue, acting_user=acting_user)
        if reversion.is_active():
            reversion.add_to_revision(issue)
        if was != issue.status:
            reopened.append(issue)
    return reopened


def issue_gap_close(issue_id: int) -> None:
    """Renumber an issue's stories 1..n after one left it."""
    issue = Issue.objects.filter(pk=issue_id).first()
    if issue is not None:
        positions_save(parent=issue, related_name="stories", instances=[])
