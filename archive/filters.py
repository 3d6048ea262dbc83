"""The archive list's filters (django-filter): newsletter, year, month, author and words."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from issues.models import Newsletter

from .queries import public_authors, public_name

MONTHS = [
    (n, _(name))
    for n, name in enumerate(
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        start=1,
    )
]


class AuthorChoiceFilter(django_filters.ModelChoiceFilter):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, queryset=lambda request: public_authors(), **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return qs.filter(stories__authors=value).distinct()


class IssueFilter(django_filters.FilterSet):
    newsletter = django_filters.ModelChoiceFilter(
        label=_("Newsletter"),
        queryset=Newsletter.objects.order_by("name"),
        to_field_name="slug",
        empty_label=_("All newsletters"),
    )
    year = django_filters.NumberFilter(
        label=_("Year"), field_name="published_at", lookup_expr="year", min_value=1900
    )
    month = django_filters.ChoiceFilter(
        label=_("Month"),
        field_name="published_at",
        lookup_expr="month",
        choices=MONTHS,
        empty_label=_("Any month"),
    )
    author = AuthorChoiceFilter(label=_("Author"), empty_label=_("Anyone"))
    q = django_filters.CharFilter(label=_("Words"), method="filter_words")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["author"].field.label_from_instance = public_name

    def filter_words(self, queryset, name, value):
        words = value.split()[:8]
        for word in words:
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(intro__icontains=word)
                | Q(stories__headline__icontains=word)
            )
        return queryset.distinct() if words else queryset
