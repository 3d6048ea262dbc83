"""The content model: what the database itself refuses, and what a version of a story holds."""

import pytest
import reversion
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from reversion.models import Version

from issues.models import Block, BulletPoint, Issue, Story
from tests.factories import BlockFactory, IssueFactory, NewsletterFactory, StoryFactory

pytestmark = pytest.mark.django_db


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_issue_number_is_unique_per_newsletter():
    issue = IssueFactory(number=7)
    refused(lambda: IssueFactory(newsletter=issue.newsletter, number=7))
    other = NewsletterFactory(name="Other", slug="other", kicker="OTHER")
    assert IssueFactory(newsletter=other, number=7).number == 7


def test_issue_number_zero_is_refused():
    refused(lambda: IssueFactory(number=0))


def test_story_position_is_unique_per_issue_and_stories_outside_issues_need_none():
    story = StoryFactory(position=1)
    refused(lambda: StoryFactory(issue=story.issue, position=1))
    refused(lambda: Story.objects.create(issue=story.issue, position=None, headline="No place"))
    drafts = [Story.objects.create(headline=f"Draft {n}") for n in range(2)]
    assert all(d.issue is None and d.position is None for d in drafts)


def test_block_position_is_unique_per_story():
    block = BlockFactory(position=1)
    refused(lambda: BlockFactory(story=block.story, position=1))


def test_block_kind_and_text_are_checked_by_the_database():
    story = StoryFactory()
    refused(lambda: Block.objects.create(story=story, position=1, kind="image", text="x"))
    refused(lambda: Block.objects.create(story=story, position=2, kind="paragraph", text=""))


def test_issue_status_is_checked_by_the_database():
    issue = IssueFactory()
    refused(lambda: Issue.objects.filter(pk=issue.pk).update(status="published"))


def test_bullet_points_are_the_bullet_blocks_of_the_same_ordered_list():
    story = StoryFactory()
    BlockFactory(story=story, position=1, text="Intro paragraph.")
    BulletPoint.objects.create(story=story, position=2, text="First point")
    BlockFactory(story=story, position=3, kind=Block.Kind.BULLET, text="Second point")
    BlockFactory(story=story, position=4, text="Closing paragraph.")
    assert [b.text for b in BulletPoint.objects.filter(story=story)] == [
        "First point",
        "Second point",
    ]
    assert [b.kind for b in story.blocks.all()] == ["paragraph", "bullet", "bullet", "paragraph"]


def test_story_version_carries_its_blocks_and_revert_restores_them():
    story = StoryFactory(headline="Before")
    first = BlockFactory(story=story, position=1, text="Original first paragraph.")
    BlockFactory(story=story, position=2, text="Original second paragraph.")
    with reversion.create_revision():
        reversion.set_comment("First draft")
        story.save()
    versions = Version.objects.get_for_object(story)
    assert versions.count() == 1
    assert {v.object_repr for v in versions[0].revision.version_set.all()} >= {
        "Before",
        "Paragraph 1: Original first paragraph.",
    }

    story.headline = "After"
    story.save()
    first.text = "Rewritten first paragraph."
    first.save()
    BlockFactory(story=story, position=3, text="An added paragraph.")

    versions[0].revision.revert(delete=True)
    story.refresh_from_db()
    assert story.headline == "Before"
    assert [b.text for b in story.blocks.order_by("position")] == [
        "Original first paragraph.",
        "Original second paragraph.",
    ]


def test_newsroom_groups_have_the_permissions_of_their_role():
    def codenames(name):
        # Editorial permissions only: the sources app gives keepers their own in its migrations.
        permissions = Group.objects.get(name=name).permissions.filter(
            content_type__app_label="issues"
        )
        return set(permissions.values_list("codename", flat=True))

    journalists, editors, keepers = (
        codenames("Journalists"),
        codenames("Editors"),
        codenames("Source keepers"),
    )
    assert {"add_story", "change_story", "change_block"} <= journalists
    assert not {"add_issue", "change_issue", "delete_story"} & journalists
    assert {"add_issue", "change_issue", "change_story", "delete_story"} <= editors
    assert all(code.startswith("view_") for code in keepers)
