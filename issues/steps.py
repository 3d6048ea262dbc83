"""What every service that takes a step shares: the refusal it raises, the row locks and the
event rows."""

from .admin_log import admin_log
from .models import Issue, IssueEvent, Story, StoryEvent
from .workflow import Transition


class WorkflowError(Exception):
    """A step refused. The message is written for the person who asked for it."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def story_locked(story: Story) -> Story:
    """The story's row, locked for the rest of the transaction."""
    # of=("self",): the default ordering joins issue and newsletter, which must not be locked.
    return (
        Story.objects.select_for_update(of=("self",))
        .select_related("issue")
        .order_by()
        .get(pk=story.pk)
    )


def issue_locked(issue: Issue) -> Issue:
    """The issue's row, locked for the rest of the transaction."""
    return (
        Issue.objects.select_for_update(of=("self",))
        .select_related("newsletter")
        .order_by()
        .get(pk=issue.pk)
    )


def issue_event(issue: Issue, acting_user, transition: Transition, **fields) -> IssueEvent:
    """Record the step ``transition`` on ``issue`` (still in its old status): its event row,
    and an admin log entry when a person took it."""
    admin_log(
        obj=issue,
        acting_user=acting_user,
        transition=transition,
        comment=fields.get("comment", ""),
        publish_at=fields.get("publish_at") if transition.name == "schedule" else None,
    )
    return IssueEvent.objects.create(
        issue=issue,
        actor=acting_user,
        action=transition.name,
        from_status=issue.status,
        to_status=transition.target,
        **fields,
    )


def story_event(story: Story, acting_user, action: str, comment: str) -> StoryEvent:
    """Record a step on ``story``'s log that leaves its status as it is (a correction, a flag
    on a cited source, a verdict): who, what, why, at its current revision."""
    return StoryEvent.objects.create(
        story=story,
        actor=acting_user,
        action=action,
        from_status=story.status,
        to_status=story.status,
        comment=comment,
        revision=story.revision,
    )


def quoted(text: str) -> str:
    return f"“{text}”"


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]
