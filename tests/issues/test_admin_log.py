"""Workflow steps in the admin's "Recent actions" (issues/admin_log.py)."""

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.urls import reverse
from django.utils import timezone

from issues.models import Story
from issues.services import issue_approve, issue_schedule, story_return, story_submit
from tests.factories import IssueFactory, NewsletterFactory, StoryFactory, published_issue

pytestmark = pytest.mark.django_db


def test_a_submitted_story_shows_in_the_authors_recent_actions(client, journalist):
    story = StoryFactory(authors=[journalist], issue=None, position=None, headline="Kremlin view")

    story_submit(story=story, acting_user=journalist)

    entry = LogEntry.objects.get()
    assert (entry.user, entry.get_edited_object(), entry.action_flag) == (journalist, story, CHANGE)
    assert entry.object_repr == "Submitted for review: Kremlin view"
    assert entry.get_change_message() == "Submitted for review"
    client.force_login(journalist)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Submitted for review: Kremlin view" in page
    assert reverse("admin:issues_story_change", args=[story.pk]) in page


def test_a_return_is_logged_with_the_editors_comment(editor, journalist):
    story = StoryFactory(authors=[journalist], issue=None, position=None, headline="Kremlin view")
    story_submit(story=story, acting_user=journalist)

    story_return(story=story, acting_user=editor, comment="Name a second source.")

    entry = LogEntry.objects.filter(user=editor).get()
    assert entry.object_repr == "Returned to the author: Kremlin view"
    assert entry.get_change_message() == "Returned to the author: Name a second source."


def test_issue_steps_are_logged_with_the_time_of_a_schedule(editor, journalist):
    issue = IssueFactory(title="The Kremlin view")
    story = StoryFactory(issue=issue, authors=[journalist])
    Story.objects.filter(pk=story.pk).update(status="approved")
    when = timezone.now() + timedelta(hours=1)

    issue_approve(issue=issue, acting_user=editor)
    issue_schedule(issue=issue, publish_at=when, acting_user=editor)

    approved, scheduled = LogEntry.objects.filter(user=editor).order_by("pk")
    assert approved.object_repr == f"Approved: {issue}"
    assert scheduled.object_repr == f"Scheduled: {issue}"
    assert scheduled.get_change_message().startswith("Scheduled (")
    assert str(timezone.localtime(when).year) in scheduled.get_change_message()


def test_steps_nobody_took_are_not_logged():
    published_issue(NewsletterFactory(), readers=1)  # published by the scheduler
    assert not LogEntry.objects.exists()
