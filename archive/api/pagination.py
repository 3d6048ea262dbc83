"""Cursor pages, newest published first: a page's link stays right while issues go out.

DRF's cursor positions a page on the first ordering field alone, so that field must be unique:
each list is ordered by one text that sorts as (publishing time, issue, place in the issue), so
that ``previous`` links are as exact as ``next`` ones even when many items share a publishing
time (every story of an issue does).
"""

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Concat, LPad
from rest_framework.pagination import CursorPagination

# A page is built in a fixed number of queries whatever its size; the cap keeps a page's
# rendering (Markdown for every block of every story) short.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# Wide enough for any id or position a PositiveIntegerField or BigAutoField holds.
ID_DIGITS = 19
POSITION_DIGITS = 10


def _digits(expression, width: int):
    return LPad(Cast(expression, CharField()), width, Value("0"))


def _moment(field: str):
    # The database's own text of a UTC timestamp ("2026-12-05 09:00:00.5+00" on PostgreSQL,
    # without the zone on SQLite) sorts as the moments do.
    return Cast(field, CharField())


def issue_sort_key():
    """Newest published first; the id breaks ties."""
    return Concat(
        _moment("published_at"), Value("|"), _digits("id", ID_DIGITS), output_field=CharField()
    )


def story_sort_key():
    """Newest issue first; within an issue, its stories in their order (hence the position
    counted down from the largest, in a key read in descending order)."""
    return Concat(
        _moment("issue__published_at"),
        Value("|"),
        _digits("issue_id", ID_DIGITS),
        Value("|"),
        _digits(Value(10**POSITION_DIGITS - 1) - F("position"), POSITION_DIGITS),
        output_field=CharField(),
    )


class NewestFirstPagination(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    # Annotated on each list's queryset (issue_sort_key, story_sort_key).
    ordering = ("-sort_key",)


class IssuePagination(NewestFirstPagination):
    pass


class StoryPagination(NewestFirstPagination):
    pass
