"""Archive pages are cached and answer conditional GETs, and never outlive a change."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from issues.models import Issue
from issues.scheduling import publish_due_issues
from tests.archive.helpers import issue_url, published, story_in, story_url
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db


def test_published_pages_carry_validators_and_answer_304(client):
    issue = published()
    story = story_in(issue, "Cached story", "Text.")
    for url in ("/", reverse("archive:index"), issue_url(issue), story_url(story)):
        first = client.get(url)
        assert first.status_code == 200
        assert "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
        assert first["ETag"] and first["Last-Modified"]
        again = client.get(url, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304 and again.content == b""
        since = client.get(url, headers={"If-Modified-Since": first["Last-Modified"]})
        assert since.status_code == 304


def test_a_cached_page_costs_no_query(client, django_assert_num_queries):
    issue = published()
    story_in(issue, "Story", *[f"Block {n}" for n in range(10)])
    assert client.get(issue_url(issue)).status_code == 200
    with django_assert_num_queries(0):
        response = client.get(issue_url(issue))
    assert response.status_code == 200 and b"Block 9" in response.content


def test_parameters_a_page_does_not_read_neither_skip_nor_fill_the_cache(client):
    from django.core.cache import cache

    issue = published(title="Plain issue")
    first = client.get(issue_url(issue))
    kept = len(cache._cache)
    for n in range(5):
        response = client.get(f"{issue_url(issue)}?utm_source=x&n={n}")
        assert response["ETag"] == first["ETag"] and response.content == first.content
    assert len(cache._cache) == kept
    listed = client.get(f"{reverse('archive:index')}?page=1&junk=1&year=bad")
    assert b"junk" not in listed.content
    search = client.get("/search/?q=plain&utm_campaign=x")
    assert search["ETag"] == client.get("/search/?q=plain")["ETag"]
    assert search["ETag"] != client.get("/search/?q=other")["ETag"]


def test_an_edit_to_a_published_story_reaches_the_page_at_once(
    client, django_capture_on_commit_callbacks
):
    issue = published()
    story = story_in(issue, "Story", "The old words.")
    first = client.get(story_url(story))
    assert b"The old words." in first.content
    with django_capture_on_commit_callbacks(execute=True):
        block = story.blocks.get()
        block.text = "The corrected words."
        block.save()
    for url in (story_url(story), issue_url(issue)):
        response = client.get(url, headers={"If-None-Match": first["ETag"]})
        assert response.status_code == 200
        assert b"The corrected words." in response.content
        assert b"The old words." not in response.content


def test_publishing_an_issue_reaches_every_cached_page(client, django_capture_on_commit_callbacks):
    published(title="Already out")
    due = IssueFactory(
        title="Going out now",
        status=Issue.Status.SCHEDULED,
        publish_at=timezone.now() - dt.timedelta(minutes=1),
    )
    story_in(due, "Fresh story", "News.")
    before = {url: client.get(url) for url in ("/", reverse("archive:index"))}
    assert all(b"Going out now" not in response.content for response in before.values())
    assert client.get(issue_url(due)).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert publish_due_issues() == [due.pk]
    for url, response in before.items():
        after = client.get(url, headers={"If-None-Match": response["ETag"]})
        assert after.status_code == 200 and b"Going out now" in after.content
    assert client.get(issue_url(due)).status_code == 200


def test_a_404_is_never_cached_as_a_page(client):
    assert client.get("/archive/the-bell-weekly/1/").status_code == 404
    response = client.get("/archive/the-bell-weekly/1/")
    assert response.status_code == 404 and "ETag" not in response


def test_many_changes_in_one_transaction_move_the_stamp_once(django_capture_on_commit_callbacks):
    from archive.freshness import stamp_bump
    from archive.models import ArchiveStamp

    before = ArchiveStamp.objects.get(pk=1).number
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(20):
            stamp_bump()
    assert ArchiveStamp.objects.get(pk=1).number == before + 1
