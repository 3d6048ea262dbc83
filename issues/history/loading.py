"""Reading stored versions into snapshots, in a fixed number of queries however long the story.

A story's version does not hold its blocks: they are versions of their own in the same
django-reversion revision (the story follows its blocks). An issue's version holds neither its
stories nor their order, so the list is rebuilt from the stories' own versions.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast
from reversion.models import Revision, Version

from issues.models import Block, Issue, Story
from issues.people import person_name

from .comparing import IssueSnapshot, StorySnapshot, issue_snapshot, story_snapshot

# Words other apps add to a block in a story's comparison (the sources app: the sources a block
# cites). Each has ``versions(revision_ids) -> {(revision_id, block_id): words}``, read from the
# stored versions, and ``now(block_ids) -> {block_id: words}``, read from the rows as they are.
BLOCK_NOTES: list = []


def block_notes_versions(revision_ids: set[int]) -> dict[tuple[int, int], str]:
    notes: dict[tuple[int, int], list[str]] = defaultdict(list)
    for source in BLOCK_NOTES:
        for key, words in source.versions(revision_ids).items():
            notes[key].append(words)
    return {key: "; ".join(words) for key, words in notes.items()}


def block_notes_now(block_ids: set[int]) -> dict[int, str]:
    notes: dict[int, list[str]] = defaultdict(list)
    for source in BLOCK_NOTES:
        for key, words in source.now(block_ids).items():
            notes[key].append(words)
    return {key: "; ".join(words) for key, words in notes.items()}


def story_snapshots_load(versions: Sequence[Version]) -> list[StorySnapshot]:
    """Snapshots of versions of one story, with their blocks: two queries in all (and those
    of ``BLOCK_NOTES``)."""
    revision_ids = {version.revision_id for version in versions}
    notes = block_notes_versions(revision_ids) if BLOCK_NOTES else {}
    block_versions = Version.objects.get_for_model(Block).filter(revision_id__in=revision_ids)
    blocks_by_revision = defaultdict(list)
    for block_version in block_versions:
        # A revision can hold several stories' blocks (an issue reordered in one save).
        blocks_by_revision[block_version.revision_id].append(block_version.field_dict)
    author_ids = {
        user_id for version in versions for user_id in version.field_dict.get("authors", ())
    }
    names = user_names(author_ids)
    snapshots = []
    for version in versions:
        story_id = int(version.object_id)
        blocks = [
            {**block, "note": notes.get((version.revision_id, block["id"]), "")}
            for block in blocks_by_revision[version.revision_id]
            if block["story_id"] == story_id
        ]
        snapshots.append(
            story_snapshot(story=version.field_dict, blocks=blocks, author_names=names)
        )
    return snapshots


def user_names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    users = get_user_model()._default_manager.filter(pk__in=user_ids)
    return {user.pk: person_name(user) for user in users}


def issue_snapshots_load(versions: Sequence[Version]) -> list[IssueSnapshot]:
    """Snapshots of versions of one issue, each with the stories it held at that moment."""
    issue_id = int(versions[0].object_id)
    story_versions = Version.objects.get_for_model(Story)
    # Every story that was ever saved in this issue: a filter on the stored JSON, so a story
    # that has since moved elsewhere or been deleted still shows in the old lists.
    ever_here = (
        story_versions.annotate(data=Cast("serialized_data", models.JSONField()))
        .filter(data__0__fields__issue=issue_id)
        .values("object_id")
    )
    history = list(
        story_versions.filter(object_id__in=ever_here)
        .select_related("revision")
        .order_by("revision_id")
    )
    versioned = {int(version.object_id) for version in history}
    current = list(
        Story.objects.filter(Q(issue_id=issue_id) | Q(pk__in=versioned))
        .order_by()
        .values("id", "issue_id", "position", "headline", "created_at")
    )
    created_at = {str(story["id"]): story["created_at"] for story in current}
    # Stories saved outside reversion (the shell, fixtures) show as they are now.
    unversioned = [
        story for story in current if story["issue_id"] == issue_id and story["id"] not in versioned
    ]
    deleted_at = _deletion_times(versioned - {story["id"] for story in current})
    snapshots = []
    for version in versions:
        moment = version.revision.date_created
        stories = _stories_at(
            issue_id=issue_id,
            revision=version.revision,
            history=history,
            created_at=created_at,
            deleted_at=deleted_at,
        )
        stories += [story for story in unversioned if story["created_at"] <= moment]
        snapshots.append(issue_snapshot(issue=version.field_dict, stories=stories))
    return snapshots


def _deletion_times(story_ids: set[int]) -> dict[str, list[datetime]]:
    """When the admin deleted these stories: from then on they are in no issue."""
    if not story_ids:
        return {}
    deletions = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Story),
        object_id__in=[str(story_id) for story_id in story_ids],
        action_flag=DELETION,
    ).values_list("object_id", "action_time")
    times = defaultdict(list)
    for object_id, action_time in deletions:
        times[object_id].append(action_time)
    return times


def _stories_at(
    *,
    issue_id: int,
    revision: Revision,
    history: list[Version],
    created_at: dict[str, datetime],
    deleted_at: dict[str, list[datetime]],
) -> list[dict]:
    """The stories in the issue as of one revision, each as its latest version then said.

    A story that existed then but was first saved later reads as its first version: the
    nearest state there is.
    """
    by_story: dict[str, list[Version]] = defaultdict(list)
    for story_version in history:
        by_story[story_version.object_id].append(story_version)
    stories = []
    for object_id, story_versions in by_story.items():
        earlier = [v for v in story_versions if v.revision_id <= revision.pk]
        if earlier:
            state = earlier[-1]
        elif object_id in created_at and created_at[object_id] <= revision.date_created:
            state = story_versions[0]
        else:
            continue
        saved = state.revision.date_created
        if any(saved <= when <= revision.date_created for when in deleted_at.get(object_id, ())):
            continue
        fields = state.field_dict
        if fields["issue_id"] == issue_id:
            stories.append(fields)
    return stories


LOADERS = {Story: story_snapshots_load, Issue: issue_snapshots_load}
