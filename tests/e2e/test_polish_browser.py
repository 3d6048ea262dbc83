"""A newcomer's polish in a real Chromium: the story list fits a 1366 px laptop screen, and the
email preview sits inside the admin, its email in a frame, with nothing blocking for axe."""

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import SAMPLE_PATH
from tests.e2e.axe import serious_violations, violations_text
from tests.e2e.test_admin_browser import log_in
from tests.factories import IssueFactory, StoryFactory, UserFactory

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
LIST_SCREENSHOT = "/tmp/bellcms-story-list-1366.png"
PREVIEW_SCREENSHOT = "/tmp/bellcms-email-preview.png"


@pytest.fixture
def sample_issue(editor):
    """The sample issue, its stories written by two people with long names, as in a newsroom."""
    from issues.models import Issue

    stdout = io.StringIO()
    call_command("import_issue", str(SAMPLE_PATH), stdout=stdout, stderr=io.StringIO())
    issue = Issue.objects.get(pk=int(stdout.getvalue().strip()))
    writers = [
        UserFactory(username="anastasia", first_name="Anastasia", last_name="Konstantinopolskaya"),
        UserFactory(username="maximilian", first_name="Maximilian", last_name="Vasilyevsky-Orlov"),
    ]
    for story in issue.stories.all():
        story.authors.add(*writers)
    # A week's other work: a story waiting for an issue, and one for the next issue.
    next_issue = IssueFactory(
        newsletter=issue.newsletter,
        number=issue.number + 1,
        title="What the sanctions package means for Russian banks",
    )
    StoryFactory(
        issue=None,
        position=None,
        headline="Why Russia's central bank kept its key rate at a record high in December",
        authors=writers[:1],
    )
    StoryFactory(
        issue=next_issue,
        headline="The shadow fleet: how tankers keep Russian oil moving despite the price cap",
        authors=writers[1:],
    )
    return issue


def test_story_list_fits_a_1366_px_screen(page, live_server, editor, sample_issue):
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server, editor)

    page.goto(f"{live_server.url}/admin/issues/story/")
    expect(page.locator("#result_list")).to_be_visible()
    page.screenshot(path=LIST_SCREENSHOT, full_page=True)

    assert page.evaluate("document.documentElement.scrollWidth") <= LAPTOP["width"]
    # The filters sit beside the list, not over it.
    table = page.locator("#result_list").bounding_box()
    filters = page.locator("#changelist-filter").bounding_box()
    assert table["x"] + table["width"] <= filters["x"]


def test_email_preview_sits_inside_the_admin_with_the_email_in_a_frame(
    page, live_server, editor, sample_issue
):
    page.set_viewport_size(LAPTOP)
    log_in(page, live_server, editor)
    page.goto(f"{live_server.url}/admin/issues/issue/{sample_issue.pk}/change/")
    page.get_by_role("link", name="Email preview and test copy").click()

    # The newsroom's chrome: its header, breadcrumbs back to the issue, the issue's title.
    expect(page.locator("#site-name")).to_contain_text("BellCMS")
    breadcrumbs = page.locator(".breadcrumbs")
    expect(breadcrumbs.get_by_role("link", name=str(sample_issue))).to_be_visible()
    expect(page.locator("h1")).to_contain_text(sample_issue.title)
    # The email itself, in its frame, as the renderer made it.
    frame = page.frame_locator("iframe[data-bell-email-frame]")
    expect(frame.get_by_text("Putin-Trump talks: What to expect").first).to_be_visible()
    iframe = page.locator("iframe[data-bell-email-frame]")
    desktop = iframe.bounding_box()["width"]

    page.get_by_role("button", name="Phone (375 px)").click()
    expect(page.get_by_role("button", name="Phone (375 px)")).to_have_attribute(
        "aria-pressed", "true"
    )
    phone = iframe.bounding_box()["width"]
    assert phone < desktop
    page.screenshot(path=PREVIEW_SCREENSHOT, full_page=True)

    violations = serious_violations(page)
    assert not violations, violations_text(violations)

    breadcrumbs.get_by_role("link", name=str(sample_issue)).click()
    page.wait_for_url(f"{live_server.url}/admin/issues/issue/{sample_issue.pk}/change/")
