"""How readers and machines find the archive: feeds, sitemap, robots.txt, head tags."""

import json
import re

import feedparser
import pytest
from django.conf import settings
from django.urls import reverse

from tests.archive.helpers import issue_url, published, story_in, story_url
from tests.factories import IssueFactory, NewsletterFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue():
    issue = published(title="The Kremlin view", intro="Hello! This week: the summit.")
    story = story_in(issue, "Summit in Alaska", "Putin *flew* to Anchorage.", takeaway="Why.")
    story.authors.create(username="anna", first_name="Anna", last_name="Ivanova")
    story_in(issue, "Oil", "Revenue fell.")
    return issue


@pytest.mark.parametrize("kind", ["rss", "atom"])
def test_feeds_carry_every_published_issue_in_full(client, issue, kind):
    IssueFactory(newsletter=issue.newsletter, title="Unpublished draft")
    response = client.get(reverse(f"archive:{kind}", args=[issue.newsletter.slug]))
    assert response.status_code == 200
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == {"rss": "rss20", "atom": "atom10"}[kind]
    assert feed.feed.title == "The Bell Weekly"
    (entry,) = feed.entries
    assert entry.title == f"#{issue.number} The Kremlin view"
    assert entry.link == f"{settings.BELLCMS_BASE_URL}{issue_url(issue)}"
    body = entry.content[0].value if kind == "atom" else entry.description
    assert "Summit in Alaska" in body and "<em>flew</em>" in body and "Revenue fell." in body
    assert "Unpublished draft" not in response.content.decode()


def test_feed_of_an_unknown_newsletter_is_404(client):
    assert client.get("/archive/no-such/rss.xml").status_code == 404


def test_every_page_names_the_feeds_in_its_head(client, issue):
    NewsletterFactory(name="Bell Daily", slug="bell-daily", kicker="DAILY")
    story = issue.stories.get(position=1)
    for url in ("/", reverse("archive:index"), issue_url(issue), story_url(story), "/subscribe/"):
        head = client.get(url).content.decode().split("</head>")[0]
        for slug in ("the-bell-weekly", "bell-daily"):
            assert '<link rel="alternate" type="application/rss+xml" title="' in head
            assert f'href="/archive/{slug}/rss.xml"' in head, url
            assert f'href="/archive/{slug}/atom.xml"' in head, url


def test_sitemap_lists_published_issues_and_stories_only(client, issue):
    draft = IssueFactory(newsletter=issue.newsletter)
    hidden = story_in(draft, "Hidden story", "Text.")
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    locations = re.findall(r"<loc>([^<]+)</loc>", response.content.decode())
    stories = [story_url(story) for story in issue.stories.order_by("position")]
    assert sorted(locations) == sorted(
        f"{settings.BELLCMS_BASE_URL}{path}" for path in [issue_url(issue), *stories]
    )
    assert hidden.slug not in response.content.decode()


def test_robots_txt_lets_crawlers_read_the_archive_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    text = response.content.decode()
    assert response["Content-Type"].startswith("text/plain")
    assert "Disallow: /admin/" in text and "Disallow: /preferences/" in text
    assert "Disallow: /archive/" not in text
    assert f"Sitemap: {settings.BELLCMS_BASE_URL}/sitemap.xml" in text


def structured(page: str) -> dict:
    (data,) = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    return json.loads(data)


def test_story_page_describes_itself_for_search_engines_and_link_previews(client, issue):
    story = issue.stories.get(position=1)
    page = client.get(story_url(story)).content.decode()
    canonical = f"{settings.BELLCMS_BASE_URL}{story_url(story)}"
    assert f'<link rel="canonical" href="{canonical}">' in page
    assert f'<meta property="og:url" content="{canonical}">' in page
    assert '<meta property="og:type" content="article">' in page
    assert '<meta property="og:title" content="Summit in Alaska">' in page
    assert '<meta name="twitter:card" content="summary">' in page
    assert '<meta name="description" content="Putin flew to Anchorage.">' in page
    article = structured(page)
    assert article["@type"] == "NewsArticle" and article["headline"] == "Summit in Alaska"
    assert article["author"] == [{"@type": "Person", "name": "Anna Ivanova"}]
    assert article["datePublished"] == issue.published_at.isoformat()
    assert article["publisher"]["name"] == "The Bell Weekly"
    assert 'name="robots"' not in page


def test_json_ld_cannot_end_its_script(client):
    issue = published(title="</script><script>alert(1)</script>")
    page = client.get(issue_url(issue)).content.decode()
    assert "<script>alert(1)" not in page
    assert structured(page)["headline"] == "</script><script>alert(1)</script>"


def test_authors_without_a_full_name_are_never_named(client, issue):
    story = issue.stories.get(position=2)
    story.authors.create(username="secret-login")
    page = client.get(story_url(story)).content.decode()
    assert "secret-login" not in page
    assert structured(page)["author"] == [{"@type": "Organization", "name": "The Bell Weekly"}]


def test_sign_up_and_preference_pages_keep_noindex(client, issue):
    page = client.get("/subscribe/").content.decode()
    assert '<meta name="robots" content="noindex">' in page
    preferences = client.get("/preferences/not-a-valid-token/").content.decode()
    assert '<meta name="robots" content="noindex">' in preferences
    # The newsroom's pages: Django's admin asks robots to stay out of every one of them.
    assert (
        '<meta name="robots" content="NONE,NOARCHIVE">'
        in client.get("/admin/login/").content.decode()
    )
    for url in ("/", reverse("archive:index"), issue_url(issue)):
        assert 'name="robots"' not in client.get(url).content.decode()
