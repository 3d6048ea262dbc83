"""The public JSON API (/api/v1/): published issues and stories only, read-only, JSON only."""

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.throttling import AnonRateThrottle

from issues.models import Block, Issue, Story
from tests.factories import (
    BlockFactory,
    IssueFactory,
    NewsletterFactory,
    StoryFactory,
    UserFactory,
    story_sources_cited,
)

pytestmark = pytest.mark.django_db

PAST = dt.timedelta(hours=1)
BASE_URL = "https://news.example"

UNPUBLISHED = {
    "draft": {"status": Issue.Status.DRAFT},
    "approved": {"status": Issue.Status.APPROVED},
    "scheduled": {"status": Issue.Status.SCHEDULED, "publish_at": "future"},
    "scheduled, publish_at passed, not yet published": {
        "status": Issue.Status.SCHEDULED,
        "publish_at": "past",
    },
    "sent without published_at": {"status": Issue.Status.SENT, "published_at": None},
    "sent, published_at in the future": {"status": Issue.Status.SENT, "published_at": "future"},
}


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.BELLCMS_BASE_URL = BASE_URL


def published(**fields):
    fields = {"status": Issue.Status.SENT, "published_at": timezone.now() - PAST, **fields}
    return IssueFactory(**fields)


def unpublished(fields, **extra):
    moments = {"past": timezone.now() - PAST, "future": timezone.now() + PAST}
    return IssueFactory(
        **{key: moments.get(value, value) for key, value in fields.items()}, **extra
    )


def get_json(client, url, data=None, status=200):
    response = client.get(url, data)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def results(client, url, data=None):
    return get_json(client, url, data)["results"]


def api(name, *args):
    return reverse(f"api:{name}", args=args)


ISSUES, STORIES, NEWSLETTERS = "/api/v1/issues/", "/api/v1/stories/", "/api/v1/newsletters/"


# Newsletters -------------------------------------------------------------------------------


def test_api_newsletters_list_every_newsletter_with_its_feeds(client):
    NewsletterFactory(mirror_urls="https://mirror-one.example\n\n  https://mirror-two.example \n")
    NewsletterFactory(name="Bell Russian", slug="bell-ru", kicker="БЕЛЛ", language="ru")
    assert get_json(client, NEWSLETTERS) == [
        {
            "slug": "bell-ru",
            "name": "Bell Russian",
            "kicker": "БЕЛЛ",
            "language": "ru",
            "mirrors": [],
            "urls": {
                "archive": f"{BASE_URL}/archive/bell-ru/",
                "rss": f"{BASE_URL}/archive/bell-ru/rss.xml",
                "atom": f"{BASE_URL}/archive/bell-ru/atom.xml",
            },
        },
        {
            "slug": "the-bell-weekly",
            "name": "The Bell Weekly",
            "kicker": "THE BELL WEEKLY",
            "language": "en",
            "mirrors": ["https://mirror-one.example", "https://mirror-two.example"],
            "urls": {
                "archive": f"{BASE_URL}/archive/the-bell-weekly/",
                "rss": f"{BASE_URL}/archive/the-bell-weekly/rss.xml",
                "atom": f"{BASE_URL}/archive/the-bell-weekly/atom.xml",
            },
        },
    ]


def test_api_newsletter_detail_by_slug(client):
    NewsletterFactory()
    assert get_json(client, api("newsletter-detail", "the-bell-weekly"))["name"] == (
        "The Bell Weekly"
    )
    assert get_json(client, api("newsletter-detail", "nope"), status=404) == {
        "detail": "Not found."
    }


# Issues ------------------------------------------------------------------------------------


