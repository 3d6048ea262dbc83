"""Who may see and change which story or issue, and why not. Every read and write that depends
on the person goes through here: the admin's querysets, its forms and buttons, and the workflow
services alike."""

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .models import Issue, IssueStatus, Story
from .workflow import (
    ISSUE_LOCKED_STATUSES,
    ISSUE_TRANSITIONS,
    STORY_AUTHOR_EDITABLE_STATUSES,
    STORY_TRANSITIONS,
    Transition,
)


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


def issue_locked_reason(issue: Issue) -> str:
    """Why a scheduled or sent issue, and every story in it, cannot be changed now."""
    name = f"“{issue}”"
    if issue.status == IssueStatus.SCHEDULED:
        return _("The issue %(issue)s is scheduled: unschedule it first.") % {"issue": name}
    if issue.status == IssueStatus.SENDING:
        return _("The issue %(issue)s is being sent: it can no longer change.") % {"issue": name}
    return _(
        "The issue %(issue)s has been sent: what went out is a record, corrected only by a "
        "correction notice."
    ) % {"issue": name}


def story_edit_refusal(*, user, story: Story) -> str | None:
    """Why this person may not change this story now, or None when they may."""
    if not user.has_perm("issues.change_story"):
        return _("You may read stories but not change them.")
    if issue_is_locked(story.issue):
        return issue_locked_reason(story.issue)
    if user_is_editor(user) or story.pk is None:
        return None
    if not story_is_authored_by(story=story, user=user):
        return _("Only its authors and the editors may change this story.")
    if story.status not in STORY_AUTHOR_EDITABLE_STATUSES:
        return _(
            "The story is %(status)s: an editor has it now. You can change it again if it is "
            "returned to you."
        ) % {"status": story.get_status_display().lower()}
    return None


def story_can_edit(*, user, story: Story) -> bool:
    return story_edit_refusal(user=user, story=story) is None


def issue_edit_refusal(*, user, issue: Issue) -> str | None:
    """Why this person may not change this issue (its text or its stories' order) now."""
    if not user.has_perm("issues.change_issue"):
        return _("Only editors assemble issues.")
    if issue_is_locked(issue):
        return issue_locked_reason(issue)
    return None


def issue_can_edit(*, user, issue: Issue) -> bool:
    return issue_edit_refusal(user=user, issue=issue) is None


def story_transitions_for_user(*, user, story: Story) -> list[Transition]:
    """The steps this person may take on this story now: the buttons to show. The services
    check the same rules again when a step is asked for."""
    if issue_is_locked(story.issue):
        return []
    may_act = user_is_editor(user) or story_is_authored_by(story=story, user=user)
    return [
        transition
        for transition in STORY_TRANSITIONS.values()
        if transition.permission is not None
        and story.status in transition.sources
        and user.has_perm(transition.permission)
        and may_act
    ]


def issue_transitions_for_user(*, user, issue: Issue) -> list[Transition]:
    """The steps this person may take on this issue now: the buttons to show."""
    return [
        transition
        for transition in ISSUE_TRANSITIONS.values()
        if transition.permission is not None
        and issue.status in transition.sources
        and user.has_perm(transition.permission)
    ]
