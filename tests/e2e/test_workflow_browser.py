"""The editorial workflow in a real Chromium: the newsroom's whole day, and two editors on one
story."""

import re
from contextlib import contextmanager
from datetime import timedelta

import pytest
import reversion
from django.utils import timezone
from playwright.sync_api import expect

from tests.e2e.test_admin_browser import log_in
from tests.factories import BlockFactory, NewsletterFactory, StoryFactory, UserFactory

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STORY_SCREENSHOT = "/tmp/bellcms-workflow-story.png"
RETURNED_SCREENSHOT = "/tmp/bellcms-workflow-returned.png"
ISSUE_SCREENSHOT = "/tmp/bellcms-workflow-issue.png"
CALENDAR_SCREENSHOT = "/tmp/bellcms-workflow-calendar.png"
CONFLICT_SCREENSHOT = "/tmp/bellcms-workflow-conflict.png"
INDEX_SCREENSHOT = "/tmp/bellcms-workflow-index.png"

HEADLINE = "Putin-Trump talks: What to expect"
BULLETS = [
    "A ceasefire along the current front line.",
    "Permanent neutrality for Ukraine.",
    "Security guarantees, still undefined.",
]


@contextmanager
def second_browser(chromium):
    """Another person at another desk: a browser context of their own."""
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        yield page
    finally:
        context.close()


def block_rows(page):
    return page.locator("#blocks-group tr.form-row:not(.empty-form)")


def fill_block(page, index, kind, text):
    row = block_rows(page).nth(index)
    row.locator("select").select_option(kind)
    row.locator("textarea").fill(text)


def expect_message(page, kind, text):
    expect(page.locator(f".messagelist .{kind}")).to_contain_text(text)


def status_badge(page):
    return page.locator(".bell-workflow-head > .bell-status")


@pytest.fixture
def elena(newsroom_groups):
    return UserFactory(username="elena", first_name="Elena", last_name="Editor", groups=["Editors"])


def test_the_newsrooms_whole_day(page, chromium, live_server, editor, journalist):
    NewsletterFactory()
    base = live_server.url

    # The journalist drafts a story: a paragraph, a sub-heading and three bullet points.
    log_in(page, live_server, journalist)
    # The table of blocks (the document editor has its own tests, test_editor_browser.py).
    page.goto(f"{base}/admin/issues/story/add/?blocks=form")
    page.fill("#id_headline", HEADLINE)
    fill_block(page, 0, "paragraph", "Washington and Moscow prepare for talks.")
    for kind, text in [("heading", "What Moscow wants"), *(("bullet", b) for b in BULLETS)]:
        page.get_by_role("button", name="Add another Block").click()
        fill_block(page, block_rows(page).count() - 1, kind, text)
    page.fill("#id_takeaway", "The war may end on Moscow's terms.")
    page.click("input[name=_continue]")
    expect_message(page, "success", "was added successfully")
    expect(status_badge(page)).to_have_text("Draft")
    story_url = page.url
    page.get_by_role("button", name="Submit for review").click()
    expect_message(page, "success", "is submitted for review")
    expect(status_badge(page)).to_have_text("Submitted")
    # In review, the story is the editors' now.
    expect(page.locator(".bell-readonly")).to_contain_text("an editor has it now")
    expect(page.locator("#id_headline")).to_have_count(0)

    with second_browser(chromium) as desk:
        # The editor finds it waiting and returns it with a comment.
        log_in(desk, live_server, editor)
        desk.screenshot(path=INDEX_SCREENSHOT, full_page=True)
        desk.get_by_role("link", name="Waiting for review: 1 story").click()
        desk.get_by_role("link", name=HEADLINE).click()
        desk.get_by_text("Return to the author…").click()
        desk.fill("#bell-return-comment", "Who guarantees the security? Name the source.")
        desk.locator(".bell-return form").get_by_role("button").click()
        expect_message(desk, "success", "went back to its authors")
        expect(status_badge(desk)).to_have_text("Returned")

        # The journalist sees the comment, fixes the third bullet and submits again.
        page.goto(f"{base}/admin/")
        page.get_by_role("link", name="Returned to you: 1").click()
        page.get_by_role("link", name=HEADLINE).click()
        expect(page.locator(".bell-returned")).to_contain_text("Who guarantees the security?")
        page.screenshot(path=RETURNED_SCREENSHOT, full_page=True)
        block_rows(page).nth(4).locator("textarea").fill(
            "Security guarantees from Europe, which Moscow rejects."
        )
        # Unsaved changes hold the workflow buttons until they are saved.
        expect(page.get_by_role("button", name="Submit for review")).to_be_disabled()
        page.click("input[name=_continue]")
        expect_message(page, "success", "was changed successfully")
        page.get_by_role("button", name="Submit for review").click()
        expect(status_badge(page)).to_have_text("Submitted")

        # The editor approves the revision they read, then assembles and schedules the issue.
        desk.goto(story_url)
        expect(desk.locator("#blocks-group")).to_contain_text("Security guarantees from Europe")
        desk.get_by_role("button", name=re.compile(r"^Approve revision \d+$")).click()
        expect_message(desk, "success", "is approved at revision")
        expect(status_badge(desk)).to_have_text("Approved")

        desk.goto(f"{base}/admin/issues/issue/add/")
        desk.locator("#id_newsletter").select_option(label="The Bell Weekly")
        desk.fill("#id_number", "112")
        desk.fill("#id_title", "The Kremlin view on Putin-Trump talks")
        desk.fill("#id_intro", "Hello! This week we cover the talks.")
        desk.click("input[name=_save]")
        expect_message(desk, "success", "was added successfully")

        desk.goto(story_url)
        desk.locator(".field-issue .select2-selection").click()
        desk.locator(".select2-search__field").fill("Kremlin")
        desk.locator(".select2-results__option", has_text="The Kremlin view").click()
        desk.click("input[name=_continue]")
        expect_message(desk, "success", "was changed successfully")
        # Placing a story is not editing it: it stays approved.
        expect(status_badge(desk)).to_have_text("Approved")
        desk.screenshot(path=STORY_SCREENSHOT, full_page=True)

        desk.locator(".bell-workflow-issue a").click()
        desk.get_by_role("button", name="Approve the issue").click()
        expect_message(desk, "success", "is approved")
        tomorrow = timezone.localdate() + timedelta(days=1)
        desk.fill("#id_publish_at", f"{tomorrow:%Y-%m-%d}T07:00")
        expect(desk.locator(".bell-zone")).to_contain_text("Europe/Riga")
        desk.get_by_role("button", name="Schedule").click()
        when = f"{tomorrow:%a} {tomorrow.day} {tomorrow:%b} 07:00"
        expect_message(desk, "success", f"is scheduled for {when}")
        expect(desk.locator(".bell-schedule")).to_contain_text(f"Scheduled for {when} (in ")
        # Scheduled: the issue and its stories are read-only until it is unscheduled.
        expect(desk.locator(".bell-readonly")).to_contain_text("unschedule it first")
        expect(desk.locator("#id_title")).to_have_count(0)
        desk.screenshot(path=ISSUE_SCREENSHOT, full_page=True)

        # The calendar shows it on its day.
        desk.locator(".bell-workflow-meta").get_by_role("link", name="Calendar").click()
        if tomorrow.month != timezone.localdate().month:
            desk.get_by_role("link", name=re.compile("→")).click()
        day = desk.locator(".bell-calendar-day", has_text="The Kremlin view")
        expect(day.locator(".bell-calendar-date")).to_contain_text(f"{tomorrow.day}")
        expect(day.locator(".bell-calendar-time")).to_have_text("07:00")
        expect(day.locator(".bell-status")).to_have_text("Scheduled")
        desk.screenshot(path=CALENDAR_SCREENSHOT, full_page=True)

    # The journalist's story is now beyond their reach, with the reason.
    page.goto(story_url)
    expect(page.locator(".bell-readonly")).to_contain_text("is scheduled: unschedule it first")