def test_api_issue_shows_intro_url_and_stories_in_order(client):
    issue = published(
        number=7,
        title="The Kremlin view",
        intro="Hello! This week *a lot* happened.\n\nSee [our site](https://thebell.example).",
    )
    second = StoryFactory(issue=issue, position=2, headline="Second story")
    first = StoryFactory(issue=issue, position=1, headline="Первая история")
    body = get_json(client, api("issue-detail", issue.pk))
    assert body == {
        "id": issue.pk,
        "newsletter": "the-bell-weekly",
        "number": 7,
        "title": "The Kremlin view",
        "published_at": body["published_at"],
        "url": f"{BASE_URL}/archive/the-bell-weekly/7/",
        "intro": {
            "markdown": issue.intro,
            "html": "<p>Hello! This week <em>a lot</em> happened.</p>"
            '<p>See <a href="https://thebell.example" target="_blank" '
            'rel="noopener noreferrer">our site</a>.</p>',
        },
        "stories": [
            {
                "id": first.pk,
                "slug": "первая-история",
                "headline": "Первая история",
                "url": f"{BASE_URL}/archive/the-bell-weekly/7/"
                "%D0%BF%D0%B5%D1%80%D0%B2%D0%B0%D1%8F-%D0%B8%D1%81%D1%82%D0%BE%D1%80%D0%B8%D1%8F/",
            },
            {
                "id": second.pk,
                "slug": "second-story",
                "headline": "Second story",
                "url": f"{BASE_URL}/archive/the-bell-weekly/7/second-story/",
            },
        ],
    }
    assert dt.datetime.fromisoformat(body["published_at"]) == issue.published_at
    # The address is the archive's own page.
    assert client.get(body["url"].removeprefix(BASE_URL)).status_code == 200
    assert client.get(body["stories"][1]["url"].removeprefix(BASE_URL)).status_code == 200


def test_api_issues_list_newest_published_first(client):
    newsletter = NewsletterFactory()
    now = timezone.now()
    old = published(newsletter=newsletter, number=1, published_at=now - dt.timedelta(days=9))
    new = published(newsletter=newsletter, number=3, published_at=now - dt.timedelta(days=1))
    mid = published(newsletter=newsletter, number=2, published_at=now - dt.timedelta(days=5))
    body = get_json(client, ISSUES)
    assert [issue["id"] for issue in body["results"]] == [new.pk, mid.pk, old.pk]
    assert body["next"] is None and body["previous"] is None


@pytest.mark.parametrize("fields", UNPUBLISHED.values(), ids=UNPUBLISHED.keys())
def test_api_never_shows_an_unpublished_issue_or_its_stories(client, fields):
    visible = published(number=1)
    visible_story = StoryFactory(issue=visible, headline="Public headline")
    issue = unpublished(fields, number=2, title="Secret draft title")
    story = StoryFactory(issue=issue, headline="Secret headline")
    BlockFactory(story=story, text="Secret paragraph.")
    unplaced = StoryFactory(issue=None, position=None, headline="Unplaced secret")

    assert [i["id"] for i in results(client, ISSUES)] == [visible.pk]
    assert [s["id"] for s in results(client, STORIES)] == [visible_story.pk]
    # The same answer as for an id that never existed: nothing confirms the issue exists.
    missing = get_json(client, api("issue-detail", 999_999), status=404)
    assert get_json(client, api("issue-detail", issue.pk), status=404) == missing
    for hidden in (story, unplaced):
        assert get_json(client, api("story-detail", hidden.pk), status=404)["detail"]
    for url in (ISSUES, STORIES, NEWSLETTERS, f"{STORIES}?q=secret", f"{ISSUES}?number=2"):
        page = client.get(url).content.decode()
        assert "Secret" not in page and "secret" not in page.replace("q=secret", "")


# Stories -----------------------------------------------------------------------------------


