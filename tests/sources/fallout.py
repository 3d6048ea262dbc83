"""The fallout scenario: a contributor found out, three of their stories in two sent issues,
one citing a source they brought that a colleague also cites in a fourth story."""

import datetime as dt
from types import SimpleNamespace

from django.utils import timezone

from issues.models import Issue, Story
from sources.models import Citation
from sources.services import source_create
from tests.factories import BlockFactory, IssueFactory, NewsletterFactory, StoryFactory

from .conftest import descriptors_approved, identity, source_fields


def _story(issue, position, headline, author, text):
    story = StoryFactory(
        issue=issue,
        position=position,
        headline=headline,
        status=Story.Status.APPROVED,
        authors=[author],
    )
    BlockFactory(story=story, position=1, text=text)
    return story


def _cite(story, source, author):
    citation = Citation.objects.create(
        block=story.blocks.get(), descriptor="a Kremlin insider", created_by=author
    )
    citation.sources.add(source)


def newsroom_fallout(*, contributor, colleague, editor):
    newsletter = NewsletterFactory()
    now = timezone.now()
    first = IssueFactory(
        newsletter=newsletter,
        number=1,
        status=Issue.Status.SENT,
        published_at=now - dt.timedelta(days=14),
    )
    second = IssueFactory(
        newsletter=newsletter,
        number=2,
        status=Issue.Status.SENT,
        published_at=now - dt.timedelta(days=7),
    )
    source = descriptors_approved(
        source_create(
            acting_user=contributor,
            codename="KESTREL",
            identity=identity(),
            descriptors=["a Kremlin insider"],
            **source_fields(),
        ),
        editor,
    )
    stories = SimpleNamespace(
        tanker=_story(first, 1, "The tanker that never sailed", contributor, "It sailed empty."),
        governor=_story(first, 2, "The governor's second passport", contributor, "He has two."),
        minister=_story(
            second, 1, "The minister's secret meeting", contributor, "They met in May."
        ),
        budget=_story(second, 2, "The budget nobody read", colleague, "It was cut again."),
        weather=_story(second, 3, "A cold winter ahead", colleague, "It will be cold."),
    )
    _cite(stories.minister, source, contributor)
    _cite(stories.budget, source, colleague)
    return SimpleNamespace(
        newsletter=newsletter, issues=(first, second), source=source, stories=stories
    )
