"""Anonymous sources in a real Chromium: a journalist cites a source on a bullet point and
submits; an editor sees the citation; a keeper grants; the journalist types the password again
and sees who the source is; the email and the archive page name neither."""

import datetime as dt
import re
from unittest import mock

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from issues.models import Issue
from issues.rendering import issue_render_html, issue_render_text
from issues.scheduling import publish_due_issues
from issues.services import issue_approve, story_approve
from sources.services import descriptor_approve, source_create
from tests.e2e.test_admin_browser import log_in
from tests.e2e.test_workflow_browser import expect_message, second_browser, status_badge
from tests.factories import TEST_PASSWORD, BlockFactory, NewsletterFactory, StoryFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Evdokia Lindqvist-Oyelaran"
BULLET = "Putin will accept no NATO troops in Ukraine, the source told The Bell."
CITATIONS_SCREENSHOT = "/tmp/bellcms-sources-citations.png"
REVEAL_SCREENSHOT = "/tmp/bellcms-sources-reveal.png"


def kestrel(journalist, editor):
    """A source registered by the journalist, its description approved by the editor."""
    source = source_create(
        acting_user=journalist,
        codename="KESTREL",
        identity={"name": NAME, "position": "Adviser", "contacts": "+7 900 000-00-00"},
        descriptors=["a source close to the Kremlin"],
        basis="participant",
        reliability="usually",
        motive="Wants the facts known.",
        anonymity_reason="Would be dismissed and prosecuted if named.",
    )
    descriptor_approve(descriptor=source.descriptors.get(), acting_user=editor)
    return source


def test_cite_submit_grant_reveal_and_nothing_reaches_readers(
    page, chromium, live_server, journalist, editor, keeper
):
    base = live_server.url
    newsletter = NewsletterFactory()
    story = StoryFactory(
        issue__newsletter=newsletter, authors=[journalist], headline="Kremlin view"
    )
    BlockFactory(story=story, position=1, text="Talks may start in the spring.")
    BlockFactory(story=story, position=2, kind="bullet", text=BULLET)
    source = kestrel(journalist, editor)

    # The journalist: the story page says a claim needs a source; cite it, then submit.
    log_in(page, live_server, journalist)
    page.goto(f"{base}/admin/issues/story/{story.pk}/change/")
    panel = page.locator("[data-bell-sources-panel]")
    expect(panel).to_contain_text("1 claim attributes to a source and cites none")
    panel.get_by_role("link", name="Sources of this story").click()
    claim = page.locator('[data-bell-block="2"]')
    claim.locator("select[multiple]").select_option(label="KESTREL")
    claim.locator("select:not([multiple])").select_option("a source close to the Kremlin")
    claim.get_by_role("button", name="Cite").click()
    expect_message(page, "success", "Cited for bullet point 2.")
    expect(page.locator('[data-bell-block="2"] [data-bell-citation]')).to_contain_text(
        "KESTREL: “a source close to the Kremlin”"
    )
    page.screenshot(path=CITATIONS_SCREENSHOT, full_page=True)
    page.get_by_role("link", name="Back to the story").click()
    expect(panel).to_contain_text("Every claim that attributes to a source cites one")
    page.get_by_role("button", name="Submit for review").click()
    expect(status_badge(page)).to_have_text("Submitted")

    # The editor sees the citation.
    with second_browser(chromium) as desk:
        log_in(desk, live_server, editor)
        desk.goto(f"{base}/admin/sources/source/story/{story.pk}/")
        expect(desk.locator("[data-bell-citation]")).to_have_text(
            "KESTREL: “a source close to the Kremlin”"
        )

    # The keeper grants the journalist access, for three days.
    with second_browser(chromium) as keeper_page:
        log_in(keeper_page, live_server, keeper)
        keeper_page.goto(f"{base}/admin/sources/accessgrant/add/?source={source.pk}")
        keeper_page.select_option("#id_user", label=journalist.username)
        keeper_page.fill("#id_reason", "Checks the Kremlin story before it goes out.")
        expires = timezone.localtime() + dt.timedelta(days=3)
        keeper_page.fill("#id_expires_at_0", expires.strftime("%Y-%m-%d"))
        keeper_page.fill("#id_expires_at_1", expires.strftime("%H:%M:%S"))
        keeper_page.get_by_role("button", name="Save", exact=True).click()
        expect_message(keeper_page, "success", "was added successfully")

    # The journalist types the password again, says why, and sees who KESTREL is.
    page.goto(f"{base}/admin/sources/source/{source.pk}/change/")
    expect(page.locator("body")).not_to_contain_text(NAME)
    page.locator("[data-bell-reveal-link]").click()
    page.fill("#id_reason", "Checking the quote before print.")
    page.fill("#id_password", TEST_PASSWORD)
    page.locator("[data-bell-reveal]").click()
    expect(page.locator('[data-bell-identity="name"]')).to_have_text(NAME)
    page.screenshot(path=REVEAL_SCREENSHOT, full_page=True)

    # The story goes out: neither the email nor the archive page names the source.
    story_approve(story=story, acting_user=editor)
    issue = Issue.objects.get(pk=story.issue_id)
    issue_approve(issue=issue, acting_user=editor)
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.SCHEDULED, publish_at=timezone.now() - dt.timedelta(seconds=5)
    )
    with mock.patch("subscribers.dispatch.start.dispatch_enqueue"):
        assert publish_due_issues() == [issue.pk]
    issue.refresh_from_db()
    page.goto(f"{base}/archive/{newsletter.slug}/{issue.number}/")
    archive = page.locator("body").inner_text()
    assert "the source told The Bell" in archive
    for shown in (archive, issue_render_html(issue=issue), issue_render_text(issue=issue)):
        assert "KESTREL" not in shown and NAME not in shown
        assert "a source close to the Kremlin" not in shown


