"""Corrections, retractions and takedowns: the record corrected in public, by editors only."""

import datetime as dt

import pytest
from django.utils import timezone
from reversion.models import Version

from issues.models import Correction, Issue, Story, Withdrawal
from issues.services import WorkflowError, story_correct, story_retract, story_takedown
from tests.factories import BlockFactory, IssueFactory, StoryFactory


def published_story(*, issue=None, headline="Kremlin view", **fields):
    issue = issue or IssueFactory(
        status=Issue.Status.SENT, published_at=timezone.now() - dt.timedelta(days=2)
    )
    story = StoryFactory(issue=issue, headline=headline, status=Story.Status.APPROVED, **fields)
    BlockFactory(story=story, position=1, text="The talks were held on Tuesday.")
    BlockFactory(story=story, position=2, text="Both sides agreed to meet again.")
    return story


@pytest.mark.django_db
def test_story_correct_numbers_the_correction_and_marks_the_issue_corrected(editor):
    story = published_story()

    first = story_correct(
        story=story, note="The talks were on Wednesday.", kind="correction", acting_user=editor
    )
    second = story_correct(
        story=story,
        note="“Both sides” means the two delegations.",
        kind="clarification",
        acting_user=editor,
    )

    assert (first.number, second.number) == (1, 2)
    assert (first.approved_by, first.revision, first.fixed_revision) == (editor, 1, None)
    story.issue.refresh_from_db()
    assert story.issue.status == Issue.Status.CORRECTED
    assert list(story.events.values_list("action", "comment")) == [
        ("correct", "“Both sides” means the two delegations."),
        ("correct", "The talks were on Wednesday."),
    ]
    assert list(story.issue.events.values_list("action", "from_status", "to_status")) == [
        ("correct", "sent", "corrected")
    ]


@pytest.mark.django_db
def test_story_correct_fixes_the_text_as_a_new_version_keeping_the_old(editor):
    story = published_story()
    slug = story.slug

    correction = story_correct(
        story=story,
        note="The talks were on Wednesday, not Tuesday.",
        kind="correction",
        acting_user=editor,
        text_changes={
            "headline": "Kremlin view, corrected",
            "blocks": {1: "The talks were held on Wednesday."},
        },
    )

    story.refresh_from_db()
    assert story.headline == "Kremlin view, corrected"
    assert story.slug == slug, "a published story keeps its address"
    assert story.blocks.get(position=1).text == "The talks were held on Wednesday."
    assert (correction.revision, correction.fixed_revision, story.revision) == (1, 2, 2)
    version = Version.objects.get_for_object(story).first()
    assert version.revision.comment == "Correction 1: The talks were on Wednesday, not Tuesday."
    assert version.revision.user == editor


@pytest.mark.django_db
def test_story_correct_refuses_a_bad_text_fix_and_changes_nothing(editor):
    story = published_story()

    with pytest.raises(WorkflowError, match="no block 7"):
        story_correct(
            story=story,
            note="Fix.",
            kind="correction",
            acting_user=editor,
            text_changes={"headline": "New", "blocks": {7: "Nowhere."}},
        )

    story.refresh_from_db()
    assert story.headline == "Kremlin view"
    assert not Correction.objects.exists()


@pytest.mark.django_db
def test_story_correct_is_refused_to_journalists_and_on_unpublished_stories(editor, journalist):
    story = published_story()
    draft = StoryFactory(issue__status=Issue.Status.DRAFT)

    with pytest.raises(WorkflowError, match="Only editors") as refused:
        story_correct(story=story, note="Fix.", kind="correction", acting_user=journalist)
    assert refused.value.code == "forbidden"
    with pytest.raises(WorkflowError, match="has not been published"):
        story_correct(story=draft, note="Fix.", kind="correction", acting_user=editor)
    with pytest.raises(WorkflowError, match="public note"):
        story_correct(story=story, note="  ", kind="correction", acting_user=editor)
    assert not Correction.objects.exists()


