"""The site's own answers, for the copy: every page is rendered by the view that serves it, so
the copy says exactly what the site says; only the copy's search page and its index are its own.
"""

from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.db.models import Prefetch
from django.http import Http404
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import resolve, reverse
from django.utils import dateformat, timezone

from issues.models import Block
from issues.rendering import inline_text

from ..queries import standing_stories, story_path
from ..seo import script_json
from .errors import ExportError
from .links import SEARCH_INDEX, file_of

SEARCH_TEMPLATE = "archive/mirror_search.html"


def _request(path: str, query: dict | None = None):
    # RequestFactory builds the same WSGIRequest Django's handler builds from a real request,
    # without the test client's machinery (sessions, cookies, template signals). The site's
    # own host and scheme, so feeds and the sitemap write the addresses the site writes.
    base = urlsplit(settings.BELLCMS_BASE_URL)
    return RequestFactory().get(
        path, data=query or {}, secure=base.scheme == "https", headers={"host": base.netloc}
    )


def page_render(path: str, query: dict | None = None) -> bytes:
    """What the site answers a reader's GET of ``path``: the view found by ``resolve()``,
    called as Django's handler calls it. The middleware is left out on purpose: what it adds
    is HTTP (cookies, security headers) that a file cannot carry."""
    match = resolve(path)
    request = _request(path, query)
    request.resolver_match = match
    try:
        response = match.func(request, *match.args, **match.kwargs)
    except Http404 as error:
        raise ExportError(f"{path} is not found on the site ({error}).") from error
    except DisallowedHost as error:
        raise ExportError(
            f"The host of BELLCMS_BASE_URL ({settings.BELLCMS_BASE_URL}) is not in ALLOWED_HOSTS."
        ) from error
    if hasattr(response, "render") and not response.is_rendered:
        response.render()
    if response.status_code != 200:
        raise ExportError(f"{path} answered {response.status_code}, not 200.")
    return response.content


def search_page_render() -> bytes:
    """The copy's search page: the archive's frame around a form the reader's browser answers
    from the prebuilt index (``static/archive/mirror-search.js``)."""
    request = _request(reverse("search:search"))
    html = render_to_string(
        SEARCH_TEMPLATE, {"static_export": True, "search_index": f"/{SEARCH_INDEX}"}, request
    )
    return html.encode()


def search_index_render() -> bytes:
    """Every published story, newest issue first, as a script setting ``BELLCMS_SEARCH``: a
    script, because a page opened from ``file://`` may not fetch() a file next to it."""
    stories = (
        standing_stories()
        .exclude(slug="")
        .order_by("-issue__published_at", "-issue__number", "issue__newsletter__name", "position")
        .prefetch_related(Prefetch("blocks", queryset=Block.objects.order_by("position")))
    )
    entries = [_entry(story) for story in stories]
    payload = script_json({"stories": entries}, separators=(",", ":"))
    return (
        "/* The archive's search index (manage.py export_static): one entry per published "
        "story. */\nwindow.BELLCMS_SEARCH = " + payload + ";\n"
    ).encode()


def _entry(story) -> dict:
    issue = story.issue
    newsletter = issue.newsletter
    path = story_path(story)
    words = [inline_text(block.text, urls=False) for block in story.blocks.all()]
    words.append(inline_text(story.takeaway, urls=False))
    published = timezone.localtime(issue.published_at)
    return {
        "headline": story.headline,
        "url": quote(file_of(path)),
        "issue": f"{newsletter.name} #{issue.number}: {issue.title}",
        "date": dateformat.format(published, "j F Y"),
        "datetime": published.date().isoformat(),
        "text": " ".join(" ".join(words).split()),
    }