def test_api_story_is_whole_with_named_authors_only(client):
    issue = published(number=4, title="Issue four")
    named = UserFactory(username="jdoe", first_name="Jane", last_name="Doe")
    nameless = UserFactory(username="ghostwriter", email="ghost@newsroom.example")
    story = StoryFactory(
        issue=issue,
        headline="Talks in Alaska",
        takeaway="It *matters*.",
        authors=[named, nameless],
    )
    BlockFactory(story=story, position=3, kind=Block.Kind.BULLET, text="Second **point**")
    BlockFactory(story=story, position=1, kind=Block.Kind.HEADING, text="What happened")
    BlockFactory(
        story=story, position=2, kind=Block.Kind.BULLET, text="A [link](https://x.example)"
    )
    body = get_json(client, api("story-detail", story.pk))
    assert body == {
        "id": story.pk,
        "slug": "talks-in-alaska",
        "headline": "Talks in Alaska",
        "url": f"{BASE_URL}/archive/the-bell-weekly/4/talks-in-alaska/",
        "issue": {
            "id": issue.pk,
            "newsletter": "the-bell-weekly",
            "number": 4,
            "title": "Issue four",
            "published_at": body["issue"]["published_at"],
            "url": f"{BASE_URL}/archive/the-bell-weekly/4/",
        },
        "authors": ["Jane Doe"],
        "blocks": [
            {"kind": "heading", "text": "What happened", "html": "What happened"},
            {
                "kind": "bullet",
                "text": "A [link](https://x.example)",
                "html": 'A <a href="https://x.example" target="_blank" '
                'rel="noopener noreferrer">link</a>',
            },
            {"kind": "bullet", "text": "Second **point**", "html": "Second <strong>point</strong>"},
        ],
        "takeaway": {"markdown": "It *matters*.", "html": "<p>It <em>matters</em>.</p>"},
        "corrections": [],
        "notice": None,
    }
    assert client.get(body["url"].removeprefix(BASE_URL)).status_code == 200


def test_api_story_markup_is_sanitized(client):
    story = StoryFactory(issue=published(), takeaway="<script>alert(1)</script>")
    BlockFactory(story=story, text="[x](javascript:alert(1)) <b onclick='x()'>bold</b>")
    body = get_json(client, api("story-detail", story.pk))
    assert "<script" not in body["takeaway"]["html"]
    assert "href" not in body["blocks"][0]["html"]  # not a link: the text as typed
    assert "<b" not in body["blocks"][0]["html"]


def test_api_stories_list_newest_issue_first_in_issue_order(client):
    now = timezone.now()
    older = published(number=1, published_at=now - dt.timedelta(days=7))
    newer = published(number=2, published_at=now - dt.timedelta(days=1))
    o2 = StoryFactory(issue=older, position=2)
    n1 = StoryFactory(issue=newer, position=1)
    o1 = StoryFactory(issue=older, position=1)
    n2 = StoryFactory(issue=newer, position=2)
    assert [s["id"] for s in results(client, STORIES)] == [n1.pk, n2.pk, o1.pk, o2.pk]


def test_api_never_leaks_people_status_or_sources(client, journalist):
    journalist.first_name, journalist.last_name = "Ivan", "Petrov"
    journalist.email = "ivan.petrov@newsroom.example"
    journalist.save()
    issue = IssueFactory()
    story = StoryFactory(issue=issue, headline="Who said what", authors=[journalist])
    BlockFactory(story=story, text="A source told The Bell the talks will fail.")
    story_sources_cited(story, journalist)
    assert story.blocks.get().citations.exists()
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.SENT, published_at=timezone.now() - PAST
    )
    pages = [
        client.get(url).content.decode()
        for url in (
            NEWSLETTERS,
            ISSUES,
            STORIES,
            api("issue-detail", issue.pk),
            api("story-detail", story.pk),
            "/api/v1/schema/",
        )
    ]
    story_page = json.loads(pages[4])
    assert story_page["authors"] == ["Ivan Petrov"]
    for page in pages:
        for secret in (
            "journalist",  # the username
            "ivan.petrov@",
            "KESTREL",
            "Test Source",
            "close to the Kremlin",
            "kestrel@example.org",
            '"status"',
            '"revision"',
            "publish_at",
            "updated_at",
            "created_at",
            "sender",
            "citation",
        ):
            assert secret not in page
    assert str(journalist.pk) not in json.dumps(story_page["authors"])


def test_api_story_url_falls_back_to_the_issue_without_a_slug(client):
    issue = published(number=5)
    story = StoryFactory(issue=issue)
    type(story).objects.filter(pk=story.pk).update(slug="")
    body = get_json(client, api("story-detail", story.pk))
    assert body["url"] == f"{BASE_URL}/archive/the-bell-weekly/5/"


# Filters -----------------------------------------------------------------------------------


