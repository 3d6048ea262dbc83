"""Story permalinks: /archive/<newsletter>/<number>/<story-slug>/, stable once published."""

import pytest
from django.urls import reverse

from issues.models import Issue, Story
from tests.archive.helpers import issue_url, published, story_in, story_url
from tests.factories import IssueFactory, NewsletterFactory

pytestmark = pytest.mark.django_db


def test_story_page_shows_the_story_with_its_issue_and_neighbours(client):
    issue = published(title="The week in Moscow")
    first = story_in(issue, "Sanctions bite", "Banks stopped paying.", takeaway="It matters.")
    second = story_in(issue, "Oil money dries up", "Revenue fell by a third.")
    page = client.get(story_url(first)).content.decode()
    assert '<h1 id="story-1">Sanctions bite</h1>' in page
    assert "Banks stopped paying." in page and "It matters." in page
    assert "Revenue fell by a third." not in page
    assert f'href="{issue_url(issue)}"' in page and "The week in Moscow" in page
    assert f'<a rel="next" href="{story_url(second)}">' in page
    back = client.get(story_url(second)).content.decode()
    assert f'<a rel="prev" href="{story_url(first)}">' in back


def test_issue_page_links_each_headline_to_its_story(client):
    issue = published()
    story = story_in(issue, "Who gains from the talks", "Text.")
    page = client.get(issue_url(issue)).content.decode()
    assert f'<a href="{story_url(story)}">Who gains from the talks</a>' in page


def test_slugs_follow_the_headline_until_publication_then_stay(client):
    issue = IssueFactory(status=Issue.Status.DRAFT)
    story = story_in(issue, "First headline", "Text.")
    assert story.slug == "first-headline"
    story.headline = "Second headline"
    story.save()
    assert story.slug == "second-headline"
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.SENT, published_at=issue.created_at
    )
    url = story_url(story)
    story.headline = "Corrected headline after publication"
    story.save()
    story.refresh_from_db()
    assert story.slug == "second-headline"
    page = client.get(url).content.decode()
    assert "Corrected headline after publication" in page


def test_an_old_address_redirects_when_an_editor_changes_a_published_slug(client):
    issue = published()
    story = story_in(issue, "Long original headline", "Text.")
    old = story_url(story)
    story.slug = "short"
    story.save(update_fields=["slug"])
    response = client.get(old)
    assert response.status_code == 301
    assert (
        response["Location"]
        == story_url(story)
        == reverse("archive:story", args=[issue.newsletter.slug, issue.number, "short"])
    )
    assert client.get(response["Location"]).status_code == 200
    # Taking the old address back makes it the story's own again, not a redirect.
    story.slug = "long-original-headline"
    story.save(update_fields=["slug"])
    assert client.get(old).status_code == 200


def test_slugs_are_unique_within_an_issue_and_keep_cyrillic(client):
    newsletter = NewsletterFactory(language="ru")
    issue = published(newsletter=newsletter)
    one = story_in(issue, "Переговоры в Анкоридже", "Текст.")
    two = story_in(issue, "Переговоры в Анкоридже", "Другой текст.")
    nothing = story_in(issue, "!!!", "Текст без заголовка.")
    assert (one.slug, two.slug, nothing.slug) == (
        "переговоры-в-анкоридже",
        "переговоры-в-анкоридже-2",
        "story",
    )
    response = client.get(story_url(two))
    assert response.status_code == 200 and "Другой текст." in response.content.decode()
    assert '<html lang="ru"' in response.content.decode()


def test_a_story_of_an_unpublished_issue_or_of_another_issue_is_404(client):
    draft = IssueFactory(status=Issue.Status.APPROVED)
    hidden = Story(issue=draft, position=1, headline="Secret")
    hidden.save()
    assert client.get(story_url(hidden)).status_code == 404
    issue = published()
    other = published(newsletter=issue.newsletter)
    story = story_in(other, "Elsewhere", "Text.")
    wrong = reverse("archive:story", args=[issue.newsletter.slug, issue.number, story.slug])
    assert client.get(wrong).status_code == 404
    assert client.get(issue_url(issue) + "no-such-story/").status_code == 404


def test_story_page_costs_a_fixed_number_of_queries(client, django_assert_max_num_queries):
    issue = published()
    stories = [story_in(issue, f"Story {n}", *[f"Block {b}" for b in range(8)]) for n in range(6)]
    for story in stories:
        story.authors.create(username=f"author-{story.pk}", first_name="Anna", last_name="K")
    # Two of them read the stories' corrections and withdrawals.
    with django_assert_max_num_queries(8):
        assert client.get(story_url(stories[2])).status_code == 200
