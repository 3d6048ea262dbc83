"""Importing an issue in a real Chromium: upload the sample, check the preview, confirm."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import SAMPLE_PATH
from tests.e2e.test_admin_browser import log_in

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "The Kremlin view on Putin-Trump talks"
FIRST_HEADLINE = "Putin-Trump talks: What to expect"
SECOND_HEADLINE = "Fake news scandals hit Russian independent media"


def test_editor_uploads_the_sample_sees_the_preview_and_lands_on_the_issue(
    page, live_server, editor
):
    from issues.models import Issue

    log_in(page, live_server, editor)
    page.goto(f"{live_server.url}/admin/issues/issue/")
    page.get_by_role("link", name="Import an issue").click()
    page.wait_for_url(f"{live_server.url}/admin/issues/issue/import/")

    page.get_by_label("Issue file").set_input_files(str(SAMPLE_PATH))
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url(f"{live_server.url}/admin/issues/issue/import/preview/")
    expect(page.locator(".bell-import-title")).to_have_text(TITLE)
    expect(page.locator(".bell-import-number")).to_have_text("1")
    expect(page.locator(".bell-import-headline")).to_have_text(
        [f"1. {FIRST_HEADLINE}", f"2. {SECOND_HEADLINE}"]
    )
    first_story = page.locator(".bell-import-story").first
    expect(first_story.locator(".bell-import-block-heading .bell-import-text")).to_have_text(
        ["Trump\N{RIGHT SINGLE QUOTATION MARK}s signals", "The Kremlin reaction"]
    )
    expect(first_story.locator(".bell-import-block-bullet")).to_have_count(4)
    assert Issue.objects.count() == 0  # a preview writes nothing

    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/issues/issue/\d+/change/$"))
    expect(page.locator(".messagelist")).to_contain_text("you are the author of each")
    stories = page.locator("#stories-group")
    expect(stories).to_contain_text(FIRST_HEADLINE)
    expect(stories).to_contain_text(SECOND_HEADLINE)

    issue = Issue.objects.get()
    assert page.url.endswith(f"/admin/issues/issue/{issue.pk}/change/")
    assert issue.title == TITLE
    assert [list(story.authors.all()) for story in issue.stories.all()] == [[editor], [editor]]


def test_editor_uploads_a_word_document_and_gets_its_blocks(page, live_server, editor, tmp_path):
    from issues.models import Issue
    from tests.issues.test_import_upload import WORD_FIRST_STORY, word_issue

    path = tmp_path / "sanctions.docx"
    path.write_bytes(word_issue())  # made with python-docx, as Word saves it
    log_in(page, live_server, editor)
    page.goto(f"{live_server.url}/admin/issues/issue/import/")
    page.get_by_label("Issue file").set_input_files(str(path))
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".bell-import-headline")).to_have_text(
        ["1. Sanctions tighten", "2. A second story"]
    )
    page.get_by_role("button", name="Import", exact=True).click()
    page.wait_for_url(re.compile(r"/admin/issues/issue/\d+/change/$"))

    story = Issue.objects.get().stories.get(position=1)
    assert list(story.blocks.order_by("position").values_list("kind", "text")) == (WORD_FIRST_STORY)
    assert story.takeaway == "Europe still buys Russian gas."
    assert list(story.authors.all()) == [editor]