@pytest.fixture
def two_newsletters():
    """Weekly #1 (10 days ago), #2 (3 days ago); Daily #1 (1 day ago), each with two stories."""
    now = timezone.now()
    weekly = NewsletterFactory()
    daily = NewsletterFactory(name="The Bell Daily", slug="daily", kicker="DAILY")
    alice = UserFactory(username="alice", first_name="Alice", last_name="Adams")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Brown")
    issues = {
        "w1": published(newsletter=weekly, number=1, published_at=now - dt.timedelta(days=10)),
        "w2": published(newsletter=weekly, number=2, published_at=now - dt.timedelta(days=3)),
        "d1": published(newsletter=daily, number=1, published_at=now - dt.timedelta(days=1)),
    }
    stories = {}
    for key, issue in issues.items():
        stories[f"{key}a"] = StoryFactory(
            issue=issue, position=1, headline=f"Oil prices {key}", authors=[alice]
        )
        stories[f"{key}b"] = StoryFactory(
            issue=issue, position=2, headline=f"Kremlin talks {key}", authors=[bob]
        )
    return issues, stories, alice, bob


def ids(items):
    return [item["id"] for item in items]


def test_api_issues_filter_by_newsletter_number_and_dates(client, two_newsletters):
    issues, _, _, _ = two_newsletters
    w1, w2, d1 = issues["w1"].pk, issues["w2"].pk, issues["d1"].pk
    today = timezone.localdate()
    assert ids(results(client, ISSUES, {"newsletter": "the-bell-weekly"})) == [w2, w1]
    assert ids(results(client, ISSUES, {"newsletter": "daily"})) == [d1]
    assert ids(results(client, ISSUES, {"newsletter": "no-such"})) == []
    assert ids(results(client, ISSUES, {"number": 1})) == [d1, w1]
    assert ids(results(client, ISSUES, {"newsletter": "daily", "number": 1})) == [d1]
    after = today - dt.timedelta(days=3)
    assert ids(results(client, ISSUES, {"published_after": after})) == [d1, w2]
    before = today - dt.timedelta(days=3)
    assert ids(results(client, ISSUES, {"published_before": before})) == [w2, w1]
    window = {"published_after": today - dt.timedelta(days=5), "published_before": before}
    assert ids(results(client, ISSUES, window)) == [w2]


def test_api_stories_filter_by_newsletter_issue_author_and_words(client, two_newsletters):
    issues, s, _, bob = two_newsletters
    weekly = {"newsletter": "the-bell-weekly"}
    weekly_stories = [s[key].pk for key in ("w2a", "w2b", "w1a", "w1b")]
    assert ids(results(client, STORIES, weekly)) == weekly_stories
    assert ids(results(client, STORIES, {**weekly, "number": 1})) == [s["w1a"].pk, s["w1b"].pk]
    assert ids(results(client, STORIES, {"issue": issues["d1"].pk})) == [s["d1a"].pk, s["d1b"].pk]
    assert ids(results(client, STORIES, {"author": bob.pk})) == [
        s["d1b"].pk,
        s["w2b"].pk,
        s["w1b"].pk,
    ]
    assert ids(results(client, STORIES, {"q": "kremlin W2"})) == [s["w2b"].pk]
    assert ids(results(client, STORIES, {"q": "oil", "author": bob.pk})) == []


def test_api_stories_author_filter_takes_only_public_authors(client, two_newsletters):
    issues, _, _, _ = two_newsletters
    nameless = UserFactory(username="nameless")
    draft_only = UserFactory(username="drafty", first_name="Dora", last_name="Draft")
    StoryFactory(issue=issues["w1"], position=3, authors=[nameless])
    StoryFactory(issue=IssueFactory(number=9), authors=[draft_only])
    # The same refusal as for nobody at all: the filter cannot tell who wrote what unpublished.
    refusals = [
        get_json(client, STORIES, {"author": user_id}, status=400)
        for user_id in (nameless.pk, draft_only.pk, 999_999)
    ]
    assert refusals[0] == refusals[1] == refusals[2]
    assert list(refusals[0]) == ["author"]


