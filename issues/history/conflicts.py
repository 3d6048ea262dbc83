"""What others changed since the revision someone started from.

When a save or a workflow step based on an older revision is refused, the admin shows who saved
since and a side-by-side diff between the version that person read and what is stored now, so
that they can redo their change on top of the other one instead of losing either.
"""

from dataclasses import dataclass

from django.db import models
from django.db.models.functions import Cast
from reversion.models import Version

from issues.models import Issue, Story
from issues.people import person_name

from .comparing import VersionDiff, issue_snapshot, snapshots_compare, story_snapshot
from .loading import BLOCK_NOTES, LOADERS, block_notes_now, user_names


@dataclass(frozen=True)
class ChangesSince:
    seen: int
    current: int
    # The versions saved after the one that was read, newest first: who, when, with which comment.
    saves: tuple[Version, ...]
    # The version that was read; None when it is not on record (saved outside the admin).
    seen_version: Version | None
    diff: VersionDiff | None

    @property
    def people(self) -> list[str]:
        names = []
        for version in self.saves:
            user = version.revision.user
            name = person_name(user)
            if name and name not in names:
                names.append(name)
        return names


def _versions(obj) -> models.QuerySet[Version]:
    return (
        Version.objects.get_for_object(obj)
        .annotate(data=Cast("serialized_data", models.JSONField()))
        .select_related("revision__user")
    )


def story_snapshot_now(story: Story):
    """The story as it is stored now, blocks and authors included."""
    authors = list(story.authors.values_list("pk", flat=True))
    fields = {
        "headline": story.headline,
        "takeaway": story.takeaway,
        "authors": authors,
        "revision": story.revision,
    }
    blocks = list(story.blocks.order_by("position").values("id", "position", "kind", "text"))
    notes = block_notes_now({block["id"] for block in blocks}) if BLOCK_NOTES else {}
    blocks = [{**block, "note": notes.get(block["id"], "")} for block in blocks]
    return story_snapshot(story=fields, blocks=blocks, author_names=user_names(set(authors)))


def issue_snapshot_now(issue: Issue):
    """The issue as it is stored now, with its stories in order."""
    fields = {"number": issue.number, "title": issue.title, "intro": issue.intro}
    stories = issue.stories.order_by("position").values("id", "position", "headline")
    return issue_snapshot(issue=fields, stories=stories)


_NOW = {Story: story_snapshot_now, Issue: issue_snapshot_now}


def changes_since(obj: Story | Issue, *, seen: int) -> ChangesSince | None:
    """What changed in ``obj`` after revision ``seen``; None when nothing did."""
    # Read afresh: the caller's instance may hold a refused form's values.
    obj = type(obj)._default_manager.filter(pk=obj.pk).first()
    if obj is None or seen >= obj.revision:
        return None
    versions = _versions(obj)
    # The last version saved at or before the revision read: the text that person had open.
    seen_version = (
        versions.filter(data__0__fields__revision__lte=seen).order_by("-pk").first()
        if seen > 0
        else None
    )
    saves = versions.filter(data__0__fields__revision__gt=seen).order_by("-pk")
    diff = None
    if seen_version is not None:
        (before,) = LOADERS[type(obj)]([seen_version])
        diff = snapshots_compare(before, _NOW[type(obj)](obj))
    return ChangesSince(
        seen=seen,
        current=obj.revision,
        saves=tuple(saves),
        seen_version=seen_version,
        diff=diff,
    )
