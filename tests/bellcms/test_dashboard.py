"""The desk's dashboard on the admin's front page: this week's issue and its stories by status,
the next send with its countdown, the last send's figures, the audience week by week for those
who may see it, and a number of queries that does not grow with subscribers or issues."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from bellcms.dashboard.chart import bar_chart, nice_step
from bellcms.dashboard.panels import countdown_html
from bellcms.dashboard.queries import AudienceWeek, week_monday
from bellcms.dates import datetime_shown
from issues.models import Issue
from subscribers.dispatch.finish import dispatch_finish_if_done
from subscribers.models import Delivery, Dispatch, Subscriber, Subscription
from tests.factories import (
    TEST_PASSWORD,
    IssueFactory,
    NewsletterFactory,
    StoryFactory,
    SubscriptionFactory,
    UserFactory,
    published_issue,
)

pytestmark = pytest.mark.django_db
S = Delivery.Status


def dashboard(client, user) -> str:
    assert client.login(username=user.username, password=TEST_PASSWORD)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def panel(page: str, name: str) -> str:
    """The HTML of one panel (``bell-panel-<name>``); empty when the page has none."""
    match = re.search(rf'<section class="bell-panel bell-panel-{name}".*?</section>', page, re.S)
    return match.group(0) if match else ""


def group(section: str, status: str) -> str:
    pattern = rf'<div class="bell-dash-group" data-status="{status}">.*?</div>'
    match = re.search(pattern, section, re.S)
    return match.group(0)


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def may_view_subscribers(user):
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="subscribers", codename="view_subscriber")
    )


@pytest.fixture
def newsletter(db):
    return NewsletterFactory()


# This week's issue -------------------------------------------------------------------------------


def test_dashboard_shows_this_weeks_issue_with_its_stories_by_status(client, editor, newsletter):
    IssueFactory(newsletter=newsletter, number=1, title="Last week", status=Issue.Status.SENT)
    issue = IssueFactory(newsletter=newsletter, number=2, title="Kremlin view")
    for headline, status in [
        ("Talks in Riyadh", "draft"),
        ("Sanctions bite", "submitted"),
        ("Media scandals", "approved"),
        ("Oil price cap", "draft"),
    ]:
        StoryFactory(issue=issue, headline=headline, status=status)

    section = panel(dashboard(client, editor), "issue")

    assert "This week\N{RIGHT SINGLE QUOTATION MARK}s issue" in section
    assert "#2 Kremlin view" in section and "Last week" not in section
    assert re.findall(r">([^<>]+)</a></li>", group(section, "draft")) == [
        "Talks in Riyadh",
        "Oil price cap",
    ]
    assert "Sanctions bite" in group(section, "submitted")
    assert "Media scandals" in group(section, "approved")
    assert text(group(section, "returned")) == "Returned 0"


def test_dashboard_shows_the_latest_issue_when_every_issue_is_sent(client, editor, newsletter):
    IssueFactory(newsletter=newsletter, number=1, title="Older", status=Issue.Status.SENT)
    latest = IssueFactory(newsletter=newsletter, number=2, title="Newest", status=Issue.Status.SENT)
    Issue.objects.filter(pk=latest.pk).update(published_at=timezone.now())

    section = panel(dashboard(client, editor), "issue")

    assert "The latest issue" in section and "#2 Newest" in section


def test_journalist_sees_only_their_own_stories_of_the_issue(client, journalist, newsletter):
    issue = IssueFactory(newsletter=newsletter)
    StoryFactory(issue=issue, headline="Mine", authors=[journalist])
    StoryFactory(issue=issue, headline="Not mine")

    section = panel(dashboard(client, journalist), "issue")

    assert "Mine" in section and "Not mine" not in section


# Sends -----------------------------------------------------------------------------------------


def test_dashboard_shows_the_next_scheduled_send_with_a_countdown(client, editor, newsletter):
    later = IssueFactory(newsletter=newsletter, number=3, title="Later")
    soon = IssueFactory(newsletter=newsletter, number=2, title="Soon")
    publish_at = timezone.now() + timedelta(days=2, hours=3, minutes=13, seconds=30)
    Issue.objects.filter(pk=soon.pk).update(status="scheduled", publish_at=publish_at)
    Issue.objects.filter(pk=later.pk).update(
        status="scheduled", publish_at=publish_at + timedelta(days=7)
    )

    section = panel(dashboard(client, editor), "next")

    assert "#2 Soon" in section and "Later" not in section
    assert f'<time datetime="{publish_at.isoformat()}">{datetime_shown(publish_at)}</time>' in (
        section
    )
    # Whole minutes, rounded up: what the page says without JavaScript.
    assert "in 2 d 3 h 14 min" in text(section)


def test_countdown_reads_in_days_hours_and_minutes():
    assert text(countdown_html(59)) == "in 0 d 0 h 1 min"
    assert text(countdown_html(3600 * 25)) == "in 1 d 1 h 0 min"
    assert 'data-part="minutes"' in countdown_html(61)


def test_dashboard_shows_the_last_sends_figures(client, editor, newsletter):
    issue, _readers = published_issue(newsletter, 10)
    first = timezone.now() - timedelta(minutes=5)
    sent = list(Delivery.objects.filter(issue=issue).order_by("pk")[:6])
    for second, delivery in enumerate(sent):
        delivery.status, delivery.sent_at = S.SENT, first + timedelta(seconds=second)
    Delivery.objects.bulk_update(sent, ["status", "sent_at"])
    pending = Delivery.objects.filter(issue=issue, status=S.PENDING).order_by("pk")
    Delivery.objects.filter(pk__in=list(pending.values_list("pk", flat=True)[:2])).update(
        status=S.FAILED
    )
    Delivery.objects.filter(issue=issue, status=S.PENDING).update(status=S.SKIPPED)
    assert dispatch_finish_if_done(issue_id=issue.pk)
    started = timezone.now() - timedelta(minutes=10)
    Dispatch.objects.filter(issue=issue).update(
        started_at=started, finished_at=started + timedelta(minutes=3, seconds=20)
    )

    section = text(panel(dashboard(client, editor), "last"))

    assert str(issue) in section
    assert "Sent 6 of 10" in section
    assert "Failed 2" in section
    # Six messages over five seconds, first to last.
    assert "1.2 messages/s, first message to last" in section
    assert "Duration 3 min 20 s" in section


def test_dashboard_says_when_nothing_was_sent_or_scheduled(client, editor):
    page = dashboard(client, editor)

    assert "No issue has been sent yet." in panel(page, "last")
    assert "No issue is scheduled." in panel(page, "next")


# Audience ------------------------------------------------------------------------------------


def at(monday, weeks_back: int):
    """Tuesday noon, ``weeks_back`` weeks before the week of ``monday``, in the newsroom's zone."""
    day = monday - timedelta(weeks=weeks_back) + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(12)))


