"""The editorial calendar: scheduled and sent issues, day by day, for one month."""

from dataclasses import dataclass, field
from datetime import date, datetime, time

from django.db.models import Count, F
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Issue, IssueStatus

# On the calendar: what has a date to go out, or went out.
CALENDAR_STATUSES = (
    IssueStatus.SCHEDULED,
    IssueStatus.SENDING,
    IssueStatus.SENT,
    IssueStatus.CORRECTED,
    IssueStatus.RETRACTED,
)


@dataclass
class CalendarDay:
    day: date
    issues: list = field(default_factory=list)


def month_parse(value: str | None, *, today: date) -> date:
    """The first day of the month named “2026-11”; this month when the value is missing or
    not a month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return date(year, month, 1)
    except ValueError:
        return today.replace(day=1)


def month_shift(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def calendar_month(*, first: date, newsletter_id: int | None = None) -> list[CalendarDay]:
    """The days of the month that have issues, in order, each with its issues by time."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(month_shift(first, 1), time.min, tzinfo=zone)
    issues = (
        Issue.objects.filter(status__in=CALENDAR_STATUSES)
        .annotate(
            goes_out=Coalesce(F("published_at"), F("publish_at")),
            story_count=Count("stories"),
        )
        .filter(goes_out__gte=start, goes_out__lt=end)
        .select_related("newsletter")
        .order_by("goes_out", "pk")
    )
    if newsletter_id:
        issues = issues.filter(newsletter_id=newsletter_id)
    days: dict[date, CalendarDay] = {}
    for issue in issues:
        day = timezone.localtime(issue.goes_out).date()
        days.setdefault(day, CalendarDay(day)).issues.append(issue)
    return list(days.values())


def upcoming_unscheduled_count() -> int:
    """Approved issues still waiting for a date: the calendar mentions them."""
    return Issue.objects.filter(status=IssueStatus.APPROVED).count()
