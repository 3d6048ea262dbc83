"""The story form's help under its issue and position says where the story is now (which
issue, and that the editors move it), never "Empty while…" beside an issue that is set."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues.models import Issue
from tests.factories import IssueFactory, StoryFactory
from tests.issues.test_admin import login

pytestmark = pytest.mark.django_db

NOT_PLACED = "Empty while the story is not yet placed in an issue."


def help_texts(response):
    """The help under each field of the story form, editable or read-only, by field name."""
    texts = {}
    for fieldset in response.context["adminform"]:
        for line in fieldset:
            for field in line:
                if field.is_readonly:
                    texts[field.field["name"]] = str(field.field["help_text"])
                else:
                    texts[field.field.name] = str(field.field.help_text)
    return texts


def story_page(client, story):
    return client.get(reverse("admin:issues_story_change", args=[story.pk]))


def test_placed_story_names_its_issue_and_who_moves_it(client, editor):
    story = StoryFactory(issue__title="The Kremlin view", issue__number=112)
    login(client, editor)

    texts = help_texts(story_page(client, story))

    assert texts["issue"] != NOT_PLACED
    assert "#112 The Kremlin view" in texts["issue"] and "Editors move it" in texts["issue"]
    assert "#112 The Kremlin view" in texts["position"]


def test_story_not_placed_keeps_the_empty_issue_help(client, editor):
    story = StoryFactory(issue=None, position=None)
    login(client, editor)

    texts = help_texts(story_page(client, story))

    assert texts["issue"] == NOT_PLACED
    assert "once it is in an issue" in texts["position"]


def test_new_story_has_the_not_placed_help(client, editor):
    login(client, editor)

    texts = help_texts(client.get(reverse("admin:issues_story_add")))

    assert texts["issue"] == NOT_PLACED


def test_journalist_reads_where_the_story_is_and_that_editors_move_it(client, journalist):
    story = StoryFactory(authors=[journalist], issue__title="The Kremlin view", issue__number=7)
    login(client, journalist)

    response = story_page(client, story)
    texts = help_texts(response)

    # Read-only for a journalist: no talk of choosing or emptying the field.
    assert texts["issue"] == (
        "The story is in “#7 The Kremlin view”. Editors move it between issues."
    )
    assert "the editors set the order" in texts["position"]
    assert NOT_PLACED not in response.content.decode()


def test_journalist_with_a_story_not_placed_is_told_editors_place_it(client, journalist):
    story = StoryFactory(authors=[journalist], issue=None, position=None)
    login(client, journalist)

    texts = help_texts(story_page(client, story))

    assert texts["issue"] == NOT_PLACED
    assert texts["position"] == "Set by the editors when they place the story in an issue."


def test_story_in_a_scheduled_issue_reads_as_placed_not_movable_here(client, editor):
    issue = IssueFactory(title="Out on Monday", number=9)
    Issue.objects.filter(pk=issue.pk).update(
        status="scheduled", publish_at=timezone.now() + timedelta(hours=2)
    )
    story = StoryFactory(issue=issue)
    login(client, editor)

    texts = help_texts(story_page(client, story))

    assert texts["issue"] == "The story is in “#9 Out on Monday”. Editors move it between issues."


def test_issue_page_orders_stories_without_talk_of_adding_them(client, editor):
    story = StoryFactory()
    login(client, editor)

    response = client.get(reverse("admin:issues_issue_change", args=[story.issue.pk]))
    (stories,) = [
        formset
        for formset in response.context["inline_admin_formsets"]
        if formset.opts.model.__name__ == "Story"
    ]
    position = stories.formset.forms[0].fields["position"]

    assert "add" not in str(position.help_text)
    assert "drag the row" in str(position.help_text)