@pytest.mark.parametrize(
    ("url", "query"),
    [
        (ISSUES, {"number": "two"}),
        (ISSUES, {"number": "0"}),
        (ISSUES, {"number": "1.5"}),
        (ISSUES, {"published_after": "yesterday"}),
        (STORIES, {"issue": "x"}),
        (STORIES, {"author": "x"}),
    ],
)
def test_api_refuses_an_unreadable_filter_as_json(client, url, query):
    body = get_json(client, url, query, status=400)
    assert list(body) == list(query)
    assert all(isinstance(message, str) for message in body[next(iter(query))])


# Pagination --------------------------------------------------------------------------------


def test_api_issues_cursor_pages_walk_every_issue_once_even_with_ties(client):
    newsletter = NewsletterFactory()
    moment = timezone.now() - PAST
    # Five issues published at the very same moment, two earlier ones.
    tied = [published(newsletter=newsletter, number=n, published_at=moment) for n in range(1, 6)]
    earlier = [
        published(newsletter=newsletter, number=n, published_at=moment - dt.timedelta(days=n))
        for n in (6, 7)
    ]
    seen, url, pages = [], f"{ISSUES}?page_size=2", 0
    while url:
        body = get_json(client, url)
        seen += ids(body["results"])
        url, pages = body["next"], pages + 1
        assert url is None or url.startswith("http://testserver/api/v1/issues/?cursor=")
    assert pages == 4
    assert sorted(seen[:5]) == sorted(issue.pk for issue in tied)
    assert seen == [*sorted(seen[:5], reverse=True), earlier[0].pk, earlier[1].pk]
    # And back from the last page: previous pages give the same items in the same order.
    url = body["previous"]
    back_pages = [ids(body["results"])]
    while url:
        page = get_json(client, url)
        back_pages.append(ids(page["results"]))
        url = page["previous"]
    assert [pk for page in reversed(back_pages) for pk in page] == seen


def test_api_stories_cursor_pages_keep_filters(client, two_newsletters):
    _, s, _, _ = two_newsletters
    body = get_json(client, STORIES, {"newsletter": "the-bell-weekly", "page_size": 2})
    assert ids(body["results"]) == [s["w2a"].pk, s["w2b"].pk]
    assert "newsletter=the-bell-weekly" in body["next"]
    rest = get_json(client, body["next"])
    assert ids(rest["results"]) == [s["w1a"].pk, s["w1b"].pk] and rest["next"] is None
    back = get_json(client, rest["previous"])
    assert ids(back["results"]) == ids(body["results"])


def test_api_story_pages_walk_back_exactly_through_stories_of_one_moment(client):
    # Every story of an issue shares its publishing time; previous links must still be exact.
    newsletter = NewsletterFactory()
    moment = timezone.now() - dt.timedelta(days=1)
    issues = [published(newsletter=newsletter, number=n, published_at=moment) for n in (1, 2)]
    for issue in issues:
        for position in range(1, 6):
            StoryFactory(issue=issue, position=position, headline=f"{issue.number}.{position}")
    forward, url = [], f"{STORIES}?page_size=3"
    pages = []
    while url:
        body = get_json(client, url)
        pages.append(ids(body["results"]))
        url, last = body["next"], body
    forward = [pk for page in pages for pk in page]
    assert len(forward) == len(set(forward)) == 10
    # Newest issue first (the higher id on a tie), each issue's stories in their order.
    headlines = dict(Story.objects.values_list("pk", "headline"))
    assert [headlines[pk] for pk in forward[:5]] == [f"2.{n}" for n in range(1, 6)]
    backward, url = [], last["previous"]
    while url:
        body = get_json(client, url)
        backward = ids(body["results"]) + backward
        url = body["previous"]
    assert backward + pages[-1] == forward


def test_api_page_size_is_capped(client):
    newsletter = NewsletterFactory()
    for number in range(1, 4):
        published(newsletter=newsletter, number=number)
    assert len(results(client, ISSUES, {"page_size": 1})) == 1
    assert len(results(client, ISSUES, {"page_size": 100_000})) == 3


def test_api_invalid_cursor_is_a_json_404(client):
    assert get_json(client, ISSUES, {"cursor": "not-a-cursor"}, status=404) == {
        "detail": "Invalid cursor"
    }


