"""RSS 2.0 and Atom feeds per newsletter (``django.contrib.syndication``), full text.

Each entry is one published issue with every story, in the same words as its page. The twenty
newest issues are read in one query and each issue's stories in three more (the issue page's
own context); the feed is cached like any other archive page (``archive.freshness``).
"""

from datetime import UTC, datetime

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext as _

from issues.models import Newsletter
from issues.rendering import issue_render_context

from .freshness import archive_page
from .queries import published_issues
from .record import record_entries
from .seo import absolute

ENTRIES = 20


class FullTextAtom(Atom1Feed):
    """Atom with each issue's whole text as the entry's ``content`` (Django writes a summary)."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, {**item, "description": None})
        if item["description"] is not None:
            handler.addQuickElement("content", item["description"], {"type": "html"})


class NewsletterFeed(Feed):
    """A feed of one newsletter, in its language, cached like an archive page."""

    def get_object(self, request, newsletter_slug):
        return get_object_or_404(Newsletter, slug=newsletter_slug)

    def language(self, newsletter):
        return newsletter.language


@method_decorator(archive_page(reads=()), name="__call__")
class IssuesRss(NewsletterFeed):
    feed_type = Rss201rev2Feed

    def title(self, newsletter):
        return newsletter.name

    def link(self, newsletter):
        return absolute(reverse("archive:newsletter", args=[newsletter.slug]))

    def description(self, newsletter):
        return f"{newsletter.kicker}: every issue, in full."

    def feed_url(self, newsletter):
        return absolute(reverse(f"archive:{self.kind}", args=[newsletter.slug]))

    kind = "rss"

    def items(self, newsletter):
        issues = published_issues().filter(newsletter=newsletter)
        return list(issues.order_by("-published_at", "-number")[:ENTRIES])

    def item_title(self, issue):
        return f"#{issue.number} {issue.title}"

    def item_link(self, issue):
        # The newsroom's own address, also when a mirror serves the feed (as canonical links).
        return absolute(reverse("archive:issue", args=[issue.newsletter.slug, issue.number]))

    item_guid_is_permalink = True

    def item_description(self, issue):
        return render_to_string("archive/_issue_body.html", issue_render_context(issue=issue))

    def item_pubdate(self, issue):
        return issue.published_at

    def item_updateddate(self, issue):
        return max(issue.updated_at, issue.published_at)


class IssuesAtom(IssuesRss):
    feed_type = FullTextAtom
    kind = "atom"
    subtitle = IssuesRss.description


class StableRss(Rss201rev2Feed):
    """RSS whose build date, with no entries yet, is a fixed one rather than now: an empty
    feed then reads the same every time, and the static mirror leaves its file alone."""

    def latest_post_date(self):
        if not self.items:
            return datetime(2000, 1, 1, tzinfo=UTC)
        return super().latest_post_date()


@method_decorator(archive_page(reads=()), name="__call__")
class CorrectionsRss(NewsletterFeed):
    """A newsletter's corrections and retractions, newest first (``archive.record``)."""

    feed_type = StableRss

    def title(self, newsletter):
        return _("%(name)s: corrections") % {"name": newsletter.name}

    def link(self, newsletter):
        return absolute(reverse("archive:corrections", args=[newsletter.slug]))

    def description(self, newsletter):
        return _("Every correction and retraction of %(name)s.") % {"name": newsletter.name}

    def items(self, newsletter):
        return record_entries(newsletter, limit=ENTRIES)

    def item_title(self, entry):
        return f"{entry.label}: {entry.headline}"

    def item_description(self, entry):
        return "".join(f"<p>{fragment.html}</p>" for fragment in entry.note)

    def item_link(self, entry):
        return absolute(entry.url)

    def item_guid(self, entry):
        return f"{absolute(entry.url)}#{entry.kind}-{entry.at.isoformat()}"

    item_guid_is_permalink = False

    def item_pubdate(self, entry):
        return entry.at
