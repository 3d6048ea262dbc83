"""Corrections and retractions in the archive: shown at the same addresses, never silent."""

import functools

import feedparser
import pytest
from django.urls import reverse

from issues.models import Issue
from issues.services import story_correct, story_retract, story_takedown

from .helpers import issue_url, published, story_in, story_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return functools.partial(django_capture_on_commit_callbacks, execute=True)


@pytest.fixture
def issue(committed):
    with committed():
        issue = published()
        story_in(issue, "Talks in Alaska", "The talks were held on Tuesday.")
        story_in(issue, "Oil prices", "Brent fell below sixty dollars.")
    return issue


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def test_a_correction_shows_at_the_top_of_the_story_and_marks_it_in_the_issue(
    client, committed, editor, issue
):
    story = issue.stories.get(position=1)
    before = page(client, story_url(story))
    with committed():
        story_correct(
            story=story, note="The talks were on Wednesday.", kind="correction", acting_user=editor
        )

    html = page(client, story_url(story)).split("<main", 1)[1]
    assert html not in before
    notice = html.index("The talks were on Wednesday.")
    assert "Corrected on" in html
    assert notice < html.index("The talks were held on Tuesday."), "at the top of the story"
    issue_page = page(client, issue_url(issue))
    assert "Corrected on" in issue_page
    assert "The talks were on Wednesday." in issue_page
    story = client.get(reverse("api:story-detail", args=[story.pk])).json()
    assert [(c["number"], c["note"]) for c in story["corrections"]] == [
        (1, "The talks were on Wednesday.")
    ]


def test_a_retraction_changes_nothing_until_a_second_editor_then_shows_the_note(
    client, committed, editor, second_editor, issue
):
    story = issue.stories.get(position=1)
    url = story_url(story)
    with committed():
        story_retract(story=story, note="We could not verify the account.", acting_user=editor)
    assert "The talks were held on Tuesday." in page(client, url)
    assert "could not verify" not in page(client, url)
    assert url in page(client, reverse("search:search") + "?q=talks+Tuesday")

    with committed():
        story_retract(story=story, note="Agreed after review.", acting_user=second_editor)

    html = page(client, url)
    assert "Retraction on" in html
    assert "We could not verify the account." in html
    assert "The talks were held on Tuesday." not in html, "the body is gone"
    assert "Agreed after review." not in html, "the approver's words stay in the newsroom"
    assert '<meta name="robots" content="noindex">' in html
    issue_page = page(client, issue_url(issue))
    assert "We could not verify the account." in issue_page
    assert "The talks were held on Tuesday." not in issue_page
    assert "Brent fell below sixty dollars." in issue_page, "the other story stands"
    found = page(client, reverse("search:search") + "?q=talks+Tuesday")
    assert url not in found, "it leaves search"
    api = client.get(reverse("api:story-detail", args=[story.pk])).json()
    assert api["blocks"] == [] and api["notice"]["kind"] == "retraction"
    assert api["notice"]["text"] == "We could not verify the account."
    feed = page(client, reverse("archive:rss", args=[issue.newsletter.slug]))
    assert "The talks were held on Tuesday." not in feed
    assert "We could not verify the account." in feed


def test_an_issue_with_every_story_retracted_shows_as_retracted_not_404(
    client, committed, editor, second_editor, issue
):
    with committed():
        for story in issue.stories.all():
            story_retract(story=story, note=f"{story.headline}: fabricated.", acting_user=editor)
            story_retract(story=story, note="Agreed.", acting_user=second_editor)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.RETRACTED

    html = page(client, issue_url(issue))
    assert "This issue has been retracted." in html
    assert "Talks in Alaska: fabricated." in html and "Oil prices: fabricated." in html


def test_a_takedown_shows_a_fixed_line_and_neither_the_headline_nor_the_reason(
    client, committed, editor, second_editor, issue
):
    story = issue.stories.get(position=1)
    old_address = story_url(story)
    with committed():
        story_takedown(story=story, note="Court order 12/34 names a witness.", acting_user=editor)
        story_takedown(story=story, note="Confirmed.", acting_user=second_editor)

    story.refresh_from_db()
    assert story.slug == "removed", "the address no longer spells the headline"
    response = client.get(old_address)
    assert (response.status_code, response["Location"]) == (301, story_url(story))
    for url in (
        story_url(story),
        issue_url(issue),
        story_url(issue.stories.get(position=2)),
        reverse("archive:corrections", args=[issue.newsletter.slug]),
        "/sitemap.xml",
    ):
        html = page(client, url)
        assert "Talks in Alaska" not in html, url
        assert "talks-in-alaska" not in html, url
        assert "Court order" not in html, url
    html = page(client, story_url(story))
    assert "removed for legal or safety reasons" in html
    assert "The talks were held on Tuesday." not in html


def test_the_corrections_page_and_its_feed_list_the_record_newest_first(
    client, committed, editor, second_editor, issue
):
    first, second = issue.stories.order_by("position")
    with committed():
        story_correct(
            story=first, note="The talks were on Wednesday.", kind="correction", acting_user=editor
        )
        story_retract(story=second, note="The figures were invented.", acting_user=editor)
        story_retract(story=second, note="Agreed.", acting_user=second_editor)

    slug = issue.newsletter.slug
    html = page(client, reverse("archive:corrections", args=[slug]))
    assert html.index("The figures were invented.") < html.index("The talks were on Wednesday.")
    assert story_url(first) in html and story_url(second) in html
    feed = feedparser.parse(page(client, reverse("archive:corrections_rss", args=[slug])))
    assert [entry.title for entry in feed.entries] == [
        "Retraction: Oil prices",
        "Correction: Talks in Alaska",
    ]
    assert "The talks were on Wednesday." in feed.entries[1].summary
    assert "Agreed." not in html + str(feed)


def test_the_public_log_has_every_public_step_and_nothing_of_the_newsroom(
    client, committed, editor, second_editor, issue
):
    from unittest import mock

    from issues.services import correction_notice_send

    first, second = issue.stories.order_by("position")
    with committed():
        story_correct(
            story=first, note="The talks were on Wednesday.", kind="correction", acting_user=editor
        )
        story_retract(story=first, note="The quotes were invented.", acting_user=editor)
        story_retract(story=first, note="Checked with the tapes.", acting_user=second_editor)
        with mock.patch("subscribers.dispatch.start.dispatch_enqueue"):
            correction_notice_send(story=first, acting_user=editor)
        story_takedown(story=second, note="Court order 12/34.", acting_user=editor)
        story_takedown(story=second, note="Confirmed.", acting_user=second_editor)

    response = client.get(reverse("archive:corrections_log", args=[issue.newsletter.slug]))

    log = response.json()
    assert [(step["step"], step["issue"]) for step in log["steps"]] == [
        ("takedown", issue.number),
        ("notice", issue.number),
        ("retraction", issue.number),
        ("correction", issue.number),
    ]
    takedown = log["steps"][0]
    assert takedown["story"].endswith("/removed/") and takedown["headline"] == "Removed story"
    assert log["steps"][1]["note"] == f"Emailed to the readers of issue #{issue.number}."
    body = response.content.decode()
    for private in ("Court order", "Checked with the tapes", "Confirmed.", "editor", "Oil prices"):
        assert private not in body, private
