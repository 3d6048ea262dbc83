"""sitemap.xml (``django.contrib.sitemaps``): every published issue and story, with its date."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from .queries import published_issues, published_stories


class IssueSitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return published_issues().order_by("-published_at", "pk")

    def location(self, issue):
        return reverse("archive:issue", args=[issue.newsletter.slug, issue.number])

    def lastmod(self, issue):
        return max(issue.updated_at, issue.published_at)


class StorySitemap(Sitemap):
    changefreq = "monthly"

    def items(self):
        return published_stories().order_by("-issue__published_at", "position", "pk")

    def location(self, story):
        issue = story.issue
        return reverse("archive:story", args=[issue.newsletter.slug, issue.number, story.slug])

    def lastmod(self, story):
        return max(story.updated_at, story.issue.published_at)


SITEMAPS = {"issues": IssueSitemap, "stories": StorySitemap}