def test_dashboard_counts_subscriptions_week_by_week(client, editor, newsletter):
    may_view_subscribers(editor)
    monday = week_monday(timezone.now())
    for _ in range(3):
        SubscriptionFactory(newsletter=newsletter, created_at=at(monday, 0), confirmed_at=None)
    for _ in range(2):
        SubscriptionFactory(
            newsletter=newsletter, created_at=at(monday, 2), confirmed_at=at(monday, 0)
        )
    SubscriptionFactory(
        newsletter=newsletter,
        created_at=at(monday, 5),
        confirmed_at=at(monday, 5),
        unsubscribed_at=at(monday, 2),
        status="unsubscribed",
        subscriber__status="unsubscribed",
    )
    # Older than the twelve weeks shown: counted in the audience, not in the chart.
    SubscriptionFactory(newsletter=newsletter, created_at=at(monday, 12), confirmed_at=None)
    Subscriber.objects.filter(subscriptions__confirmed_at__isnull=True).update(status="pending")

    section = panel(dashboard(client, editor), "audience")

    def week(weeks_back):
        day = (monday - timedelta(weeks=weeks_back)).isoformat()
        row = re.search(rf'<tr data-week="{day}">(.*?)</tr>', section, re.S).group(1)
        return [int(cell) for cell in re.findall(r"<td>(\d+)</td>", row)]

    assert week(0) == [3, 2, 0]
    assert week(2) == [2, 0, 1]
    assert week(5) == [1, 1, 0]
    assert week(1) == [0, 0, 0]
    assert section.count("<tr data-week=") == 12
    assert "Receiving issues 2" in text(section)
    assert "Not yet confirmed 4" in text(section)
    assert "joined (6)" in text(section) and "unsubscribed (1)" in text(section)
    assert "<title id=" in section and "<desc id=" in section
    assert section.count("<rect ") == 36


