"""Published issues and stories for the archive's tests."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from issues.models import Issue
from tests.factories import BlockFactory, IssueFactory, StoryFactory

PAST = dt.timedelta(hours=1)


def published(**fields):
    fields = {"status": Issue.Status.SENT, "published_at": timezone.now() - PAST, **fields}
    return IssueFactory(**fields)


def story_in(issue, headline, *texts, position=None, **fields):
    position = position or issue.stories.count() + 1
    story = StoryFactory(issue=issue, position=position, headline=headline, **fields)
    for n, text in enumerate(texts, start=1):
        BlockFactory(story=story, position=n, text=text)
    return story


def issue_url(issue):
    return reverse("archive:issue", args=[issue.newsletter.slug, issue.number])


def story_url(story):
    issue = story.issue
    return reverse("archive:story", args=[issue.newsletter.slug, issue.number, story.slug])
