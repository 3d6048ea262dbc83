"""The desk's dashboard in a real Chromium: an editor's front page passes axe-core, and its
countdown runs."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from issues.models import Issue
from subscribers.dispatch.finish import dispatch_finish_if_done
from subscribers.models import Delivery
from tests.e2e.axe import serious_violations, violations_text
from tests.e2e.test_admin_browser import log_in
from tests.factories import (
    IssueFactory,
    NewsletterFactory,
    StoryFactory,
    SubscriptionFactory,
    published_issue,
)

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/bellcms-dashboard.png"
PANEL_TITLES = (
    "This week\N{RIGHT SINGLE QUOTATION MARK}s issue",
    "Waiting for you",
    "Next send",
    "Last send",
    "Audience",
)


@pytest.fixture
def desk(editor):
    """Every panel with something in it: a sent issue, next week's being written and one
    scheduled, readers who joined over the weeks."""
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(
        Permission.objects.get(content_type__app_label="subscribers", codename="view_subscriber")
    )
    newsletter = NewsletterFactory()
    sent, _readers = published_issue(newsletter, 4)
    for second, delivery in enumerate(Delivery.objects.filter(issue=sent).order_by("pk")):
        Delivery.objects.filter(pk=delivery.pk).update(
            status=Delivery.Status.SENT, sent_at=timezone.now() + timedelta(seconds=second)
        )
    dispatch_finish_if_done(issue_id=sent.pk)
    for weeks_back in range(6):
        SubscriptionFactory(
            newsletter=newsletter, created_at=timezone.now() - timedelta(weeks=weeks_back)
        )
    scheduled = IssueFactory(newsletter=newsletter, number=90, title="Scheduled")
    for headline, status in [("Ready to go", "approved"), ("Nearly there", "submitted")]:
        StoryFactory(issue=scheduled, headline=headline, status=status)
    Issue.objects.filter(pk=scheduled.pk).update(
        status="scheduled", publish_at=timezone.now() + timedelta(hours=5)
    )
    return editor


def test_dashboard_has_no_serious_accessibility_violations(page, live_server, desk):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, desk)

    for title in PANEL_TITLES:
        expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    expect(page.get_by_role("img", name="Subscriptions per week")).to_be_visible()
    expect(page.locator("[data-bell-countdown]")).to_contain_text("in 0 d 5 h")
    page.screenshot(path=SCREENSHOT, full_page=True)

    violations = serious_violations(page)
    assert violations == [], violations_text(violations)
    assert errors == []
