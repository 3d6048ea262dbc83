"""The History page in a real Chromium: an editor changes a word and compares two versions."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
import reversion
from playwright.sync_api import expect
from reversion.models import Version

from tests.e2e.test_admin_browser import log_in
from tests.factories import BlockFactory, StoryFactory

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOT = "/tmp/bellcms-admin-history-compare.png"
HISTORY_SCREENSHOT = "/tmp/bellcms-admin-history.png"


@pytest.fixture
def story(editor):
    story = StoryFactory(headline="Putin-Trump talks: What to expect", authors=[editor])
    texts = [
        "Following Donald Trump\N{RIGHT SINGLE QUOTATION MARK}s call, the talks went well.",
        "The Kremlin expects a long negotiation.",
        "Sanctions stay in place for now.",
    ]
    for position, text in enumerate(texts, 1):
        BlockFactory(story=story, position=position, text=text)
    with reversion.create_revision():
        story.save()
        reversion.set_comment("Imported from the-kremlin-view.txt")
    return story


def test_editor_compares_two_versions_of_an_edited_paragraph(page, live_server, editor, story):
    log_in(page, live_server, editor)
    page.goto(f"{live_server.url}/admin/issues/story/{story.pk}/change/?blocks=form")
    paragraph = page.locator("#blocks-group textarea").first
    expect(paragraph).to_have_value(re.compile("the talks went well"))
    paragraph.fill(
        "Following Donald Trump\N{RIGHT SINGLE QUOTATION MARK}s call, the talks went badly."
    )
    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_have_count(1)
    old, new = Version.objects.get_for_object(story).order_by("pk")

    page.get_by_role("link", name="History").click()
    page.wait_for_url(re.compile(r"/history/$"))
    expect(page.locator("#change-history tbody tr")).to_have_count(2)
    page.screenshot(path=HISTORY_SCREENSHOT, full_page=True)
    page.check(f"#bell-from-{old.pk}")
    page.check(f"#bell-to-{new.pk}")
    page.get_by_role("button", name="Compare selected versions").click()

    page.wait_for_url(re.compile(r"/history/compare/\?"))
    assert parse_qs(urlsplit(page.url).query) == {"from": [str(old.pk)], "to": [str(new.pk)]}
    diff = page.locator("table.bell-diff")
    expect(diff.locator("del")).to_have_text(["well"])
    expect(diff.locator("ins")).to_have_text(["badly"])
    expect(diff.locator("thead")).to_contain_text("revision 2")
    changed = diff.locator("tr.bell-row-changed")
    expect(changed).to_have_count(1)
    expect(changed.locator("th")).to_contain_text("changed")
    page.screenshot(path=SCREENSHOT, full_page=True)
