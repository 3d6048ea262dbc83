"""A source put in doubt flags every story citing it: a banner, a badge and a filter, approval
refused until an editor clears the flag with a note; each step on the story's log."""

import pytest
from django.urls import reverse

from issues.models import Block, Story, StoryEvent
from issues.services import WorkflowError, story_approve, story_submit
from sources.citing import citation_add
from sources.consequences import source_status_set, story_doubt_clear
from sources.models import StoryFlag
from sources.services import SourceRefused
from tests.factories import BlockFactory, StoryFactory

pytestmark = pytest.mark.django_db


def cited_story(source, journalist, headline):
    story = StoryFactory(authors=[journalist], headline=headline)
    BlockFactory(story=story, position=1, text="A source close to the Kremlin told The Bell.")
    citation_add(
        block=story.blocks.get(),
        sources=[source],
        descriptor="a Kremlin insider",
        acting_user=journalist,
    )
    story_submit(story=story, acting_user=journalist)
    story.refresh_from_db()
    return story


def test_burning_a_source_flags_its_stories_until_an_editor_clears_them(
    client, source, journalist, editor, keeper
):
    first = cited_story(source, journalist, "Kremlin view")
    second = cited_story(source, journalist, "Talks in Riyadh")
    untouched = StoryFactory(authors=[journalist], headline="Budget")

    with pytest.raises(SourceRefused):
        source_status_set(source=source, status="burned", note="x", acting_user=journalist)
    with pytest.raises(SourceRefused, match="Say why"):
        source_status_set(source=source, status="burned", note=" ", acting_user=keeper)
    flags = source_status_set(
        source=source, status="burned", note="Fed us a forged letter.", acting_user=keeper
    )
    assert {flag.story for flag in flags} == {first, second}

    # The story list: a badge, and a filter.
    client.force_login(editor)
    listing = reverse("admin:issues_story_changelist")
    page = client.get(listing).content.decode()
    assert page.count("data-bell-badge>source in doubt<") == 2
    filtered = client.get(listing + "?source_in_doubt=yes").content.decode()
    assert "Kremlin view" in filtered and "Talks in Riyadh" in filtered
    assert "Budget" not in filtered
    # The story: a banner.
    story_page = client.get(reverse("admin:issues_story_change", args=[first.pk])).content
    assert "KESTREL, which this story cites, is burned" in story_page.decode()

    with pytest.raises(WorkflowError, match="KESTREL, which it cites, is burned"):
        story_approve(story=first, acting_user=editor)
    with pytest.raises(SourceRefused):
        story_doubt_clear(story=first, source=source, acting_user=journalist, note="Fine.")

    response = client.post(
        reverse("admin:sources_story_doubt_clear", args=[first.pk, source.pk]),
        {"note": "Confirmed by the ministry's own statement."},
        follow=True,
    )
    assert "The flag on KESTREL is cleared." in response.content.decode()
    story_approve(story=first, acting_user=editor)
    first.refresh_from_db()
    assert first.status == Story.Status.APPROVED
    with pytest.raises(WorkflowError, match="burned"):
        story_approve(story=second, acting_user=editor)

    steps = list(
        StoryEvent.objects.filter(story=first).order_by("pk").values_list("action", "comment")
    )
    assert ("source_flagged", "KESTREL is now burned: Fed us a forged letter.") in steps
    assert ("source_flag_cleared", "KESTREL: Confirmed by the ministry's own statement.") in steps
    log = client.get(reverse("admin:issues_story_change", args=[first.pk])).content.decode()
    assert "A cited source was put in doubt" in log and "Flag on a source cleared" in log
    assert untouched.source_flags.count() == 0


def test_a_status_change_in_the_admin_and_no_new_citation_of_a_burned_source(
    client, source, journalist, editor
):
    story = cited_story(source, journalist, "Kremlin view")
    client.force_login(editor)
    response = client.post(
        reverse("admin:sources_source_status", args=[source.pk]),
        {"status": "under_review", "note": "A colleague doubts the dates."},
        follow=True,
    )
    assert "KESTREL is now under review; 1 story citing it is flagged." in response.content.decode()
    assert StoryFlag.objects.get().story == story
    # Back to active: the flag stays until an editor clears it.
    source_status_set(source=source, status="active", note="Dates checked.", acting_user=editor)
    assert StoryFlag.objects.filter(cleared_at__isnull=True).count() == 1

    source_status_set(source=source, status="burned", note="Forged letter.", acting_user=editor)
    other = StoryFactory(authors=[journalist])
    BlockFactory(story=other, position=1, kind=Block.Kind.BULLET, text="Sources say: no.")
    with pytest.raises(SourceRefused, match="KESTREL is burned"):
        citation_add(
            block=other.blocks.get(),
            sources=[source],
            descriptor="a Kremlin insider",
            acting_user=journalist,
        )


