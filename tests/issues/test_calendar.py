"""The editorial calendar's month: scheduled and sent issues on their local day."""

from datetime import UTC, date, datetime

import pytest

from issues.calendar import calendar_month, month_parse, month_shift
from issues.models import Issue
from tests.factories import IssueFactory, NewsletterFactory

pytestmark = pytest.mark.django_db


def issue_at(status, *, publish_at=None, published_at=None, **kwargs):
    issue = IssueFactory(**kwargs)
    Issue.objects.filter(pk=issue.pk).update(
        status=status, publish_at=publish_at, published_at=published_at
    )
    return issue


def test_calendar_month_lists_scheduled_and_sent_issues_on_their_local_day(settings):
    settings.TIME_ZONE = "Europe/Riga"
    # 23:30 UTC on 30 Nov is 01:30 on 1 Dec in Riga: it belongs to December.
    late = issue_at(
        "scheduled", publish_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC), title="Late"
    )
    sent = issue_at("sent", published_at=datetime(2026, 12, 3, 6, 0, tzinfo=UTC), title="Sent")
    issue_at("approved", title="No date yet")
    issue_at("draft", title="Draft")

    days = calendar_month(first=date(2026, 12, 1))

    assert [(d.day, [i.title for i in d.issues]) for d in days] == [
        (date(2026, 12, 1), ["Late"]),
        (date(2026, 12, 3), ["Sent"]),
    ]
    assert calendar_month(first=date(2026, 11, 1)) == []
    assert {late.pk, sent.pk} == {i.pk for d in days for i in d.issues}


def test_calendar_month_filters_by_newsletter():
    other = NewsletterFactory(name="Other", slug="other", kicker="OTHER")
    when = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    issue_at("scheduled", publish_at=when, title="Bell")
    issue_at("scheduled", publish_at=when, title="Other's", newsletter=other)

    days = calendar_month(first=date(2026, 12, 1), newsletter_id=other.pk)

    assert [i.title for d in days for i in d.issues] == ["Other's"]


def test_month_parse_and_shift():
    today = date(2026, 11, 27)
    assert month_parse("2027-02", today=today) == date(2027, 2, 1)
    assert month_parse("garbage", today=today) == date(2026, 11, 1)
    assert month_parse(None, today=today) == date(2026, 11, 1)
    assert month_parse("2026-13", today=today) == date(2026, 11, 1)
    assert month_shift(date(2026, 12, 1), 1) == date(2027, 1, 1)
    assert month_shift(date(2026, 1, 1), -1) == date(2025, 12, 1)