def test_audience_is_shown_only_to_those_who_may_view_subscribers(client, editor, journalist):
    SubscriptionFactory()
    reader = UserFactory(username="reader")
    reader.user_permissions.add(
        Permission.objects.get(content_type__app_label="issues", codename="view_issue")
    )
    may_view_subscribers(editor)

    assert panel(dashboard(client, journalist), "audience") == ""
    assert "Receiving issues" not in dashboard(client, journalist)
    page = dashboard(client, reader)
    assert panel(page, "issue") and panel(page, "last") and not panel(page, "audience")
    assert "Receiving issues 1" in text(panel(dashboard(client, editor), "audience"))


def test_issue_and_send_panels_need_permission_to_view_issues(client, newsroom_groups):
    IssueFactory()
    stranger = UserFactory(username="stranger")

    page = dashboard(client, stranger)

    assert not panel(page, "issue") and not panel(page, "next") and not panel(page, "last")


def test_chart_scales_bars_to_round_gridlines():
    monday = week_monday(timezone.now())
    weeks = [AudienceWeek(monday - timedelta(weeks=n), n, 0, 1) for n in (2, 1, 0)]
    chart = bar_chart(weeks)

    assert [tick.label for tick in chart.ticks] == ["0", "1", "2"]
    joined = [column.bars[0] for column in chart.columns]
    assert joined[0].height == pytest.approx(2 * joined[1].height, abs=0.1)
    assert joined[2].height == 0
    assert all(bar.y + bar.height == pytest.approx(chart.baseline) for bar in joined)
    assert [nice_step(n) for n in (0.3, 3, 7, 12, 260)] == [1, 5, 10, 20, 500]


def test_dashboard_keeps_the_app_list(client, editor):
    page = dashboard(client, editor)

    assert "Everything in the admin" in page
    assert 'class="app-issues module' in page


# A number of queries that does not grow --------------------------------------------------------


def queries_for(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("admin:index")).status_code == 200
    return len(queries)


def subscribers_add(newsletter, count: int, start: int):
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        [
            Subscriber(
                email=f"bulk{start + n}@mail.example",
                status="active",
                consent_at=now,
                consent_method="import",
                created_at=now - timedelta(days=n % 100),
            )
            for n in range(count)
        ],
        batch_size=2000,
    )
    Subscription.objects.bulk_create(
        [
            Subscription(
                subscriber=subscriber,
                newsletter=newsletter,
                status="active",
                created_at=subscriber.created_at,
                confirmed_at=subscriber.created_at + timedelta(hours=1),
            )
            for subscriber in subscribers
        ],
        batch_size=2000,
    )


def test_dashboard_queries_are_the_same_at_10_and_10000_subscribers(client, editor, newsletter):
    may_view_subscribers(editor)
    published_issue(newsletter, 3)
    assert client.login(username=editor.username, password=TEST_PASSWORD)
    subscribers_add(newsletter, 10, start=0)
    queries_for(client)  # the first request fills Django's caches (content types)
    at_ten = queries_for(client)

    subscribers_add(newsletter, 9_990, start=10)
    assert Subscriber.objects.count() == 10_003

    assert queries_for(client) == at_ten


def test_dashboard_queries_are_the_same_at_1_and_30_issues(client, editor, newsletter):
    may_view_subscribers(editor)
    published_issue(newsletter, 2)  # going out now: this week's issue and the last send
    assert client.login(username=editor.username, password=TEST_PASSWORD)
    queries_for(client)
    at_one = queries_for(client)

    for number in range(1000, 1027):
        other = IssueFactory(newsletter=newsletter, number=number, status="sent")
        for _ in range(3):
            StoryFactory(issue=other, status="approved")
    IssueFactory(newsletter=newsletter, number=1027)
    IssueFactory(newsletter=newsletter, number=1028, status="scheduled", publish_at=timezone.now())
    assert Issue.objects.count() == 30

    assert queries_for(client) == at_one
