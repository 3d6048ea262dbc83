"""Template tags for the newsroom's admin pages."""

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from bellcms.health import worker_status_get
from issues.access import stories_for_user, user_is_editor, user_writes_own_stories_only
from issues.models import StoryStatus
from issues.people import person_label, person_name

register = template.Library()


@register.filter
def person(user) -> str:
    """``{{ grant.user|person }}``: the person's name, the username only when none is set."""
    return person_name(user)


@register.filter(name="person_label")
def person_label_filter(user) -> str:
    """``{{ version.revision.user|person_label }}``: “Elena Editor (elena)”, for a record where
    two people with one name must be told apart (History)."""
    return person_label(user) if user is not None else ""


@register.simple_tag
def worker_status():
    """The background worker's heartbeat, with its age in whole seconds for the sentence."""
    status = worker_status_get()
    age = None if status.last_seen is None else timezone.now() - status.last_seen
    return {
        "alive": status.alive,
        "last_seen": status.last_seen,
        "seconds_ago": None if age is None else max(0, int(age.total_seconds())),
    }


@register.simple_tag
def workflow_summary(user):
    """What waits for this person: stories to review for an editor, stories returned to a
    journalist. Each with the story list filtered to them."""
    stories_url = reverse("admin:issues_story_changelist")

    def waiting(status):
        count = stories_for_user(user=user).filter(status=status).count()
        return {"count": count, "url": f"{stories_url}?{urlencode({'status__exact': status})}"}

    summary = {"calendar_url": None, "review": None, "returned": None}
    if user.has_perm("issues.view_issue"):
        summary["calendar_url"] = reverse("admin:issues_issue_calendar")
    if user_is_editor(user):
        summary["review"] = waiting(StoryStatus.SUBMITTED)
    elif user_writes_own_stories_only(user):
        summary["returned"] = waiting(StoryStatus.RETURNED)
    return summary
