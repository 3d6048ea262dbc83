"""The public web archive: published issues only, the email's words, the sign-up form."""

import datetime as dt
import html
import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from issues.models import Issue
from tests.archive.helpers import PAST, issue_url, published
from tests.factories import BlockFactory, IssueFactory, NewsletterFactory, StoryFactory

pytestmark = pytest.mark.django_db

WORD = re.compile(r"\w+")


def article_of(page: str) -> str:
    return page[page.index("<article") : page.index("</article>")]


def words(text: str) -> list[str]:
    return WORD.findall(text)


def text_of(markup: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", markup))


def test_archive_issue_shows_every_word_of_the_sample_in_order(client, sample_issue, sample_text):
    response = client.get(issue_url(sample_issue))
    assert response.status_code == 200
    page = response.content.decode()
    shown = iter(words(text_of(article_of(page))))
    # Every word of the newsroom's text, in its order (the page adds only the number and date).
    expected = words(sample_text)
    missing = [word for word in expected if word not in shown]
    assert len(expected) > 900 and missing == []
    assert "\N{RIGHT SINGLE QUOTATION MARK}" in page and "\N{EM DASH}" in page


def test_archive_issue_lays_out_stories_lists_and_takeaways(client, sample_issue):
    page = client.get(issue_url(sample_issue)).content.decode()
    article = article_of(page)
    stories = article.split('<section class="story"')[1:]
    assert len(stories) == 2
    for story in stories:
        assert story.count("<li>") == 4
        assert story.count('<section class="takeaway"') == 1
        assert ">Why the world should care</h3>" in story
    assert '<p class="kicker">THE BELL WEEKLY</p>' in article
    assert '<h1 id="issue-title">The Kremlin view on Putin-Trump talks</h1>' in article
    assert "<h3>Trump\N{RIGHT SINGLE QUOTATION MARK}s signals</h3>" in article
    # Readable without anything from elsewhere: no program to run (the only script is the
    # page's JSON-LD description), only this site's stylesheets.
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/ld+json">']
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', page) == [
        "/static/subscribers/public.css",
        "/static/archive/archive.css",
    ]
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_archive_issue_costs_a_fixed_number_of_queries(
    client, sample_issue, django_assert_max_num_queries
):
    # The sample has some twenty blocks; a query per block or story would show. The queries:
    # the archive stamp, the issue, the issue again with its newsletter, its stories, their
    # blocks, their corrections and withdrawals, the issue before it (the corrections it
    # carries), and the newsletters whose feeds the page's head names.
    with django_assert_max_num_queries(9):
        assert client.get(issue_url(sample_issue)).status_code == 200


def test_archive_index_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    for number in range(1, 26):
        published(number=number)
    with django_assert_max_num_queries(7):
        assert client.get(reverse("archive:index")).status_code == 200
    with django_assert_max_num_queries(4):
        assert client.get("/").status_code == 200


@override_settings(TIME_ZONE="Europe/Riga")
def test_archive_index_lists_published_issues_newest_first_in_the_newsroom_zone(client):
    newsletter = NewsletterFactory()
    older = published(newsletter=newsletter, number=1, title="Older issue")
    # 23:30 UTC on 31 January is already 1 February in Riga.
    newer = published(
        newsletter=newsletter,
        number=2,
        title="Newer issue",
        published_at=dt.datetime(2026, 1, 31, 23, 30, tzinfo=dt.UTC),
    )
    Issue.objects.filter(pk=older.pk).update(
        published_at=dt.datetime(2026, 1, 20, 9, 0, tzinfo=dt.UTC)
    )
    page = client.get(reverse("archive:index")).content.decode()
    assert page.index("Newer issue") < page.index("Older issue")
    assert f'href="{issue_url(newer)}"' in page and f'href="{issue_url(older)}"' in page
    assert ">1 February 2026</time>" in page and ">20 January 2026</time>" in page
    assert "#2</span>" in page
    detail = client.get(issue_url(newer)).content.decode()
    assert ">1 February 2026</time>" in detail


UNPUBLISHED = {
    "draft": {"status": Issue.Status.DRAFT, "published_at": None},
    "approved": {"status": Issue.Status.APPROVED, "published_at": None},
    "scheduled, publish_at passed, not yet published": {
        "status": Issue.Status.SCHEDULED,
        "publish_at": "past",
        "published_at": None,
    },
    "sent without published_at": {"status": Issue.Status.SENT, "published_at": None},
    "sent, published_at in the future": {"status": Issue.Status.SENT, "published_at": "future"},
}