@pytest.fixture
def story(editor):
    story = StoryFactory(headline="Fake news scandals hit Russian independent media", issue=None)
    BlockFactory(story=story, position=1, text="One of the biggest scandals of the year.")
    BlockFactory(story=story, position=2, text="The editors apologised on Monday.")
    with reversion.create_revision():
        story.save()
        reversion.set_comment("Imported")
    return story


def test_two_editors_on_one_story_lose_nothing(page, chromium, live_server, editor, elena, story):
    url = f"{live_server.url}/admin/issues/story/{story.pk}/change/?blocks=form"
    log_in(page, live_server, editor)
    page.goto(url)

    with second_browser(chromium) as other:
        log_in(other, live_server, elena)
        other.goto(url)
        expect(other.locator(".bell-presence")).to_have_text("Also open by editor")
        # Elena saves first.
        block_rows(other).nth(1).locator("textarea").fill("The editors apologised on Tuesday.")
        other.click("input[name=_continue]")
        expect_message(other, "success", "was changed successfully")

    # The editor, still on the page they opened before, saves their own change.
    mine = "The editors apologised on Monday, twice."
    block_rows(page).nth(1).locator("textarea").fill(mine)
    page.click("input[name=_continue]")

    expect(page.locator(".errornote")).to_be_visible()
    expect(page.locator(".errorlist")).to_contain_text(
        "Someone else saved this story (now revision 2) after you opened revision 1."
    )
    conflict = page.locator(".bell-conflict")
    expect(conflict).to_contain_text("Saved since by Elena Editor")
    expect(conflict.locator("del")).to_contain_text(["Monday"])
    expect(conflict.locator("ins")).to_contain_text(["Tuesday"])
    # Their text is saved; mine is still in the form.
    expect(block_rows(page).nth(1).locator("textarea")).to_have_value(mine)
    page.screenshot(path=CONFLICT_SCREENSHOT, full_page=True)

    # The editor opens the current version and redoes the change on top of Elena's.
    with page.expect_popup() as popup:
        conflict.get_by_role("link", name="Open the current version in a new tab").click()
    current = popup.value
    expect(block_rows(current).nth(1).locator("textarea")).to_have_value(
        "The editors apologised on Tuesday."
    )
    block_rows(current).nth(1).locator("textarea").fill("The editors apologised on Tuesday, twice.")
    current.click("input[name=_continue]")
    expect_message(current, "success", "was changed successfully")

    # Both texts are in the History, each one comparable and recoverable.
    current.get_by_role("link", name="History").click()
    rows = current.locator("#change-history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(1)).to_contain_text("elena")
    rows.nth(0).get_by_role("link", name="compare with previous").click()
    diff = current.locator("table.bell-diff")
    expect(diff.locator("ins")).to_contain_text([", twice"])
    current.go_back()
    current.locator("#change-history tbody tr").nth(1).get_by_role(
        "link", name="revert to this version…"
    ).click()
    expect(block_rows(current).nth(1).locator("textarea")).to_have_value(
        "The editors apologised on Tuesday."
    )
