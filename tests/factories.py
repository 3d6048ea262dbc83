"""factory_boy factories for the whole suite."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from issues.models import Block, Issue, Newsletter, Story

TEST_PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@newsroom.example")
    is_staff = True
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def groups(self, create, names, **kwargs):
        if create and names:
            self.groups.add(*Group.objects.filter(name__in=names))


class NewsletterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Newsletter
        django_get_or_create = ("slug",)

    name = "The Bell Weekly"
    slug = "the-bell-weekly"
    kicker = "THE BELL WEEKLY"
    sender_name = "The Bell"
    sender_email = "weekly@thebell.example"


class IssueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Issue

    newsletter = factory.SubFactory(NewsletterFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Issue title {n}")
    slug = factory.Sequence(lambda n: f"issue-title-{n}")
    intro = "Hello! This week we cover the news."


class StoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Story
        skip_postgeneration_save = True

    issue = factory.SubFactory(IssueFactory)
    position = factory.Sequence(lambda n: n + 1)
    headline = factory.Sequence(lambda n: f"Story headline {n}")
    takeaway = "It matters."

    @factory.post_generation
    def authors(self, create, users, **kwargs):
        if create and users:
            self.authors.add(*users)


class BlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Block

    story = factory.SubFactory(StoryFactory)
    position = factory.Sequence(lambda n: n + 1)
    kind = Block.Kind.PARAGRAPH
    text = factory.Sequence(lambda n: f"Paragraph number {n}.")


# Subscribers ---------------------------------------------------------------------------------


def _now():
    from django.utils import timezone

    return timezone.now()


class SubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "subscribers.Subscriber"

    email = factory.Sequence(lambda n: f"reader{n}@mail.example")
    name = factory.Sequence(lambda n: f"Reader {n}")
    status = "active"
    consent_at = factory.LazyFunction(_now)
    consent_method = "double_opt_in"
    consent_source = "sign-up: the-bell-weekly"


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "subscribers.Subscription"

    subscriber = factory.SubFactory(SubscriberFactory)
    newsletter = factory.SubFactory(NewsletterFactory)
    status = "active"
    confirmed_at = factory.LazyFunction(_now)


def published_issue(newsletter, readers: int):
    """An issue of ``newsletter`` published to ``readers`` new subscribers, every delivery
    pending: ``(issue, subscribers)``. No batch task is queued: nothing is sent until the test
    sends it."""
    subscribers = [SubscriptionFactory(newsletter=newsletter).subscriber for _ in range(readers)]
    return issue_published_now(newsletter, headline="Kremlin view"), subscribers


def issue_published_now(newsletter, *, headline: str):
    """An issue of one story, published by the scheduler's pass now to whoever is subscribed,
    every delivery pending; no batch task is queued."""
    import datetime as dt
    from unittest import mock

    from django.utils import timezone

    from issues.scheduling import publish_due_issues

    story = StoryFactory(issue__newsletter=newsletter, headline=headline)
    BlockFactory(story=story, text="What the talks may bring.")
    issue = story.issue
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.SCHEDULED, publish_at=timezone.now() - dt.timedelta(seconds=5)
    )
    with mock.patch("subscribers.dispatch.start.dispatch_enqueue"):
        assert publish_due_issues() == [issue.pk]
    issue.refresh_from_db()
    return issue


def story_sources_cited(story, user):
    """Cite a source for every block of ``story`` that attributes to one (as a journalist
    would before submitting): the source KESTREL, “a source close to the Kremlin”."""
    from sources.citing import citation_add, unsourced_blocks
    from sources.models import Source
    from sources.services import source_create

    source = Source.objects.filter(codename="KESTREL").first() or source_create(
        acting_user=user,
        codename="KESTREL",
        identity={"name": "Test Source", "contacts": "kestrel@example.org"},
        descriptors=["a source close to the Kremlin"],
        basis="participant",
        reliability="usually",
        motive="Wants the facts known.",
        anonymity_reason="Would be dismissed and prosecuted if named.",
    )
    # Approved as an editor would (the user may be the journalist who proposed them).
    source.descriptors.filter(approved_by__isnull=True).update(approved_by=user, approved_at=_now())
    for block in unsourced_blocks(story=story):
        citation_add(
            block=block,
            sources=[source],
            descriptor="a source close to the Kremlin",
            acting_user=user,
        )
    story.refresh_from_db()
    return story
