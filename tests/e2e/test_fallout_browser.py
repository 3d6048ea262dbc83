"""A fallout review in a real Chromium: two editors retract a contributor's stories, the
readers who got them are emailed (real SMTP server), and readers find the notes at the same
addresses."""

import pytest
from playwright.sync_api import expect

from issues.models import Story
from subscribers.models import Delivery
from tests.archive.helpers import story_url
from tests.e2e.axe import serious_violations, violations_text
from tests.e2e.test_admin_browser import log_in
from tests.factories import SubscriptionFactory, UserFactory
from tests.sources.fallout import newsroom_fallout

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTE = "Our review found that the author invented this story. We retract it and apologise."


def tick(page, stories):
    for story in stories:
        page.get_by_role("checkbox", name=story.headline).check()


def test_two_editors_retract_a_contributors_stories_from_the_fallout_review(
    chromium, page, live_server, mail_server, journalist, editor, second_editor
):
    colleague = UserFactory(username="colleague", groups=["Journalists"])
    newsroom = newsroom_fallout(contributor=journalist, colleague=colleague, editor=editor)
    first, second = newsroom.issues
    for name, issues in (("anna", [first, second]), ("boris", [first]), ("clara", [second])):
        reader = SubscriptionFactory(
            newsletter=newsroom.newsletter, subscriber__email=f"{name}@mail.example"
        ).subscriber
        for issue in issues:
            Delivery.objects.create(issue=issue, subscriber=reader, status="sent")
    SubscriptionFactory(newsletter=newsroom.newsletter, subscriber__email="later@mail.example")
    mine = [newsroom.stories.minister, newsroom.stories.tanker, newsroom.stories.governor]
    listed = [*mine, newsroom.stories.budget]

    log_in(page, live_server, editor)
    page.goto(f"{live_server.url}/admin/sources/source/")
    page.get_by_role("link", name="Fallout review").click()
    page.get_by_label("Contributor").select_option(label=journalist.username)
    page.get_by_role("button", name="Review").first.click()
    rows = page.locator("#bell-fallout-table tbody tr")
    expect(rows).to_have_count(4)
    for story in listed:
        expect(page.locator("#bell-fallout-table")).to_contain_text(story.headline)
    violations = serious_violations(page, within=".bell-fallout")
    assert not violations, violations_text(violations)

    tick(page, mine)
    page.get_by_label("Note").fill("Nobody we asked has heard of these events.")
    page.get_by_label("Verdict", exact=True).select_option("fabricated")
    page.get_by_role("button", name="Record the verdict").click()
    expect(page.locator(".messagelist")).to_contain_text("Verdict recorded on 3 stories.")
    expect(page.locator(".bell-verdict-fabricated")).to_have_count(3)

    tick(page, mine)
    page.get_by_label("Note").fill(NOTE)
    page.get_by_role("button", name="Retract (ask").click()
    expect(page.locator(".messagelist")).to_contain_text("another editor must approve it")
    review = page.url

    other = chromium.new_context().new_page()
    log_in(other, live_server, second_editor)
    other.goto(review)
    expect(other.locator("#bell-fallout-table")).to_contain_text("Retraction asked for by")
    tick(other, mine)
    other.get_by_role("button", name="Retract (ask").click()
    expect(other.locator(".messagelist")).to_contain_text("3 stories retracted.")
    tick(other, mine)
    other.get_by_role("button", name="Email the readers").click()
    expect(other.locator(".messagelist")).to_contain_text("3 notices are on their way")
    told = sorted(
        to for rcpt_tos, _message in mail_server.wait_for(6, timeout=30) for to in rcpt_tos
    )
    assert told == ["anna@mail.example"] * 3 + ["boris@mail.example"] * 2 + ["clara@mail.example"]
    other.get_by_role("button", name="Draft a public note listing the retracted headlines").click()
    expect(other.locator(".messagelist")).to_contain_text("A draft listing the retracted stories")
    other.context.close()
    draft = Story.objects.get(headline="Stories we have retracted")
    assert draft.blocks.count() == 4, "an opening paragraph and the three headlines"

    reader = chromium.new_context().new_page()
    for story in mine:
        reader.goto(live_server.url + story_url(story))
        main = reader.locator("main")
        expect(main).to_contain_text("invented this story")
        expect(main).not_to_contain_text(story.blocks.get().text)
    reader.goto(live_server.url + story_url(newsroom.stories.budget))
    expect(reader.locator("main")).to_contain_text(newsroom.stories.budget.blocks.get().text)
    reader.context.close()
