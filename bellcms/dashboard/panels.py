"""The dashboard's panels: what each shows, in words, for one person.

A panel is None when the person may not see it, so the template has nothing to hide: the
issue and send figures need ``issues.view_issue`` (as the sending page does), the audience
needs ``subscribers.view_subscriber``.
"""

import math
from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from bellcms.dates import datetime_shown
from issues.models import Issue, IssueStatus, StoryStatus
from subscribers.dispatch.pages import progress_data
from subscribers.dispatch.progress import dispatch_progress, duration_words
from subscribers.models import DeliveryStatus

from . import queries
from .chart import bar_chart

ISSUES_PERMISSION = "issues.view_issue"
AUDIENCE_PERMISSION = "subscribers.view_subscriber"


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def issue_when(issue: Issue) -> str:
    """When the issue goes out or went out, in the newsroom's zone."""
    if issue.status == IssueStatus.SCHEDULED and issue.publish_at:
        return _("Scheduled for %(when)s") % {"when": datetime_shown(issue.publish_at)}
    if issue.published_at:
        return _("Published %(when)s") % {"when": datetime_shown(issue.published_at)}
    return _("Not scheduled yet")


def issue_panel(*, user) -> dict:
    issue, upcoming = queries.issue_of_the_week()
    if issue is None:
        return {"issue": None}
    labels = dict(StoryStatus.choices)
    groups = [
        {
            "status": status,
            "label": labels.get(status, status),
            "count": len(stories),
            "stories": [
                {"headline": story.headline, "url": _story_url(story)} for story in stories
            ],
        }
        for status, stories in queries.issue_stories_by_status(issue=issue, user=user)
    ]
    return {
        "issue": issue,
        "upcoming": upcoming,
        "url": reverse("admin:issues_issue_change", args=[issue.pk]),
        "when": issue_when(issue),
        "groups": groups,
        "total": sum(group["count"] for group in groups),
    }


def _story_url(story) -> str:
    return reverse("admin:issues_story_change", args=[story.pk])


def countdown_html(seconds: float) -> SafeString:
    """“in 2 d 3 h 14 min”, each number in a span that static/bellcms/dashboard.js counts
    down. Whole minutes rounded up, so that the last minute reads “in 0 d 0 h 1 min”."""
    minutes = math.ceil(max(0.0, seconds) / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = {
        name: format_html('<span data-part="{}">{}</span>', name, value)
        for name, value in (("days", days), ("hours", hours), ("minutes", minutes))
    }
    text = conditional_escape(_("in %(days)s d %(hours)s h %(minutes)s min"))
    return mark_safe(text % parts)  # noqa: S308 - escaped sentence, format_html parts


def next_send_panel(*, now: datetime) -> dict:
    issue = queries.next_scheduled_issue()
    if issue is None:
        return {"issue": None, "calendar_url": reverse("admin:issues_issue_calendar")}
    seconds_left = (issue.publish_at - now).total_seconds()
    return {
        "issue": issue,
        "url": reverse("admin:issues_issue_change", args=[issue.pk]),
        "when": datetime_shown(issue.publish_at),
        "iso": issue.publish_at.isoformat(),
        "due": seconds_left <= 0,
        "seconds_left": max(0, math.ceil(seconds_left)),
        "countdown": countdown_html(seconds_left),
        "calendar_url": reverse("admin:issues_issue_calendar"),
    }


def _duration(progress, now: datetime) -> str:
    if progress.finished_at and progress.started_at:
        seconds = (progress.finished_at - progress.started_at).total_seconds()
        return duration_words(seconds)
    seconds = (now - progress.started_at).total_seconds()
    return _("%(duration)s so far") % {"duration": duration_words(seconds)}


def last_send_panel(*, user, now: datetime) -> dict:
    dispatch = queries.last_dispatch()
    if dispatch is None:
        return {"issue": None}
    issue = dispatch.issue
    progress = dispatch_progress(issue_id=issue.pk, now=now)
    data = progress_data(issue, progress, user)
    counts = progress.counts
    return {
        "issue": issue,
        "open": bool(progress.open),
        "state_label": progress.state_label,
        "started": datetime_shown(progress.started_at),
        "audience": data["text"]["audience"],
        "sent": _number(counts[DeliveryStatus.SENT] + counts[DeliveryStatus.UNCERTAIN]),
        "failed": _number(counts[DeliveryStatus.FAILED]),
        "rate": data["text"]["rate"],
        "duration": _duration(progress, now),
        "url": reverse("subscribers:issue_sending", args=[issue.pk]),
    }


def audience_panel(*, now: datetime) -> dict:
    size = queries.audience_size()
    weeks = queries.audience_weeks(now=now)
    totals = {name: sum(getattr(week, name) for week in weeks) for name in queries.WEEKLY_FIELDS}
    return {
        "active": _number(size["active"]),
        "pending": _number(size["pending"]),
        "weeks": weeks,
        "first_monday": weeks[0].monday,
        "totals": {name: _number(value) for name, value in totals.items()},
        "chart": bar_chart(weeks),
        "url": reverse("admin:subscribers_subscriber_changelist"),
    }


def dashboard_for(*, user, now: datetime | None = None) -> dict:
    """Every panel this person may see; the others None."""
    now = now or timezone.now()
    may_see_issues = user.has_perm(ISSUES_PERMISSION)
    return {
        "issue": issue_panel(user=user) if may_see_issues else None,
        "next_send": next_send_panel(now=now) if may_see_issues else None,
        "last_send": last_send_panel(user=user, now=now) if may_see_issues else None,
        "audience": audience_panel(now=now) if user.has_perm(AUDIENCE_PERMISSION) else None,
    }