# Read-only, JSON, throttled ----------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_api_is_read_only(client, method):
    issue = published()
    story = StoryFactory(issue=issue)
    NewsletterFactory()
    for url in (
        ISSUES,
        api("issue-detail", issue.pk),
        STORIES,
        api("story-detail", story.pk),
        NEWSLETTERS,
        api("newsletter-detail", "the-bell-weekly"),
    ):
        response = getattr(client, method)(url, data={}, content_type="application/json")
        assert response.status_code == 405, url
        assert response["Content-Type"] == "application/json"
        assert "detail" in response.json()
    assert Issue.objects.filter(pk=issue.pk).exists()


def test_api_is_json_only_even_for_a_browser(client):
    NewsletterFactory()
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = client.get(NEWSLETTERS, headers={"accept": browser})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    # The browsable API is not there at all.
    assert client.get(NEWSLETTERS, {"format": "api"}).status_code == 404


def test_api_unknown_address_is_a_json_404(client):
    for url in ("/api/v1/nope/", "/api/v2/issues/", "/api/v1/issues/abc/", "/api/v1/issues/1/x/"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json() == {"detail": "Not found."}
    # A missing slash is still added, as everywhere else on the site.
    assert client.get("/api/v1/issues").status_code == 301


def test_api_throttles_anonymous_clients(client, monkeypatch):
    # The rate comes from settings (API_ANON_RATE), read once when DRF loads; two a minute here.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    NewsletterFactory()
    for _ in range(2):
        assert client.get(NEWSLETTERS).status_code == 200
    response = client.get(NEWSLETTERS)
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "detail" in response.json()
    # Another address has its own allowance; a forged X-Forwarded-For buys nothing.
    assert client.get(NEWSLETTERS, REMOTE_ADDR="10.0.0.9").status_code == 200
    forged = client.get(NEWSLETTERS, headers={"x-forwarded-for": "203.0.113.7"})
    assert forged.status_code == 429


def test_api_throttle_rate_comes_from_settings(settings):
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["anon"] == settings.API_ANON_RATE
    assert AnonRateThrottle.THROTTLE_RATES["anon"] == settings.API_ANON_RATE
    assert AnonRateThrottle.cache is cache  # the default cache, which every process shares


# Costs -------------------------------------------------------------------------------------


def _issue_with_content(newsletter, number, author):
    issue = published(newsletter=newsletter, number=number)
    for position in range(1, 4):
        story = StoryFactory(issue=issue, position=position, authors=[author])
        for block in range(1, 4):
            BlockFactory(story=story, position=block)
    return issue


@pytest.mark.parametrize("count", [1, 6])
def test_api_lists_cost_a_fixed_number_of_queries(client, django_assert_max_num_queries, count):
    newsletter = NewsletterFactory()
    author = UserFactory(username="writer", first_name="Wri", last_name="Ter")
    issues = [_issue_with_content(newsletter, number, author) for number in range(1, count + 1)]
    with django_assert_max_num_queries(2):
        assert len(results(client, ISSUES)) == count
    # Stories: with their blocks, authors, corrections and withdrawals.
    with django_assert_max_num_queries(5):
        assert len(results(client, STORIES)) == 3 * count
    with django_assert_max_num_queries(5):
        assert len(results(client, STORIES, {"newsletter": newsletter.slug, "q": "Story"})) == (
            3 * count
        )
    with django_assert_max_num_queries(6):  # + the author's check
        assert len(results(client, STORIES, {"author": author.pk})) == 3 * count
    with django_assert_max_num_queries(1):
        assert len(get_json(client, NEWSLETTERS)) == 1
    with django_assert_max_num_queries(2):
        get_json(client, api("issue-detail", issues[0].pk))
    story = issues[0].stories.first()
    with django_assert_max_num_queries(5):
        get_json(client, api("story-detail", story.pk))


@override_settings(DEBUG=False)
def test_api_schema_is_served_and_describes_every_endpoint(client):
    response = client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) == {
        "/api/v1/newsletters/",
        "/api/v1/newsletters/{slug}/",
        "/api/v1/issues/",
        "/api/v1/issues/{id}/",
        "/api/v1/stories/",
        "/api/v1/stories/{id}/",
    }
    assert all(set(operations) == {"get"} for operations in schema["paths"].values())
