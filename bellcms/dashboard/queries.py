"""The dashboard's reads. Each takes a fixed number of queries whatever the number of issues and
subscribers: "the" issue is one row (ORDER BY … LIMIT 1) and the audience is counted in SQL
(COUNT, grouped by week), never by loading subscribers.

Permission is not checked here: ``bellcms.dashboard.panels`` decides who sees which panel.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q
from django.db.models.functions import TruncWeek
from django.utils import timezone

from issues.access import stories_for_user
from issues.models import Issue, IssueStatus, Story, StoryStatus
from subscribers.models import Dispatch, Subscriber, SubscriberStatus, Subscription

# Not yet sent: still being written, waiting for its date, or going out now.
UNSENT_STATUSES = (
    IssueStatus.DRAFT,
    IssueStatus.APPROVED,
    IssueStatus.SCHEDULED,
    IssueStatus.SENDING,
)
# Stories in the order they move through the workflow: the dashboard groups them so.
STORY_STATUS_ORDER = (
    StoryStatus.DRAFT,
    StoryStatus.RETURNED,
    StoryStatus.SUBMITTED,
    StoryStatus.APPROVED,
)
# Twelve weeks: a quarter, long enough to see a trend, short enough to read week by week.
WEEKS_SHOWN = 12


def issue_of_the_week() -> tuple[Issue | None, bool]:
    """The issue the desk works on, and whether it is still to be sent.

    Among unsent issues, the one going out soonest (sending now, then by scheduled time), else
    the newest one being put together; when every issue has gone out, the latest sent.
    """
    issues = Issue.objects.select_related("newsletter")
    upcoming = (
        issues.filter(status__in=UNSENT_STATUSES)
        .order_by(F("publish_at").asc(nulls_last=True), "-number", "-pk")
        .first()
    )
    if upcoming is not None:
        return upcoming, True
    latest = issues.order_by(F("published_at").desc(nulls_last=True), "-pk").first()
    return latest, False


def issue_stories_by_status(*, issue: Issue, user) -> list[tuple[str, list[Story]]]:
    """The issue's stories this person may see, grouped by status in workflow order; every
    status is present, empty when no story is in it."""
    groups: dict[str, list[Story]] = {status: [] for status in STORY_STATUS_ORDER}
    stories = stories_for_user(user=user).filter(issue=issue).order_by("position", "pk")
    for story in stories:
        groups.setdefault(story.status, []).append(story)
    return list(groups.items())


def next_scheduled_issue() -> Issue | None:
    return (
        Issue.objects.select_related("newsletter")
        .filter(status=IssueStatus.SCHEDULED)
        .order_by("publish_at", "pk")
        .first()
    )


def last_dispatch() -> Dispatch | None:
    """The latest sending of an issue, finished or not (its figures come from
    ``dispatch_progress``); correction notices are not counted."""
    return (
        Dispatch.objects.filter(issue__isnull=False)
        .select_related("issue__newsletter")
        .order_by("-started_at", "-pk")
        .first()
    )


def audience_size() -> dict[str, int]:
    """Subscribers who receive issues (the ones ``Subscriber.objects.mailable()`` selects)
    and those who have not yet confirmed, in one query."""
    return Subscriber.objects.aggregate(
        active=Count("pk", filter=Q(status=SubscriberStatus.ACTIVE)),
        pending=Count("pk", filter=Q(status=SubscriberStatus.PENDING)),
    )


@dataclass(frozen=True)
class AudienceWeek:
    """One week of subscriptions: started, confirmed and ended in it."""

    monday: date
    joined: int
    confirmed: int
    unsubscribed: int


# Each figure is when a subscription row reached that step; a reader of two newsletters
# counts once for each, as each is a separate consent.
WEEKLY_FIELDS = {
    "joined": "created_at",
    "confirmed": "confirmed_at",
    "unsubscribed": "unsubscribed_at",
}


def week_monday(moment: datetime) -> date:
    """The Monday of the moment's week, in the newsroom's zone."""
    day = timezone.localtime(moment).date()
    return day - timedelta(days=day.weekday())


def _midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _weekly_counts(field: str, start: datetime, end: datetime) -> dict[date, int]:
    # TruncWeek truncates in the current (newsroom) zone, so a week is Monday 00:00 there.
    rows = (
        Subscription.objects.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(week=TruncWeek(field))
        .order_by()
        .values("week")
        .annotate(n=Count("pk"))
        .values_list("week", "n")
    )
    return {timezone.localtime(week).date(): n for week, n in rows}


def audience_weeks(*, now: datetime, weeks: int = WEEKS_SHOWN) -> list[AudienceWeek]:
    """The last ``weeks`` weeks, this one last, each with its counts (0 for a quiet week):
    one grouped query per figure."""
    this_monday = week_monday(now)
    mondays = [this_monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    start, end = _midnight(mondays[0]), _midnight(this_monday + timedelta(weeks=1))
    counts = {name: _weekly_counts(field, start, end) for name, field in WEEKLY_FIELDS.items()}
    return [
        AudienceWeek(
            monday=monday,
            joined=counts["joined"].get(monday, 0),
            confirmed=counts["confirmed"].get(monday, 0),
            unsubscribed=counts["unsubscribed"].get(monday, 0),
        )
        for monday in mondays
    ]
