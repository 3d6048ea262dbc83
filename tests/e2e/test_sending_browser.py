"""The sending page and the issue's page in a real Chromium: the bar moves as workers record
messages, without a reload, and an editor pauses the sending."""

import re

import pytest
from playwright.sync_api import expect

from subscribers.dispatch.tallies import connection_tally
from subscribers.models import Delivery, Dispatch
from tests.e2e.test_admin_browser import log_in
from tests.factories import NewsletterFactory
from tests.subscribers.test_sending_admin import published, settle

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/bellcms-sending.png"
S = Delivery.Status


@pytest.fixture
def no_batch_tasks(monkeypatch):
    """Publishing queues batch tasks once it commits, and tests run tasks eagerly: they would
    send the whole issue at once. Here the test plays the workers' part."""
    for queuer in ("start", "control", "finish"):
        monkeypatch.setattr(f"subscribers.dispatch.{queuer}.dispatch_enqueue", lambda **kw: None)


def test_the_bar_follows_the_sending_and_the_editor_pauses_it(
    page, live_server, editor, no_batch_tasks
):
    issue, _ = published(NewsletterFactory(), 20)
    settle(issue, S.SENT, 5)
    log_in(page, live_server, editor)

    page.goto(f"{live_server.url}/admin/issues/issue/{issue.pk}/change/")
    expect(page.locator('.bell-sending-panel [data-bell-field="percent"]')).to_have_text("25.0 %")
    page.get_by_role("link", name="Sending page", exact=True).click()
    page.wait_for_url(re.compile(rf"/newsroom/issues/{issue.pk}/sending/$"))
    bar = page.locator("progress#bell-sending-progress")
    expect(bar).to_have_attribute("value", "5")
    expect(bar).to_have_attribute("max", "20")
    expect(page.locator('[data-bell-field="percent"]')).to_have_text("25.0 %")
    page.evaluate("window.bellNotReloaded = true")

    expect(page.locator(".bell-sending-relays")).to_have_text("No connection has reported yet.")

    # Workers record more messages, and their connections what they did; the page hears of it
    # by itself.
    settle(issue, S.SENT, 9)
    settle(issue, S.FAILED, 1, answer="550 5.1.1 No such user")
    connection_tally(key={"issue_id": issue.pk}, name="worker-a:4 #1", sent=9, refused=1, seconds=2)

    expect(page.locator('[data-bell-field="percent"]')).to_have_text("75.0 %")
    assert bar.evaluate("bar => bar.value") == 15
    expect(page.locator('[data-bell-count="sent"]')).to_have_text("14")
    expect(page.locator('[data-bell-count="pending"]')).to_have_text("5")
    expect(page.locator("[data-bell-new-failures]")).to_be_visible()
    expect(page.locator("[data-bell-new-failures-count]")).to_have_text("1")
    expect(page.locator(".bell-sending-relays li")).to_contain_text(
        "1 of 1 connections sending now, 5.0/s; 9 sent, 0 connection failures"
    )
    row = page.locator("[data-bell-connections] tr")
    expect(row).to_have_count(1)
    expect(row.locator("th")).to_have_text("worker-a:4 #1")
    expect(row.locator("td").nth(1)).to_have_text("9")
    expect(row.locator("td").nth(2)).to_have_text("1")
    assert page.evaluate("window.bellNotReloaded") is True
    page.screenshot(path=SCREENSHOT, full_page=True)

    page.get_by_role("button", name="Pause sending").click()

    expect(page.locator(".messagelist .success")).to_contain_text("is paused")
    expect(page.locator(".bell-sending-head .bell-sending-state")).to_have_text("Paused")
    expect(page.get_by_role("button", name="Resume sending")).to_be_visible()
    expect(page.get_by_role("button", name="Pause sending")).to_have_count(0)
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.PAUSED


def test_the_issue_page_follows_the_sending_too(page, live_server, editor, no_batch_tasks):
    issue, _ = published(NewsletterFactory(), 8)
    settle(issue, S.SENT, 2)
    log_in(page, live_server, editor)

    page.goto(f"{live_server.url}/admin/issues/issue/{issue.pk}/change/")
    panel = page.locator(".bell-sending-panel")
    expect(panel.locator('[data-bell-field="percent"]')).to_have_text("25.0 %")
    expect(panel.locator('[data-bell-field="state_label"]').first).to_have_text("Sending")
    page.evaluate("window.bellNotReloaded = true")

    settle(issue, S.SENT, 4)
    settle(issue, S.FAILED, 1, answer="550 5.1.1 No such user")

    expect(panel.locator('[data-bell-field="percent"]')).to_have_text("87.5 %")
    expect(panel.locator('[data-bell-count="failed"]')).to_have_text("1")
    assert panel.locator("progress").evaluate("bar => bar.value") == 7
    assert page.evaluate("window.bellNotReloaded") is True
    page.screenshot(path="/tmp/bellcms-issue-sending.png", full_page=True)

    panel.get_by_role("link", name=re.compile("The sending page")).click()
    page.wait_for_url(re.compile(rf"/newsroom/issues/{issue.pk}/sending/$"))
