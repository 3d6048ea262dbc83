"""The API's filters (django-filter): issues and stories by newsletter, number, date, author, words.

A value a filter cannot read is refused (400) rather than ignored. Filters narrow what
``archive.queries`` already allows; none of them can reach an unpublished row.
"""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from issues.models import Issue, Story

from ..queries import public_authors

# Words of a search that are looked for; the rest are ignored (each one is a join's filter).
MAX_SEARCH_WORDS = 8


@extend_schema_field({"type": "integer", "minimum": 1})
class IdFilter(django_filters.NumberFilter):
    """A whole number from 1 up (django-filter's NumberFilter reads decimals)."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "integer", "minimum": 1})
class PublicAuthorFilter(django_filters.ModelChoiceFilter):
    """A person credited, by name, on a published story: nobody else can be looked up."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, queryset=lambda request: public_authors(), **kwargs)


class IssueFilter(django_filters.FilterSet):
    newsletter = django_filters.CharFilter(
        field_name="newsletter__slug", help_text="A newsletter's slug."
    )
    number = IdFilter(field_name="number", help_text="The issue's number in its newsletter.")
    published_after = django_filters.DateFilter(
        field_name="published_at",
        lookup_expr="date__gte",
        help_text="Published on this day (in the newsroom's time zone) or later.",
    )
    published_before = django_filters.DateFilter(
        field_name="published_at",
        lookup_expr="date__lte",
        help_text="Published on this day (in the newsroom's time zone) or earlier.",
    )

    class Meta:
        model = Issue
        fields = ["newsletter", "number", "published_after", "published_before"]


class StoryFilter(django_filters.FilterSet):
    newsletter = django_filters.CharFilter(
        field_name="issue__newsletter__slug", help_text="A newsletter's slug."
    )
    number = IdFilter(
        field_name="issue__number",
        help_text="The number of the story's issue (with newsletter: one issue).",
    )
    issue = IdFilter(field_name="issue", help_text="The id of the story's issue.")
    author = PublicAuthorFilter(
        field_name="authors", help_text="The id of a person credited on a published story."
    )
    q = django_filters.CharFilter(
        method="filter_words", help_text="Words, each of which the headline contains."
    )

    class Meta:
        model = Story
        fields = ["newsletter", "number", "issue", "author", "q"]

    def filter_words(self, queryset, name, value: str):
        for word in value.split()[:MAX_SEARCH_WORDS]:
            queryset = queryset.filter(headline__icontains=word)
        return queryset