def test_journalist_cites_from_the_editor_and_keeps_writing(page, live_server, journalist, editor):
    story = StoryFactory(authors=[journalist], headline="Kremlin view")
    BlockFactory(story=story, position=1, text="Talks may start in the spring.")
    cited = BlockFactory(story=story, position=2, kind="bullet", text=BULLET)
    kestrel(journalist, editor)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, journalist)
    page.goto(f"{live_server.url}/admin/issues/story/{story.pk}/change/")
    document = page.locator("[data-bell-editor] .ProseMirror")

    # An unsaved edit first: citing must not cost it, nor make its save stale.
    document.locator("p").first.click()
    page.keyboard.press("End")
    page.keyboard.type(" Or later.")
    document.locator("li").first.click()
    page.get_by_role("button", name="Cite a source").click()
    dialog = page.locator("[data-bell-cite]")
    expect(dialog).to_contain_text("Putin will accept no NATO troops")
    dialog.get_by_label("KESTREL").check()
    dialog.get_by_label("Described in print as").select_option("a source close to the Kremlin")
    dialog.get_by_role("button", name="Cite", exact=True).click()
    expect(dialog).to_be_hidden()
    mark = document.locator("li[data-bell-mark]")
    expect(mark).to_have_attribute("title", re.compile("KESTREL"))
    assert cited.citations.get().descriptor == "a source close to the Kremlin"

    page.click("input[name=_continue]")
    expect(page.locator(".messagelist .success")).to_be_visible()
    story.refresh_from_db()
    assert list(story.blocks.order_by("position").values_list("pk", "text")) == [
        (story.blocks.get(position=1).pk, "Talks may start in the spring. Or later."),
        (cited.pk, BULLET),
    ]
    # The marked block is still the cited one after the save.
    expect(page.locator("[data-bell-editor] .ProseMirror li[data-bell-mark]")).to_have_count(1)
    assert NAME not in page.content()
    assert errors == []
