"""Two editors retract a story in a real Chromium; a reader finds the note at the same address."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from issues.models import Issue
from tests.e2e.axe import serious_violations, violations_text
from tests.e2e.test_admin_browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published(sample_path):
    """The sample issue, sent an hour ago."""
    stdout = StringIO()
    call_command("import_issue", str(sample_path), stdout=stdout, stderr=StringIO())
    issue = Issue.objects.get(pk=int(stdout.getvalue().strip()))
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.SENT, published_at=timezone.now() - dt.timedelta(hours=1)
    )
    return issue


def record_panel(page, live_server, story):
    page.goto(f"{live_server.url}/admin/issues/story/{story.pk}/change/")
    return page.locator(".bell-record")


def test_two_editors_retract_and_a_reader_sees_the_note_at_the_same_address(
    chromium, page, live_server, editor, second_editor, published
):
    story = published.stories.order_by("position").first()
    issue = published
    public = live_server.url + reverse(
        "archive:story", args=[issue.newsletter.slug, issue.number, story.slug]
    )
    page.goto(public)
    body = story.blocks.order_by("position").first().text[:40]
    expect(page.locator("main")).to_contain_text(story.headline)

    log_in(page, live_server, editor)
    panel = record_panel(page, live_server, story)
    panel.locator("#bell-record-withdraw-note").fill("The quotes in this story were invented.")
    panel.get_by_role("button", name="Ask for a Retraction").click()
    expect(page.locator(".messagelist")).to_contain_text("Another editor must approve it")
    violations = serious_violations(page, within=".bell-record")
    assert not violations, violations_text(violations)

    other = chromium.new_context().new_page()
    log_in(other, live_server, second_editor)
    panel = record_panel(other, live_server, story)
    expect(panel).to_contain_text("The quotes in this story were invented.")
    panel.get_by_role("button", name="Approve and carry out").click()
    expect(other.locator(".messagelist")).to_contain_text("Carried out")
    other.context.close()

    # A new reader: the first page may keep its copy for the max-age the archive allows.
    page = chromium.new_context().new_page()
    page.goto(public)
    main = page.locator("main")
    expect(main).to_contain_text("The quotes in this story were invented.")
    expect(main).not_to_contain_text(body)
    assert page.url == public
    page.context.close()
