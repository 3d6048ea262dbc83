"""Cursor pages, newest published first: a page's link stays right while issues go out."""

from rest_framework.pagination import CursorPagination

# A page is built in a fixed number of queries whatever its size; the cap keeps a page's
# rendering (Markdown for every block of every story) short.
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class NewestFirstPagination(CursorPagination):
    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE


class IssuePagination(NewestFirstPagination):
    # The id breaks ties between issues published at the same moment.
    ordering = ("-published_at", "-id")


class StoryPagination(NewestFirstPagination):
    # ``published_at`` is the issue's, annotated (the cursor reads it off each story); within
    # an issue, stories keep the issue's order.
    ordering = ("-published_at", "-issue_id", "position")
