"""Embargo everywhere: an issue the scheduler has not yet published, and every story in it, is
absent from every public address (pages, search, feeds, sitemap, API) until `publish_due`
publishes it, and present everywhere once it has."""

import datetime as dt

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from issues.models import Issue
from issues.scheduling import publish_due_issues
from tests.archive.helpers import published, story_in
from tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

WORD = "Zanzibarite"
TITLE = "An issue under embargo"


def public_names() -> set[str]:
    """Every named public address: the archive, search and API namespaces and the site's own."""
    names = {"home", "sitemap", "robots_txt"}
    resolver = get_resolver()
    for namespace in ("archive", "search", "api"):
        _prefix, sub = resolver.namespace_dict[namespace]
        names |= {f"{namespace}:{name}" for name in sub.reverse_dict if isinstance(name, str)}
    return names


def walk(issue, stories, newsletter) -> dict[str, str]:
    """Each public address, by URL name, filled in with the embargoed issue and its stories."""
    slug, number = newsletter.slug, issue.number
    urls = {
        "home": "/",
        "sitemap": "/sitemap.xml",
        "robots_txt": "/robots.txt",
        "archive:index": f"{reverse('archive:index')}?q={WORD}",
        "archive:newsletter": reverse("archive:newsletter", args=[slug]),
        "archive:rss": reverse("archive:rss", args=[slug]),
        "archive:atom": reverse("archive:atom", args=[slug]),
        "archive:corrections": reverse("archive:corrections", args=[slug]),
        "archive:corrections_rss": reverse("archive:corrections_rss", args=[slug]),
        "archive:corrections_log": reverse("archive:corrections_log", args=[slug]),
        "archive:issue": reverse("archive:issue", args=[slug, number]),
        "search:search": f"{reverse('search:search')}?q={WORD}",
        "api:newsletter-list": reverse("api:newsletter-list"),
        "api:newsletter-detail": reverse("api:newsletter-detail", args=[slug]),
        "api:issue-list": reverse("api:issue-list"),
        "api:issue-detail": reverse("api:issue-detail", args=[issue.pk]),
        "api:story-list": f"{reverse('api:story-list')}?q={WORD}",
        "api:schema": reverse("api:schema"),
    }
    for n, story in enumerate(stories):
        urls[f"archive:story {n}"] = reverse("archive:story", args=[slug, number, story.slug])
        urls[f"api:story-detail {n}"] = reverse("api:story-detail", args=[story.pk])
    return urls


# Addresses of the embargoed issue or one of its stories: 404 before, 200 after.
OWN = ("archive:issue", "archive:story", "api:issue-detail", "api:story-detail")


def traces(issue, stories) -> list[str]:
    """What would give the issue away on a page that lists things (the word alone may be the
    reader's own query, shown back in the search box)."""
    return [
        TITLE,
        *(story.headline for story in stories),
        "A body.",
        *(story.slug for story in stories),
        f'"id":{issue.pk},',
    ]


@pytest.fixture
def embargoed(django_capture_on_commit_callbacks):
    # As in the newsroom, where each edit commits: the search index follows on commit.
    with django_capture_on_commit_callbacks(execute=True):
        return _embargoed()


def _embargoed():
    out = published(title="Already out")
    story_in(out, "A story everyone may read", "Old news.")
    issue = IssueFactory(
        newsletter=out.newsletter,
        title=TITLE,
        status=Issue.Status.SCHEDULED,
        publish_at=timezone.now() + dt.timedelta(minutes=10),
    )
    stories = [
        story_in(issue, f"{WORD} headline", "A body.", takeaway="It matters."),
        story_in(issue, "Second story", f"The word {WORD} in a paragraph."),
        story_in(issue, "Third story", "Nothing here.", takeaway=f"Takeaway on {WORD}."),
    ]
    return issue, stories


def test_every_public_address_is_walked(embargoed):
    issue, stories = embargoed
    walked = {name.split(" ")[0] for name in walk(issue, stories, issue.newsletter)}
    assert public_names() - walked == set()


def test_an_issue_is_nowhere_until_the_scheduler_publishes_it(
    client, embargoed, django_capture_on_commit_callbacks
):
    issue, stories = embargoed
    urls = walk(issue, stories, issue.newsletter)

    def look(url, name):
        response = client.get(url)
        own = name.split(" ")[0] in OWN
        return response, own

    # Before its time, and when its time has come but the scheduler has not run.
    for moment in ("scheduled", "due"):
        if moment == "due":
            Issue.objects.filter(pk=issue.pk).update(
                publish_at=timezone.now() - dt.timedelta(minutes=1)
            )
        for name, url in urls.items():
            response, own = look(url, name)
            if own:
                assert response.status_code == 404, (moment, name, url)
                continue
            assert response.status_code == 200, (moment, name, url)
            body = response.content.decode()
            for trace in traces(issue, stories):
                assert trace not in body, (moment, name, url, trace)

    with django_capture_on_commit_callbacks(execute=True):
        assert publish_due_issues() == [issue.pk]

    for name, url in urls.items():
        response, own = look(url, name)
        assert response.status_code == 200, ("published", name, url)
    expected = {
        "archive:index": TITLE,
        "archive:newsletter": TITLE,
        "home": TITLE,
        "archive:rss": WORD,
        "archive:atom": WORD,
        "archive:issue": WORD,
        "sitemap": stories[1].slug,
        "search:search": stories[1].slug,
        "api:issue-list": TITLE,
        "api:issue-detail": TITLE,
        "api:story-list": WORD,
        "archive:story 1": WORD,
        "api:story-detail 2": WORD,
    }
    for name, trace in expected.items():
        assert trace in client.get(urls[name]).content.decode(), (name, trace)