def test_a_source_burned_after_approval_takes_the_story_out_of_a_scheduled_issue(
    source, journalist, editor, keeper, newsletter
):
    import datetime as dt

    from django.utils import timezone

    from issues.models import Issue, IssueEvent
    from issues.services import issue_approve, issue_schedule
    from tests.factories import IssueFactory

    issue = IssueFactory(newsletter=newsletter)
    story = StoryFactory(issue=issue, position=1, authors=[journalist], headline="Kremlin view")
    BlockFactory(story=story, position=1, text="A source close to the Kremlin told The Bell.")
    citation_add(
        block=story.blocks.get(),
        sources=[source],
        descriptor="a Kremlin insider",
        acting_user=journalist,
    )
    story_submit(story=story, acting_user=journalist)
    story_approve(story=story, acting_user=editor)
    issue_approve(issue=issue, acting_user=editor)
    issue_schedule(
        issue=issue, publish_at=timezone.now() + dt.timedelta(hours=2), acting_user=editor
    )

    source_status_set(source=source, status="burned", note="Forged letter.", acting_user=keeper)

    issue.refresh_from_db()
    story.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT and issue.publish_at is None
    assert story.status == Story.Status.SUBMITTED
    held = IssueEvent.objects.filter(issue=issue, action="unschedule").get()
    assert held.actor is None and "KESTREL, cited in “Kremlin view”, is burned" in held.comment
    # Approval, and so scheduling, waits for an editor.
    with pytest.raises(WorkflowError, match="KESTREL, which it cites, is burned"):
        story_approve(story=story, acting_user=editor)


def test_an_issue_due_with_a_story_in_doubt_is_held_not_published(
    source, journalist, editor, newsletter
):
    import datetime as dt

    from django.utils import timezone

    from issues.models import Issue, IssueEvent
    from issues.scheduling import publish_due_issues
    from issues.services import issue_approve, issue_schedule
    from sources.models import Source
    from tests.factories import IssueFactory

    issue = IssueFactory(newsletter=newsletter)
    story = StoryFactory(issue=issue, position=1, authors=[journalist], headline="Kremlin view")
    BlockFactory(story=story, position=1, text="A source close to the Kremlin told The Bell.")
    citation_add(
        block=story.blocks.get(),
        sources=[source],
        descriptor="a Kremlin insider",
        acting_user=journalist,
    )
    story_submit(story=story, acting_user=journalist)
    story_approve(story=story, acting_user=editor)
    issue_approve(issue=issue, acting_user=editor)
    issue_schedule(
        issue=issue, publish_at=timezone.now() + dt.timedelta(minutes=1), acting_user=editor
    )
    # Burned behind the services' back (a restore, a hand edit): no flag was raised.
    Source.objects.filter(pk=source.pk).update(status="burned")
    Issue.objects.filter(pk=issue.pk).update(publish_at=timezone.now() - dt.timedelta(seconds=1))

    assert publish_due_issues() == []

    issue.refresh_from_db()
    assert issue.status == Issue.Status.APPROVED and issue.published_at is None
    event = IssueEvent.objects.filter(issue=issue).order_by("pk").last()
    assert event.comment.startswith("Held back:") and "KESTREL" in event.comment


def test_citing_a_source_under_review_flags_the_story_and_each_new_doubt_needs_clearing(
    source, journalist, editor, keeper
):
    source_status_set(
        source=source, status="under_review", note="Dates doubted.", acting_user=keeper
    )
    story = cited_story(source, journalist, "Kremlin view")  # cites it while under review
    assert StoryFlag.objects.get(story=story).source_status == "under_review"
    with pytest.raises(WorkflowError, match="is under review"):
        story_approve(story=story, acting_user=editor)
    story_doubt_clear(story=story, source=source, acting_user=editor, note="Dates checked.")

    # Then burned: a new doubt, and a new flag to clear.
    source_status_set(source=source, status="burned", note="Forged letter.", acting_user=keeper)
    with pytest.raises(WorkflowError, match="is burned"):
        story_approve(story=story, acting_user=editor)
    story_doubt_clear(story=story, source=source, acting_user=editor, note="Second source.")
    story_approve(story=story, acting_user=editor)
    story.refresh_from_db()
    assert story.status == Story.Status.APPROVED
