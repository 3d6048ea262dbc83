"""The admin in a real Chromium: an editor reads an imported issue and reorders a story."""

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.conftest import SAMPLE_PATH
from tests.factories import TEST_PASSWORD

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FIRST_HEADLINE = "Putin-Trump talks: What to expect"
SECOND_HEADLINE = "Fake news scandals hit Russian independent media"
SCREENSHOT = "/tmp/bellcms-admin-story-change.png"


@pytest.fixture
def sample_issue_id(editor):
    stdout = io.StringIO()
    call_command("import_issue", str(SAMPLE_PATH), stdout=stdout, stderr=io.StringIO())
    return int(stdout.getvalue().strip())


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", TEST_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")


def block_texts(page):
    return page.locator("#blocks-group tr.form-row:not(.empty-form) textarea").evaluate_all(
        "areas => areas.map(area => area.value).filter(text => text !== '')"
    )


def test_editor_reads_issue_stories_and_blocks_in_order(page, live_server, editor, sample_issue_id):
    log_in(page, live_server, editor)

    page.goto(f"{live_server.url}/admin/issues/issue/{sample_issue_id}/change/")
    stories = page.locator("#stories-group").inner_text()
    assert stories.index(FIRST_HEADLINE) < stories.index(SECOND_HEADLINE)

    page.locator("#stories-group").get_by_role("link", name=FIRST_HEADLINE).click()
    page.wait_for_url(re.compile(r"/admin/issues/story/\d+/change/"))
    # The story reads as one document: its blocks in order, the takeaway after them.
    document = page.locator("[data-bell-editor] .ProseMirror")
    expect(document.locator(":scope > p").first).to_contain_text("Following Donald Trump")
    expect(document.locator(":scope > h2").first).to_have_text(
        "Trump\N{RIGHT SINGLE QUOTATION MARK}s signals"
    )
    takeaway = page.locator("#id_takeaway")
    assert takeaway.input_value().startswith("Trump")
    last_block = document.locator(":scope > *").last
    assert takeaway.bounding_box()["y"] > last_block.bounding_box()["y"]
    page.screenshot(path=SCREENSHOT, full_page=True)


def test_editor_drags_a_block_above_another_and_saves(page, live_server, editor, sample_issue_id):
    from issues.models import Story

    story = Story.objects.get(issue_id=sample_issue_id, headline=FIRST_HEADLINE)
    log_in(page, live_server, editor)
    page.goto(f"{live_server.url}/admin/issues/story/{story.pk}/change/?blocks=form")
    first, second = block_texts(page)[:2]
    rows = page.locator("#blocks-group tr.form-row:not(.empty-form)")
    handle = rows.nth(1).locator(".bell-drag-handle")

    handle.hover()  # scrolls the rows into view: measure the target only now
    target = rows.nth(0).bounding_box()
    page.mouse.down()
    page.mouse.move(target["x"] + 40, target["y"] + 5, steps=8)
    page.mouse.up()

    assert block_texts(page)[:2] == [second, first]
    positions = rows.locator('input[name$="-position"]').evaluate_all(
        "inputs => inputs.map(input => input.value)"
    )
    assert positions[:3] == ["1", "2", "3"]
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    page.reload()
    assert block_texts(page)[:2] == [second, first]
    story.refresh_from_db()
    assert story.revision == 2


def test_editor_moves_a_block_with_the_keyboard_and_adds_one_at_the_end(
    page, live_server, editor, sample_issue_id
):
    from issues.models import Story

    story = Story.objects.get(issue_id=sample_issue_id, headline=SECOND_HEADLINE)
    log_in(page, live_server, editor)
    page.goto(f"{live_server.url}/admin/issues/story/{story.pk}/change/?blocks=form")
    first, second = block_texts(page)[:2]
    count = story.blocks.count()

    page.locator("#blocks-group tr.form-row").nth(1).locator(".bell-drag-handle").press("ArrowUp")
    # A new order is an unsaved change: the workflow steps wait until it is saved.
    expect(page.get_by_role("button", name="Submit for review")).to_be_disabled()
    page.get_by_role("button", name="Add another Block").click()
    new_row = page.locator("#blocks-group tr.form-row:not(.empty-form)").last
    assert new_row.locator('input[name$="-position"]').input_value() == str(count + 2)
    new_row.locator("textarea").fill("A closing bullet.")
    new_row.locator("select").select_option("bullet")
    page.click("input[name=_continue]")

    expect(page.locator(".messagelist .success")).to_have_count(1)
    texts = block_texts(page)
    assert texts[:2] == [second, first]
    assert texts[-1] == "A closing bullet."
    assert len(texts) == count + 1
