"""Search in the public archive: ranked, stemmed in each newsletter's language, highlighted
safely, only ever over published issues, and kept current as stories change."""

# ruff: noqa: RUF001 - Russian stories are written in Cyrillic

import datetime as dt
import functools
import re
from io import StringIO
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from archive.search.backends import PlainSearch, PostgresSearch, search_backend
from archive.search.models import StoryDocument
from archive.search.views import HITS_PER_PAGE, MAX_QUERY_CHARS
from issues.models import Block, BulletPoint, Issue
from issues.scheduling import publish_due_issues
from tests.factories import BlockFactory, IssueFactory, NewsletterFactory, StoryFactory

pytestmark = pytest.mark.django_db

PAST = dt.timedelta(hours=1)
SEARCH = reverse("search:search")
HIT = re.compile(r'<h3><a href="([^"]+)">(.*?)</a></h3>', re.S)
SNIPPET = re.compile(r'<p class="search-hit-snippet">(.*?)</p>', re.S)


@pytest.fixture
def postgres():
    """For what only full-text search does (stemming, ranking, web search syntax). CI runs on
    PostgreSQL, where this never skips (and a skip there fails); on SQLite the plain search is
    tested by the tests that do not ask for this."""
    if connection.vendor != "postgresql":
        pytest.skip("full-text search needs PostgreSQL")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Runs what waits for a commit (search rows, the archive's stamp) as the commit would:
    each test runs inside one transaction that is never committed."""
    return functools.partial(django_capture_on_commit_callbacks, execute=True)


def published_issue(newsletter=None, *, days_ago=0, **fields):
    fields.setdefault("newsletter", newsletter or NewsletterFactory())
    when = timezone.now() - PAST - dt.timedelta(days=days_ago)
    return IssueFactory(status=Issue.Status.SENT, published_at=when, **fields)


def story_in(issue, headline, *texts, takeaway="It matters."):
    story = StoryFactory(
        issue=issue, position=issue.stories.count() + 1, headline=headline, takeaway=takeaway
    )
    for position, text in enumerate(texts, start=1):
        BlockFactory(story=story, position=position, text=text)
    return story


def story_url(story):
    issue = story.issue
    return reverse("archive:story", args=[issue.newsletter.slug, issue.number, story.slug])


def search(client, q, **params):
    response = client.get(SEARCH, {"q": q, **params})
    assert response.status_code == 200
    return response.content.decode()


def hit_urls(page: str) -> list[str]:
    return [url for url, _ in HIT.findall(page)]


def russian_newsletter():
    return NewsletterFactory(name="Белл", slug="bell-ru", kicker="БЕЛЛ", language="ru")


def test_search_ranks_headline_above_body_above_takeaway(client, committed, postgres):
    with committed():
        # The weaker hits are in newer issues, so the order is not merely newest first.
        headline = story_in(published_issue(days_ago=3), "Pipeline deal signed", "Gas flows.")
        body = story_in(published_issue(days_ago=2), "Gas deal", "The pipeline opens in May.")
        takeaway = story_in(
            published_issue(days_ago=1), "Energy talks", "Gas flows.", takeaway="A pipeline."
        )
        story_in(published_issue(), "Unrelated", "Nothing to see.")
    page = search(client, "pipelines")
    assert hit_urls(page) == [story_url(headline), story_url(body), story_url(takeaway)]
    assert "3 stories found" in page


def test_search_stems_in_the_newsletters_language(client, committed, postgres):
    with committed():
        story = story_in(
            published_issue(russian_newsletter()),
            "Кремль и Белый дом",
            "Об этом говорили на переговорах в Стамбуле.",
        )
    assert StoryDocument.objects.get(story=story).config == "russian"
    page = search(client, "переговоры")
    assert hit_urls(page) == [story_url(story)]
    assert "<mark>переговорах</mark>" in page


def test_search_shows_newsletter_issue_and_highlighted_snippet(client, committed):
    with committed():
        issue = published_issue(title="The Kremlin view")
        story = story_in(
            issue,
            "Sanctions and <b>tariffs</b>",
            "Officials said <script>alert(1)</script> the *tariffs* will rise & stay.",
        )
    page = search(client, "tariffs")
    [(url, headline)] = HIT.findall(page)
    assert url == story_url(story)
    assert headline == "Sanctions and &lt;b&gt;<mark>tariffs</mark>&lt;/b&gt;"
    [snippet] = SNIPPET.findall(page)
    assert "<mark>tariffs</mark>" in snippet and "&amp; stay" in snippet
    assert "<script>alert" not in page and "<b>tariffs" not in page
    assert f"#{issue.number} The Kremlin view" in page and "The Bell Weekly" in page
    # The query stays in the boxes.
    assert 'name="q" value="tariffs"' in page


def test_search_escapes_script_text_in_a_story(client, committed):
    with committed():
        story_in(published_issue(), "Scripts", "Someone typed <script>alert(1)</script> here.")
    page = search(client, "typed")
    [snippet] = SNIPPET.findall(page)
    assert "<mark>typed</mark> &lt;script&gt;alert(1)&lt;/script&gt; here." in snippet
    assert "<script>" not in page.split("<main", 1)[1]
    # Words between angle brackets are words like any other, not an HTML tag to skip.
    assert len(hit_urls(search(client, "alert"))) == 1


def test_search_never_finds_stories_of_unpublished_issues(client, committed):
    with committed():
        newsletter = NewsletterFactory()
        for status in (Issue.Status.DRAFT, Issue.Status.APPROVED):
            story_in(IssueFactory(newsletter=newsletter, status=status), "Embargoed deal")
        scheduled = IssueFactory(
            newsletter=newsletter,
            status=Issue.Status.SCHEDULED,
            publish_at=timezone.now() - dt.timedelta(seconds=5),
        )
        story = story_in(scheduled, "Embargoed deal", "Signed at dawn.")
    # Indexed like every story: the embargo is applied when searching, not when indexing.
    assert StoryDocument.objects.count() == 3
    assert "No published story matches" in search(client, "embargoed")

    with committed(), mock.patch("subscribers.dispatch.start.dispatch_enqueue"):
        assert publish_due_issues() == [scheduled.pk]
    assert hit_urls(search(client, "embargoed")) == [story_url(story)]


def test_search_follows_edits_to_a_published_story(client, committed):
    with committed():
        story = story_in(published_issue(), "Budget", "The zebra crossing.")
    assert len(hit_urls(search(client, "zebra"))) == 1

    block = story.blocks.get()
    with committed():
        block.text = "The giraffe crossing."
        block.save()
        BulletPoint.objects.create(story=story, position=2, text="A pelican flew by.")
    assert hit_urls(search(client, "zebra")) == []
    assert len(hit_urls(search(client, "giraffe"))) == 1
    assert len(hit_urls(search(client, "pelican"))) == 1

    with committed():
        story.headline = "Parliament votes"
        story.save()
        Block.objects.filter(kind=Block.Kind.BULLET).get().delete()
    assert hit_urls(search(client, "parliament")) == [story_url(story)]
    assert hit_urls(search(client, "pelican")) == []

    with committed():
        story.delete()
    assert hit_urls(search(client, "parliament")) == []
    assert not StoryDocument.objects.exists()


def test_search_follows_a_newsletters_language(client, committed, postgres):
    with committed():
        newsletter = NewsletterFactory()
        story = story_in(published_issue(newsletter), "Итоги", "Об этом говорили на переговорах.")
    assert hit_urls(search(client, "переговоры")) == []  # English stems no Russian words

    with committed():
        newsletter.language = "ru"
        newsletter.save()
    assert hit_urls(search(client, "переговоры")) == [story_url(story)]

    # An issue moved to another newsletter takes that newsletter's language.
    with committed():
        issue = story.issue
        issue.newsletter = NewsletterFactory(name="The Bell English", slug="bell-en", kicker="EN")
        issue.save()
    assert hit_urls(search(client, "переговоры")) == []
    assert StoryDocument.objects.get(story=story).config == "english"


@pytest.mark.parametrize("stories", [2, 30])
def test_search_costs_a_fixed_number_of_queries(
    client, committed, django_assert_max_num_queries, stories
):
    with committed():
        for n in range(stories):
            issue = published_issue(days_ago=n)
            story_in(issue, f"Budget {n}", "The budget grows.", "Spending too.")
    # The archive's stamp, the newsletters (for the filter, and the feeds in the page's head),
    # the count, and one page of stories with their issues, newsletters and snippets.
    with django_assert_max_num_queries(5):
        page = search(client, "budget")
    assert len(hit_urls(page)) == min(stories, HITS_PER_PAGE)


def test_search_pages_keep_the_query_and_filter(client, committed):
    with committed():
        weekly = NewsletterFactory()
        other = NewsletterFactory(name="The Bell Daily", slug="the-bell-daily", kicker="DAILY")
        for n in range(HITS_PER_PAGE + 5):
            story_in(published_issue(weekly, days_ago=n), f"Oil price {n}", "Oil again.")
        story_in(published_issue(other), "Oil elsewhere", "Oil in another newsletter.")

    first = search(client, "oil", newsletter="the-bell-weekly")
    assert len(hit_urls(first)) == HITS_PER_PAGE
    assert f"{HITS_PER_PAGE + 5} stories found" in first
    assert 'href="?q=oil&amp;newsletter=the-bell-weekly&amp;page=2"' in first
    second = search(client, "oil", newsletter="the-bell-weekly", page=2)
    assert len(hit_urls(second)) == 5
    assert "Oil elsewhere" not in first + second
    # A page past the last shows the last; a page that is no number, the first.
    assert hit_urls(search(client, "oil", newsletter="the-bell-weekly", page=99)) == hit_urls(
        second
    )
    assert hit_urls(search(client, "oil", newsletter="the-bell-weekly", page="x")) == hit_urls(
        first
    )

    # An unknown newsletter filters nothing out.
    assert f"{HITS_PER_PAGE + 6} stories found" in search(client, "oil", newsletter="nope")


def test_search_without_words_shows_the_form_alone(client, committed):
    with committed():
        story_in(published_issue(), "Anything")
    page = search(client, "")
    assert '<label for="search-page-q">' in page and '<select id="search-page-newsletter"' in page
    assert "stories found" not in page and "No published story" not in page
    assert "No published story matches “unicorns”." in search(client, "unicorns")


@pytest.mark.parametrize(
    "q",
    [
        "budget " * 500,
        "!!! ??? ...",
        '"',
        '"unclosed budget',
        "-budget",
        "budget -spending",
        "budget OR",
        "OR",
        "a & | ! ( ) :* <-> \\",
        "budget\x00\x01",
        "\ue000budget\ue001",
        "' ; DROP TABLE issues_story; --",
    ],
)
def test_search_answers_any_query(client, committed, q):
    with committed():
        story_in(published_issue(), "Budget", "The budget grows.")
    response = client.get(SEARCH, {"q": q, "page": "x", "newsletter": "<>"})
    assert response.status_code == 200
    assert len(response.context["query_text"]) <= MAX_QUERY_CHARS
    assert "\x00" not in response.context["query_text"]


def test_search_understands_web_search_syntax(client, committed, postgres):
    with committed():
        issue = published_issue()
        both = story_in(issue, "Oil and gas", "Prices rise.")
        oil = story_in(issue, "Oil alone", "Prices fall.")
        gas = story_in(issue, "Gas alone", "Prices stay.")
    assert set(hit_urls(search(client, "oil -gas"))) == {story_url(oil)}
    assert set(hit_urls(search(client, "oil OR gas"))) == set(map(story_url, (both, oil, gas)))
    assert hit_urls(search(client, '"gas alone"')) == [story_url(gas)]


def test_search_vectors_are_stored_under_a_gin_index(committed, postgres):
    with committed():
        story = story_in(published_issue(), "Budget", "The budget grows.")
    assert StoryDocument.objects.get(story=story).vector is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'archive_storydocument'"
            " AND indexname = 'archive_storydocument_vector_gin'"
        )
        [(definition,)] = cursor.fetchall()
    assert "USING gin (vector)" in definition
    assert isinstance(search_backend(), PostgresSearch)


def test_archive_reindex_rebuilds_every_story(client, committed):
    with committed():
        stories = [story_in(published_issue(), f"Harvest {n}", "Grain.") for n in range(3)]
    StoryDocument.objects.all().delete()
    assert hit_urls(search(client, "harvest")) == []
    out = StringIO()
    with committed():
        call_command("archive_reindex", stdout=out)
    assert "Indexed 3 stories." in out.getvalue()
    assert set(hit_urls(search(client, "harvest"))) == set(map(story_url, stories))


# The plain backend is what SQLite (`make run`) uses; it runs here on PostgreSQL, called directly.


def test_plain_search_puts_headline_hits_first_then_the_newest(committed):
    with committed():
        old_headline = story_in(published_issue(days_ago=5), "Wheat exports", "Grain.")
        new_body = story_in(published_issue(days_ago=1), "Grain", "Wheat and barley.")
        old_body = story_in(published_issue(days_ago=3), "Harvest", "WHEAT fields.")
        story_in(IssueFactory(status=Issue.Status.SCHEDULED, publish_at=timezone.now()), "Wheat")
        story_in(published_issue(), "Barley", "Barley only.")
    found = PlainSearch().matches("wheat")
    assert [document.story for document in found] == [old_headline, new_body, old_body]
    assert [d.story for d in PlainSearch().matches("wheat -barley")] == [old_headline, old_body]
    assert not PlainSearch().matches("!!! OR").exists()


def test_plain_search_highlights_escaped_excerpts(committed):
    with committed():
        story_in(
            published_issue(),
            "Wheat <b>prices</b>",
            "Lorem ipsum " * 40 + "then <script>wheat</script> & more " + "dolor sit " * 40,
        )
    [document] = PlainSearch().matches("WHEAT")
    headline, snippet = PlainSearch().highlight(document, "WHEAT")
    assert headline == "<mark>Wheat</mark> &lt;b&gt;prices&lt;/b&gt;"
    assert "&lt;script&gt;<mark>wheat</mark>&lt;/script&gt; &amp; more" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …") and len(snippet) < 400
