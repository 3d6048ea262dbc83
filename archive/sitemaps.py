"""sitemap.xml (``django.contrib.sitemaps``): every published issue and story, with its date."""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .queries import published_issues, published_stories, story_path


class ArchiveSitemap(Sitemap):
    """Addresses on the newsroom's own site (BELLCMS_BASE_URL), whoever serves the file."""

    changefreq = "monthly"

    @property
    def protocol(self):
        return urlsplit(settings.BELLCMS_BASE_URL).scheme or "https"

    def get_domain(self, site=None):
        return urlsplit(settings.BELLCMS_BASE_URL).netloc


class IssueSitemap(ArchiveSitemap):
    def items(self):
        return published_issues().order_by("-published_at", "pk")

    def location(self, issue):
        return reverse("archive:issue", args=[issue.newsletter.slug, issue.number])

    def lastmod(self, issue):
        return max(issue.updated_at, issue.published_at)


class StorySitemap(ArchiveSitemap):
    def items(self):
        return published_stories().order_by("-issue__published_at", "position", "pk")

    def location(self, story):
        return story_path(story)

    def lastmod(self, story):
        return max(story.updated_at, story.issue.published_at)


SITEMAPS = {"issues": IssueSitemap, "stories": StorySitemap}