@pytest.mark.parametrize("fields", UNPUBLISHED.values(), ids=UNPUBLISHED.keys())
def test_archive_never_shows_an_unpublished_issue(client, fields):
    moments = {"past": timezone.now() - PAST, "future": timezone.now() + PAST}
    values = {key: moments.get(value, value) for key, value in fields.items()}
    issue = IssueFactory(title="Secret draft title", **values)
    StoryFactory(issue=issue, headline="Secret headline")
    assert client.get(issue_url(issue)).status_code == 404
    for url in (reverse("archive:index"), "/"):
        page = client.get(url).content.decode()
        assert "Secret draft title" not in page and issue_url(issue) not in page
    assert not Issue.objects.published().exists()


@pytest.mark.parametrize("status", ["sending", "sent", "corrected"])
def test_issue_published_includes_issues_that_went_out(status):
    issue = published(status=status)
    assert list(Issue.objects.published()) == [issue]


def test_archive_issue_404_for_another_newsletter_or_number(client):
    issue = published(number=3)
    other = NewsletterFactory(name="Other", slug="other", kicker="OTHER")
    assert client.get(reverse("archive:issue", args=[other.slug, 3])).status_code == 404
    assert client.get(reverse("archive:issue", args=[issue.newsletter.slug, 4])).status_code == 404
    assert client.get("/archive/no-such-newsletter/3/").status_code == 404


def test_front_page_is_the_archive_with_a_newsroom_sign_in_link(client):
    issue = published(title="On the front page")
    response = client.get("/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "On the front page" in page and f'href="{issue_url(issue)}"' in page
    # (A mirror has no newsroom: the static export leaves the link out.)
    assert re.search(rf'href="{reverse("admin:index")}"[^>]*>Newsroom sign-in</a>', page)


def form_fields(page: str) -> tuple[str, dict]:
    (form,) = re.findall(r"<form method=\"post\".*?</form>", page, re.S)
    action = re.search(r'action="([^"]+)"', form).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return action, hidden


@pytest.mark.parametrize("page_of", ["home", "issue"])
def test_archive_pages_carry_a_working_signup_form(page_of):
    issue = published()
    newsletter = issue.newsletter
    client = Client(enforce_csrf_checks=True)
    url = "/" if page_of == "home" else issue_url(issue)
    response = client.get(url)
    page = response.content.decode()
    action, hidden = form_fields(page)
    assert action == reverse("subscribers:signup_newsletter", args=[newsletter.slug])
    # No per-reader token: the page is the same for everyone, so it can be cached and mirrored.
    assert hidden == {"newsletter": newsletter.slug}
    assert not response.cookies
    assert f'<label for="signup-{newsletter.slug}-email">' in page
    assert f'id="signup-{newsletter.slug}-email"' in page
    response = client.post(action, {**hidden, "email": "reader@example.com", "website": ""})
    assert response.status_code == 302
    assert response["Location"] == reverse("subscribers:check_inbox")
    assert "Check your inbox" in client.get(response["Location"]).content.decode()


def test_home_shows_one_form_per_newsletter_with_distinct_ids(client):
    published()
    NewsletterFactory(name="The Bell Daily", slug="the-bell-daily", kicker="THE BELL DAILY")
    page = client.get("/").content.decode()
    assert page.count('<form method="post"') == 2
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def test_archive_issue_block_markup_is_sanitized_like_the_email(client):
    issue = published()
    story = StoryFactory(issue=issue, position=1, takeaway="")
    BlockFactory(story=story, position=1, text="A [link](javascript:alert(1)) and *emphasis*")
    page = client.get(issue_url(issue)).content.decode()
    assert "<em>emphasis</em>" in page
    assert 'href="javascript:' not in page


def test_archive_pages_may_be_indexed_but_subscriber_pages_may_not(client, sample_issue):
    archive = client.get(reverse("archive:index")).content.decode()
    signup = client.get(reverse("subscribers:signup")).content.decode()
    assert 'name="robots"' not in archive
    assert '<meta name="robots" content="noindex">' in signup


def test_mirror_addresses_are_checked_line_by_line_and_shown_in_every_footer(client):
    from django.core.exceptions import ValidationError

    newsletter = NewsletterFactory(mirror_urls="https://bell-mirror.example/\nnot an address")
    with pytest.raises(ValidationError, match="Line 2 is not a web address"):
        newsletter.full_clean()
    newsletter.mirror_urls = "https://bell-mirror.example/\n\n  http://bell.onion.example/  "
    newsletter.full_clean()
    newsletter.save()
    issue = published(newsletter=newsletter)
    for url in ("/", reverse("archive:index"), issue_url(issue)):
        footer = client.get(url).content.decode().split('<footer class="site-footer">')[1]
        assert '<a href="https://bell-mirror.example/">' in footer
        assert '<a href="http://bell.onion.example/">' in footer
