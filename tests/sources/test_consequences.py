"""A source put in doubt flags every story citing it: a banner, a badge and a filter, approval
refused until an editor clears the flag with a note; each step on the story's log."""

import pytest
from django.urls import reverse

from issues.models import Block, Story, StoryEvent
from issues.services import WorkflowError, story_approve, story_submit
from sources.citing import citation_add
from sources.consequences import source_status_set, story_flag_clear
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
        story_flag_clear(flag=flags[0], acting_user=journalist, note="Fine.")

    flag = StoryFlag.objects.get(story=first)
    response = client.post(
        reverse("admin:sources_storyflag_clear", args=[flag.pk]),
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
