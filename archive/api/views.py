"""The API's endpoints: newsletters, issues and stories, read-only and public.

Issues and stories come only through ``archive.queries`` (published, and published by now), read
again on every request: an issue that is not public is absent from every list and a 404 at its
own address, exactly as on the archive pages. Every page costs a fixed number of queries.
"""

from django.db.models import F, Prefetch
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework.viewsets import ReadOnlyModelViewSet

from issues.models import Newsletter, Story

from ..queries import published_issues, published_stories, with_content
from .filters import IssueFilter, StoryFilter
from .pagination import IssuePagination, StoryPagination, issue_sort_key, story_sort_key
from .serializers import (
    FILTER_ERRORS_SCHEMA,
    ErrorSerializer,
    IssueSerializer,
    NewsletterSerializer,
    StorySerializer,
)

_THROTTLED = OpenApiResponse(ErrorSerializer, description="Too many requests: see Retry-After.")
_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found, or not published.")


def _documented(serializer, *, list_summary: str, retrieve_summary: str, paginated=True):
    """The responses each action may give, for the schema (and the clients built from it)."""
    errors = {429: _THROTTLED}
    list_errors = dict(errors)
    if paginated:
        list_errors[400] = OpenApiResponse(FILTER_ERRORS_SCHEMA, description="Invalid filter.")
        list_errors[404] = OpenApiResponse(ErrorSerializer, description="Invalid cursor.")
    return extend_schema_view(
        list=extend_schema(
            summary=list_summary, responses={200: serializer(many=True), **list_errors}
        ),
        retrieve=extend_schema(
            summary=retrieve_summary, responses={200: serializer, 404: _NOT_FOUND, **errors}
        ),
    )


@_documented(
    NewsletterSerializer,
    list_summary="Every newsletter",
    retrieve_summary="One newsletter, by slug",
    paginated=False,
)
class NewsletterViewSet(ReadOnlyModelViewSet):
    """Every newsletter (a short list: not paginated), by slug."""

    serializer_class = NewsletterSerializer
    lookup_field = "slug"
    pagination_class = None
    filter_backends = []

    def get_queryset(self):
        return Newsletter.objects.order_by("name")


@_documented(
    IssueSerializer,
    list_summary="Published issues, newest first",
    retrieve_summary="One published issue, by id",
)
class IssueViewSet(ReadOnlyModelViewSet):
    """Published issues, newest first, with their stories' headlines and addresses."""

    serializer_class = IssueSerializer
    filterset_class = IssueFilter
    pagination_class = IssuePagination

    def get_queryset(self):
        # Two queries a page: the issues with their newsletters, then all their stories.
        stories = Story.objects.order_by("position").only(
            "id", "issue_id", "position", "slug", "headline"
        )
        issues = published_issues().annotate(sort_key=issue_sort_key())
        return issues.prefetch_related(Prefetch("stories", queryset=stories))


@_documented(
    StorySerializer,
    list_summary="Stories of published issues, newest first",
    retrieve_summary="One story of a published issue, by id",
)
class StoryViewSet(ReadOnlyModelViewSet):
    """Stories of published issues, newest issue first, each whole: body, takeaway, authors."""

    serializer_class = StorySerializer
    filterset_class = StoryFilter
    pagination_class = StoryPagination

    def get_queryset(self):
        # Three queries a page: stories with issue and newsletter, their blocks, their authors.
        return with_content(published_stories()).annotate(
            published_at=F("issue__published_at"), sort_key=story_sort_key()
        )
