"""The archive's pages: home, the issue list, an issue, a story, and robots.txt.

Anything not published (drafts, approved or scheduled issues, an issue whose publishing time has
come but which the scheduler has not yet sent out) is a 404, never a "not yet" page: the archive
must not confirm that an unpublished issue exists. Every page reads a fixed number of rows
whatever an issue holds, and is cached until anything changes (``archive.freshness``).
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_safe

from issues.models import Newsletter
from issues.rendering import (
    issue_render_context,
    story_preview_context,
    story_public_headline,
    story_record_apply,
)

from .filters import IssueFilter
from .freshness import archive_page
from .models import RetiredSlug
from .queries import newsletters, published_issues, story_authors, story_path, with_content
from .record import record_entries, record_log
from .seo import absolute, issue_meta, story_meta

LATEST_ON_HOME = 10
ISSUES_PER_PAGE = 20


@require_safe
@archive_page(reads=())
def home(request):
    """The newest issues of every newsletter, the search box and the sign-up forms."""
    latest = published_issues().order_by("-published_at", "-number")[:LATEST_ON_HOME]
    return render(
        request,
        "archive/home.html",
        {
            "latest": list(latest),
            "newsletters": newsletters(request),
            "canonical": absolute(reverse("home")),
        },
    )


# What the issue list reads of its address: the filters and the page.
LIST_PARAMS = (*IssueFilter.base_filters, "page")


@require_safe
@archive_page(reads=LIST_PARAMS)
def issue_list(request, newsletter_slug: str | None = None):
    """Every published issue, newest first, a page at a time, filtered by the reader."""
    data = QueryDict(mutable=True)
    for name in LIST_PARAMS:
        data.setlist(name, request.GET.getlist(name))
    if newsletter_slug:
        get_object_or_404(Newsletter, slug=newsletter_slug)
        data["newsletter"] = newsletter_slug
    filtered = IssueFilter(
        data, queryset=published_issues().order_by("-published_at", "-number"), request=request
    )
    page = Paginator(filtered.qs, ISSUES_PER_PAGE).get_page(request.GET.get("page"))
    query = data.copy()
    query.pop("page", None)
    everything = data.urlencode()
    return render(
        request,
        "archive/issue_list.html",
        {
            "filter": filtered,
            "page": page,
            "query": query.urlencode(),
            "canonical": absolute(f"{request.path}?{everything}" if everything else request.path),
        },
    )


def _published_issue(newsletter_slug: str, number: int):
    return get_object_or_404(published_issues(), newsletter__slug=newsletter_slug, number=number)


@require_safe
@archive_page(reads=())
def issue_detail(request, newsletter_slug: str, number: int):
    """One published issue as a web page, built from the same context as its email."""
    issue = _published_issue(newsletter_slug, number)
    context = issue_render_context(issue=issue)
    context["meta"] = issue_meta(request, issue, context)
    context["page_language"] = issue.newsletter.language
    return render(request, "archive/issue.html", context)


@require_safe
@archive_page(reads=())
def story_detail(request, newsletter_slug: str, number: int, story_slug: str):
    """One story of a published issue at its own address; an old address redirects."""
    issue = _published_issue(newsletter_slug, number)
    stories = list(with_content(issue.stories.order_by("position")))
    index = next((i for i, story in enumerate(stories) if story.slug == story_slug), None)
    if index is None:
        retired = RetiredSlug.objects.filter(issue=issue, slug=story_slug).select_related("story")
        moved = retired.first()
        if moved is None or moved.story.issue_id != issue.pk:
            raise Http404
        return redirect("archive:story", newsletter_slug, number, moved.story.slug, permanent=True)
    story = stories[index]
    context = story_preview_context(
        issue=issue, headline=story.headline, blocks=story.blocks.all(), takeaway=story.takeaway
    )
    story_record_apply(context["stories"][0], story)
    context.update(
        {
            "story": story,
            "authors": story_authors(story),
            "issue_url": reverse("archive:issue", args=[newsletter_slug, number]),
            "previous": _neighbour(issue, stories, index - 1),
            "next": _neighbour(issue, stories, index + 1),
        }
    )
    context["meta"] = story_meta(request, issue, story, context)
    context["page_language"] = issue.newsletter.language
    return render(request, "archive/story.html", context)


@require_safe
@archive_page(reads=())
def corrections(request, newsletter_slug: str):
    """Every correction and retraction of a newsletter, newest first: the record in public."""
    newsletter = get_object_or_404(Newsletter, slug=newsletter_slug)
    canonical = absolute(reverse("archive:corrections", args=[newsletter.slug]))
    return render(
        request,
        "archive/corrections.html",
        {
            "newsletter": newsletter,
            "entries": record_entries(newsletter),
            "canonical": canonical,
            "page_language": newsletter.language,
        },
    )


@require_safe
@archive_page(reads=())
def corrections_log(request, newsletter_slug: str):
    """The newsletter's public record as JSON, newest first: each correction, retraction,
    takedown and notice emailed, for readers' tools and the static mirror."""
    newsletter = get_object_or_404(Newsletter, slug=newsletter_slug)
    return JsonResponse(
        {
            "newsletter": newsletter.slug,
            "corrections": absolute(reverse("archive:corrections", args=[newsletter.slug])),
            "steps": record_log(newsletter),
        },
        json_dumps_params={"ensure_ascii": False, "indent": 1},
    )


def _neighbour(issue, stories, index):
    if not 0 <= index < len(stories):
        return None
    story = stories[index]
    return {"headline": story_public_headline(story), "url": story_path(story)}


@require_safe
def robots_txt(request):
    """Crawlers may read the archive; sign-up, preference and newsroom pages are not for them."""
    lines = [
        "User-agent: *",
        "Allow: /",
        *(
            f"Disallow: {path}"
            for path in ("/admin/", "/subscribe/", "/confirm/", "/u/", "/preferences/", "/api/")
        ),
        "",
        f"Sitemap: {settings.BELLCMS_BASE_URL}{reverse('sitemap')}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
