"""Saving a story from a form, without the admin (issues.story_saving)."""

import pytest

from issues.models import Issue, Story
from issues.story_saving import stories_deleted, story_save, story_save_complete
from tests.factories import IssueFactory, StoryFactory

pytestmark = pytest.mark.django_db


def order(issue):
    return list(issue.stories.order_by("position").values_list("headline", "position"))


def test_moving_a_story_renumbers_both_issues_and_reopens_the_approved_one(editor):
    first, second = IssueFactory(), IssueFactory()
    _, b, _ = (StoryFactory(issue=first, headline=h) for h in "abc")
    StoryFactory(issue=second, headline="d")
    Issue.objects.filter(pk=second.pk).update(status="approved")
    revision = b.revision

    b.issue, b.position = second, 1
    touched = story_save(story=b, created=False, moves=True)
    saved = story_save_complete(
        story=b, acting_user=editor, created=False, rewritten=False, moved=True, issue_ids=touched
    )

    assert touched == {first.pk, second.pk}
    assert order(first) == [("a", 1), ("c", 2)]
    assert order(second) == [("b", 1), ("d", 2)]
    assert [issue.pk for issue in saved.issues_reopened] == [second.pk]
    b.refresh_from_db()
    assert b.revision == revision + 1


def test_a_save_that_does_not_move_keeps_the_place_stored_now(editor):
    issue = IssueFactory()
    story = StoryFactory(issue=issue, headline="mine")
    StoryFactory(issue=issue, headline="other")
    # Another editor put it second after this form was opened.
    Story.objects.filter(headline="mine").update(position=3)
    Story.objects.filter(headline="other").update(position=1)
    Story.objects.filter(headline="mine").update(position=2)

    story.headline, story.position = "mine, edited", 1
    touched = story_save(story=story, created=False, moves=False)

    assert touched == set()
    assert order(issue) == [("other", 1), ("mine, edited", 2)]
    assert story.position == 2


def test_an_edit_sends_an_approved_story_back_to_review_and_a_revert_goes_past_the_floor(editor):
    issue = IssueFactory()
    story = StoryFactory(issue=issue)
    Story.objects.filter(pk=story.pk).update(status="approved", revision=3)
    Issue.objects.filter(pk=issue.pk).update(status="approved")
    story.refresh_from_db()

    saved = story_save_complete(
        story=story,
        acting_user=editor,
        created=False,
        rewritten=True,
        moved=False,
        issue_ids=set(),
        revision_floor=9,
    )

    story.refresh_from_db()
    assert (story.status, story.revision) == ("submitted", 10)
    assert saved.back_to_review
    assert [i.pk for i in saved.issues_reopened] == [issue.pk]


def test_a_save_that_changes_nothing_is_not_a_new_revision(editor):
    story = StoryFactory(issue=IssueFactory())
    revision = story.revision

    saved = story_save_complete(
        story=story,
        acting_user=editor,
        created=False,
        rewritten=False,
        moved=False,
        issue_ids=set(),
    )

    story.refresh_from_db()
    assert story.revision == revision
    assert not saved.back_to_review and not saved.issues_reopened


def test_a_journalist_who_starts_a_story_is_its_author(journalist):
    story = Story(headline="New")
    story_save(story=story, created=True, moves=False)
    story_save_complete(
        story=story,
        acting_user=journalist,
        created=True,
        rewritten=True,
        moved=False,
        issue_ids=set(),
    )
    assert list(story.authors.all()) == [journalist]


def test_deleting_stories_closes_the_gap_and_reopens_the_issue(editor):
    issue = IssueFactory()
    StoryFactory(issue=issue, headline="a")
    gone = StoryFactory(issue=issue, headline="b")
    StoryFactory(issue=issue, headline="c")
    Issue.objects.filter(pk=issue.pk).update(status="approved")

    gone.delete()
    reopened = stories_deleted(issue_ids={issue.pk, None}, acting_user=editor)

    assert order(issue) == [("a", 1), ("c", 2)]
    assert [i.pk for i in reopened] == [issue.pk]
