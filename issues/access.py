"""Who may see and change which story or issue. Every read and write that depends on the
person goes through here: the admin's querysets, its forms and the workflow services alike."""

from django.db.models import QuerySet

from .models import Issue, Story
from .workflow import ISSUE_LOCKED_STATUSES, STORY_AUTHOR_EDITABLE_STATUSES


def user_is_editor(user) -> bool:
    """Editors review, approve and assemble: they see and change every story."""
    return user.is_active and user.has_perm("issues.approve_story")


def user_writes_own_stories_only(user) -> bool:
    """Journalists change stories, but only the ones they (co-)author."""
    return user.has_perm("issues.change_story") and not user_is_editor(user)


def stories_for_user(*, user) -> QuerySet[Story]:
    stories = Story.objects.all()
    if user_writes_own_stories_only(user):
        return stories.filter(authors=user)
    if user.has_perm("issues.view_story") or user_is_editor(user):
        return stories
    return stories.none()


def story_get_for_user(*, user, story_id) -> Story:
    """The story, if this person may see it; ``Story.DoesNotExist`` otherwise (no hint that it
    exists)."""
    return stories_for_user(user=user).get(pk=story_id)


def story_is_authored_by(*, story: Story, user) -> bool:
    return story.authors.filter(pk=user.pk).exists()


def issue_is_locked(issue: Issue | None) -> bool:
    """Scheduled or sent: its text is a record until it is unscheduled."""
    return issue is not None and issue.status in ISSUE_LOCKED_STATUSES


def story_can_edit(*, user, story: Story) -> bool:
    if not user.has_perm("issues.change_story") or issue_is_locked(story.issue):
        return False
    if user_is_editor(user) or story.pk is None:
        return True
    return story.status in STORY_AUTHOR_EDITABLE_STATUSES and story_is_authored_by(
        story=story, user=user
    )


def issue_can_edit(*, user, issue: Issue) -> bool:
    return user.has_perm("issues.change_issue") and not issue_is_locked(issue)