@pytest.mark.django_db
def test_story_retract_needs_a_second_editor(editor, second_editor):
    story = published_story()

    request = story_retract(
        story=story, note="The source's account could not be verified.", acting_user=editor
    )
    assert request.approved_at is None
    story.issue.refresh_from_db()
    assert story.issue.status == Issue.Status.SENT, "nothing changes until a second editor"

    with pytest.raises(WorkflowError, match="another editor") as refused:
        story_retract(story=story, note="Again.", acting_user=editor)
    assert refused.value.code == "second_editor"

    done = story_retract(story=story, note="Agreed.", acting_user=second_editor)

    assert done.pk == request.pk
    assert (done.requested_by, done.approved_by) == (editor, second_editor)
    assert done.note == "The source's account could not be verified."
    story.issue.refresh_from_db()
    assert story.issue.status == Issue.Status.RETRACTED, "its only story is retracted"
    assert list(story.events.values_list("action", "actor__username")) == [
        ("retract", "second-editor"),
        ("retract_request", "editor"),
    ]
    with pytest.raises(WorkflowError, match="already been withdrawn"):
        story_retract(story=story, note="Once more.", acting_user=editor)


@pytest.mark.django_db
def test_story_retract_of_one_story_of_two_marks_the_issue_corrected(editor, second_editor):
    story = published_story()
    published_story(issue=story.issue, headline="Other news")

    story_retract(story=story, note="Fabricated.", acting_user=editor)
    story_retract(story=story, note="Agreed.", acting_user=second_editor)

    story.issue.refresh_from_db()
    assert story.issue.status == Issue.Status.CORRECTED
    assert Issue.objects.published().filter(pk=story.issue.pk).exists()


@pytest.mark.django_db
def test_story_retract_is_refused_to_journalists(journalist):
    story = published_story()

    with pytest.raises(WorkflowError, match="Only editors"):
        story_retract(story=story, note="Please.", acting_user=journalist)
    assert not Withdrawal.objects.exists()


@pytest.mark.django_db
def test_story_takedown_needs_two_editors_and_follows_a_retraction(editor, second_editor):
    story = published_story()
    published_story(issue=story.issue, headline="Other news")

    story_retract(story=story, note="Fabricated.", acting_user=editor)
    story_retract(story=story, note="Agreed.", acting_user=second_editor)
    story_takedown(story=story, note="Court order 12/34.", acting_user=second_editor)
    with pytest.raises(WorkflowError, match="another editor"):
        story_takedown(story=story, note="Court order.", acting_user=second_editor)
    takedown = story_takedown(story=story, note="", acting_user=editor)

    assert takedown.approved_by == editor
    assert set(story.withdrawals.carried_out().values_list("kind", flat=True)) == {
        "retraction",
        "takedown",
    }
    with pytest.raises(WorkflowError, match="has been withdrawn: it cannot be corrected"):
        story_correct(story=story, note="Fix.", kind="correction", acting_user=editor)


@pytest.mark.django_db
def test_the_next_issue_carries_the_corrections_made_since_the_last_one_at_its_top(
    editor, second_editor
):
    from issues.rendering import issue_render

    story = published_story(headline="Talks in Alaska")
    newsletter = story.issue.newsletter
    taken = published_story(
        issue=IssueFactory(
            newsletter=newsletter,
            status=Issue.Status.SENT,
            published_at=timezone.now() - dt.timedelta(days=1),
        ),
        headline="A witness speaks",
    )
    story_correct(
        story=story, note="The talks were on Wednesday.", kind="correction", acting_user=editor
    )
    story_takedown(story=taken, note="Court order.", acting_user=editor)
    story_takedown(story=taken, note="Confirmed.", acting_user=second_editor)
    next_issue = StoryFactory(issue__newsletter=newsletter, headline="New week").issue

    text = issue_render(issue=next_issue).text

    corrections = text.index("Corrections")
    assert corrections < text.index("New week"), "at the top of the issue"
    assert "Correction: Talks in Alaska (issue #" in text
    assert "The talks were on Wednesday." in text
    assert "removed for legal or safety reasons" in text
    assert "A witness speaks" not in text and "Court order" not in text
    # The issue after that one carries nothing already told.
    next_issue.status, next_issue.published_at = Issue.Status.SENT, timezone.now()
    next_issue.save()
    later = StoryFactory(issue__newsletter=newsletter, headline="Week after").issue
    assert "Corrections" not in issue_render(issue=later).text
