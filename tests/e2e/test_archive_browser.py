"""A reader in a real Chromium: the home page, a search, a story, its issue, and signing up —
on a desktop and on a phone, with axe-core checking every page on the way."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from issues.models import Issue
from tests.e2e.axe import serious_violations, violations_text

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORY = "Fake news scandals hit Russian independent media"
ISSUE = "The Kremlin view on Putin-Trump talks"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def sample_published(sample_path):
    call_command("import_issue", str(sample_path), stdout=StringIO(), stderr=StringIO())
    Issue.objects.update(status=Issue.Status.SENT, published_at=timezone.now())


def accessible(page, what):
    violations = serious_violations(page)
    assert not violations, f"{what}:\n{violations_text(violations)}"


def fits(page, what):
    """Nothing wider than the screen: a phone reader never scrolls sideways."""
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{what} is {overflow}px wider than the screen"


@pytest.mark.parametrize("viewport", VIEWPORTS.values(), ids=VIEWPORTS.keys())
def test_reader_searches_reads_a_story_follows_to_its_issue_and_signs_up(
    page, live_server, sample_published, viewport
):
    page.set_viewport_size(viewport)
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("link", name=ISSUE)).to_be_visible()
    accessible(page, "home")
    fits(page, "home")

    page.get_by_role("searchbox", name="Search the archive").fill("Nesoyeva")
    page.get_by_role("button", name="Search", exact=True).click()
    result = page.get_by_role("link", name=STORY)
    expect(result).to_be_visible()
    expect(page.locator("mark").first).to_have_text("Nesoyeva")
    accessible(page, "search results")
    fits(page, "search results")

    result.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(STORY)
    expect(page.get_by_text("Asiya Nesoyeva").first).to_be_visible()
    accessible(page, "story")
    fits(page, "story")

    page.get_by_role("navigation", name="Breadcrumb").get_by_role("link", name=ISSUE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ISSUE)
    expect(page.get_by_role("link", name=STORY)).to_be_visible()
    accessible(page, "issue")
    fits(page, "issue")

    page.get_by_label("Email address").fill("reader@example.org")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    page.goto(f"{live_server.url}/subscribe/")
    accessible(page, "sign-up")
    fits(page, "sign-up")
    page.goto(f"{live_server.url}/archive/")
    accessible(page, "issue list")
    fits(page, "issue list")
