"""What readers may see, read in a fixed number of queries whatever an issue holds.

Everything public starts here: ``published_issues()`` and ``published_stories()`` are the only
doors, so pages, feeds, the sitemap, search and the API share one embargo rule
(``Issue.objects.published()``: gone out and published by now).
"""

from django.contrib.auth import get_user_model
from django.db.models import Prefetch, QuerySet
from django.urls import reverse

from issues.models import Block, Issue, Newsletter, Story, story_record_prefetches


def published_issues() -> QuerySet:
    return Issue.objects.published().select_related("newsletter")


def published_stories() -> QuerySet:
    return Story.objects.filter(issue__in=Issue.objects.published()).select_related(
        "issue__newsletter"
    )


def standing_stories() -> QuerySet:
    """Published stories not withdrawn: what search and the mirror's search index hold. A
    withdrawn story keeps its address, with its note (``published_stories``), but its words
    are found nowhere any more."""
    return published_stories().exclude(withdrawals__approved_at__isnull=False)


def public_authors() -> QuerySet:
    """People credited on a published story, by name: the only people the archive names."""
    people = get_user_model().objects.filter(stories__in=published_stories())
    return (
        people.exclude(first_name="", last_name="").order_by("last_name", "first_name").distinct()
    )


def with_content(stories: QuerySet) -> QuerySet:
    """Stories with their blocks in order, their authors and their public record
    (corrections, withdrawals): four queries more, in all."""
    return stories.prefetch_related(
        Prefetch("blocks", queryset=Block.objects.order_by("position")),
        Prefetch("authors", queryset=get_user_model().objects.order_by("last_name", "pk")),
        *story_record_prefetches(),
    )


def newsletters(request=None) -> list[Newsletter]:
    """Every newsletter by name; read once a request when given one (the page's view and the
    feed links of its head both ask)."""
    if request is None:
        return list(Newsletter.objects.order_by("name"))
    if not hasattr(request, "_archive_newsletters"):
        request._archive_newsletters = newsletters()
    return request._archive_newsletters


def story_path(story) -> str:
    """A story's address in the archive (its issue and newsletter read along with it)."""
    issue = story.issue
    return reverse("archive:story", args=[issue.newsletter.slug, issue.number, story.slug])


def public_name(user) -> str:
    """A person as the public sees them: their full name, or nothing (never a login name)."""
    return user.get_full_name().strip()


def story_authors(story) -> list[str]:
    """The names a story is credited to in public: its authors who have a full name (their
    prefetched ``authors``, see ``with_content``)."""
    return [name for name in map(public_name, story.authors.all()) if name]
