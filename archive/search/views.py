"""The search page: a form, and the published stories that match, best first, a page at a time.

It reads a fixed number of rows whatever it finds (the newsletters, then one page of stories
with their issues and newsletters, which also counts every match), and is cached until anything
changes, like every archive page (``archive.freshness``).
"""

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Window
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from ..freshness import archive_page
from ..queries import newsletters, story_path
from .backends import search_backend
from .models import StoryDocument

# Longer queries are cut here: enough for any phrase a reader types, and the database parses
# no essays.
MAX_QUERY_CHARS = 200
# Ten a page, as web search engines show: each hit's snippet is cut from its whole text, the
# dearest part of a search after ranking.
HITS_PER_PAGE = 10


@dataclass(frozen=True)
class Hit:
    """One story found: its document (with story, issue and newsletter) and what to show."""

    document: StoryDocument
    url: str
    headline: SafeString
    snippet: SafeString

    @property
    def issue(self):
        return self.document.story.issue


def _query_text(raw: str) -> str:
    # PostgreSQL text cannot hold NUL, and no reader means a control character: both go.
    kept = "".join(
        char if char.isprintable() else " " if char.isspace() else ""
        for char in raw[:MAX_QUERY_CHARS]
    )
    return " ".join(kept.split())


def _page(found, number) -> Page:
    """One page of ``found``, counted by the page's own query: a window over every match, so
    that ranking and counting read the matches once, not twice. A page past the last is the
    last, as Django's ``Paginator.get_page`` gives."""
    try:
        number = max(int(number), 1)
    except (TypeError, ValueError):
        number = 1
    counted = found.annotate(total=Window(Count("pk")))

    def rows(number):
        start = (number - 1) * HITS_PER_PAGE
        return list(counted[start : start + HITS_PER_PAGE])

    hits = rows(number)
    total = hits[0].total if hits else found.count()
    paginator = Paginator(range(total), HITS_PER_PAGE)
    if not hits and total:
        number = paginator.num_pages
        hits = rows(number)
    page = paginator.page(min(number, paginator.num_pages))
    page.object_list = hits
    return page


def _hit(backend, document: StoryDocument, text: str) -> Hit:
    story = document.story
    url = story_path(story)
    headline, snippet = backend.highlight(document, text)
    return Hit(document=document, url=url, headline=headline, snippet=snippet)


@require_safe
@archive_page(reads=("q", "newsletter", "page"))
def search(request):
    """Published stories matching ``q`` (in ``newsletter``, a slug, when given)."""
    text = _query_text(request.GET.get("q", ""))
    choices = newsletters(request)
    newsletter = next((n for n in choices if n.slug == request.GET.get("newsletter")), None)
    context = {"query_text": text, "newsletters": choices, "newsletter": newsletter}
    if text:
        backend = search_backend()
        found = backend.matches(text, newsletter=newsletter)
        page = _page(found, request.GET.get("page"))
        kept = {"q": text, **({"newsletter": newsletter.slug} if newsletter else {})}
        context.update(
            {
                "page": page,
                "hits": [_hit(backend, document, text) for document in page.object_list],
                "query": urlencode(kept),
            }
        )
    return render(request, "archive/search.html", context)
