"""Nothing a reader opens loads anything from another site: no third-party script, stylesheet,
font, image or frame, and no tracking pixel, on any public page, in any email, or in the static
copy a mirror serves. Links (``<a href>``) and form posts to other sites are navigation, and
allowed: the reader chooses to follow them."""

import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from issues.models import Block, Issue
from issues.rendering import issue_render, issue_render_html
from subscribers.dispatch.message import issue_message_for_subscriber
from subscribers.models import Subscriber
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db

MIRRORS = "https://bell-mirror.example.org/\nhttps://ipfs.example.net/ipns/thebell/"
# rel values of <link> that name another document rather than load one into this one.
NAVIGATION_RELS = {"alternate", "canonical", "author", "license", "help", "next", "prev", "me"}
# (tag, attribute) pairs whose address the browser or mail client loads by itself.
RESOURCE_ATTRIBUTES = {
    ("script", "src"),
    ("img", "src"),
    ("img", "srcset"),
    ("source", "src"),
    ("source", "srcset"),
    ("iframe", "src"),
    ("frame", "src"),
    ("embed", "src"),
    ("object", "data"),
    ("audio", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("track", "src"),
    ("input", "src"),
    ("image", "href"),
    ("use", "href"),
}


def css_addresses(css: str) -> list[str]:
    """Addresses a stylesheet loads: every url(…) and @import, read token by token."""
    found, at = [], 0
    lowered = css.lower()
    while True:
        starts = [i for i in (lowered.find("url(", at), lowered.find("@import", at)) if i >= 0]
        if not starts:
            return found
        at = min(starts)
        if lowered.startswith("url(", at):
            end = css.find(")", at)
            found.append(css[at + 4 : end].strip().strip("'\""))
            at = end + 1
        else:
            rest = css[at + len("@import") :].lstrip()
            if rest[:1] in {"'", '"'}:
                found.append(rest[1 : rest.find(rest[0], 1)])
            at += len("@import")


class ResourceFinder(HTMLParser):
    """Every address a page makes its reader's software fetch, and every tiny or hidden image."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.resources: list[tuple[str, str]] = []
        self.pixels: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        values = {name: value or "" for name, value in attrs}
        for name, value in values.items():
            if (tag, name) in RESOURCE_ATTRIBUTES:
                urls = [c.split()[0] for c in value.split(",") if c.strip()]
                urls = urls if name == "srcset" else [value]
                self.resources += [(f"<{tag} {name}>", url) for url in urls]
            if name == "background" or (name == "ping" and value):
                self.resources += [(f"<{tag} {name}>", url) for url in value.split()]
            if name == "style":
                self.resources += [(f"<{tag} style>", url) for url in css_addresses(value)]
        if tag == "link":
            rels = set(values.get("rel", "").lower().split())
            if rels - NAVIGATION_RELS:
                self.resources.append((f"<link rel={values.get('rel')}>", values.get("href", "")))
        if tag == "img":
            small = {values.get("width"), values.get("height")} & {"0", "1", "1px", "0px"}
            hidden = "display:none" in values.get("style", "").replace(" ", "")
            if small or hidden:
                self.pixels.append(self.get_starttag_text())
        self._in_style = tag == "style"

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._in_style = False

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.resources += [("<style>", url) for url in css_addresses(data)]


def is_foreign(url: str, *, own: set[str]) -> bool:
    """Whether loading ``url`` asks a server other than ``own`` origins (scheme://host)."""
    parts = urlsplit(url.strip())
    if parts.scheme in {"data", "cid"}:
        return False
    if not parts.scheme and not parts.netloc:
        return False
    return f"{parts.scheme or 'https'}://{parts.netloc}" not in own


def foreign_resources(html: str, *, own: set[str]) -> list[str]:
    finder = ResourceFinder()
    finder.feed(html)
    finder.close()
    problems = [f"{where} {url}" for where, url in finder.resources if is_foreign(url, own=own)]
    problems += [f"tracking pixel {tag}" for tag in finder.pixels]
    for where, url in finder.resources:
        path = urlsplit(url).path
        if where.startswith("<link") and path.startswith(settings.STATIC_URL):
            stylesheet = finders.find(path.removeprefix(settings.STATIC_URL))
            if stylesheet and stylesheet.endswith(".css"):
                css = Path(stylesheet).read_text(encoding="utf-8")
                problems += [
                    f"{path}: {address}"
                    for address in css_addresses(css)
                    if is_foreign(address, own=own)
                ]
    return problems


def site_origins() -> set[str]:
    base = urlsplit(settings.BELLCMS_BASE_URL)
    return {f"{base.scheme}://{base.netloc}"}


@pytest.fixture
def sample_issue(sample_issue):
    issue = sample_issue
    issue.newsletter.mirror_urls = MIRRORS
    issue.newsletter.save()
    # A story links to another site, as stories do: navigation, not a resource.
    story = issue.stories.order_by("position").first()
    Block.objects.create(
        story=story,
        position=99,
        text="As [Reuters reported](https://www.reuters.com/world/) last week.",
    )
    return Issue.objects.select_related("newsletter").get(pk=issue.pk)


def test_resource_finder_catches_every_kind_of_load_and_lets_links_be():
    page = """<!doctype html><html><head>
    <link rel="stylesheet" href="https://cdn.example.com/a.css">
    <link rel="preload" href="https://fonts.example.com/f.woff2" as="font">
    <link rel="icon" href="//cdn.example.com/favicon.ico">
    <link rel="canonical" href="https://elsewhere.example/">
    <style>@import "https://cdn.example.com/b.css";
    body { background: url(https://x.example/bg.png) }</style>
    <script src="https://analytics.example.com/t.js"></script>
    </head><body>
    <img src="/static/ok.png" srcset="/static/ok.png 1x, https://img.example.com/2x.png 2x">
    <img src="/static/pixel.gif" width="1" height="1">
    <iframe src="https://video.example.com/embed/1"></iframe>
    <p style="background-image:url('https://x.example/p.png')">text</p>
    <a href="https://news.example.com/" ping="https://track.example.com/">a link</a>
    <form action="https://subscribe.example.com/" method="post"></form>
    </body></html>"""
    problems = foreign_resources(page, own=site_origins())
    assert problems == [
        "<link rel=stylesheet> https://cdn.example.com/a.css",
        "<link rel=preload> https://fonts.example.com/f.woff2",
        "<link rel=icon> //cdn.example.com/favicon.ico",
        "<style> https://cdn.example.com/b.css",
        "<style> https://x.example/bg.png",
        "<script src> https://analytics.example.com/t.js",
        "<img srcset> https://img.example.com/2x.png",
        "<iframe src> https://video.example.com/embed/1",
        "<p style> https://x.example/p.png",
        "<a ping> https://track.example.com/",
        'tracking pixel <img src="/static/pixel.gif" width="1" height="1">',
    ]


def public_pages(client, issue) -> dict[str, str]:
    newsletter = issue.newsletter
    story = issue.stories.order_by("position").first()
    paths = [
        reverse("home"),
        reverse("archive:index"),
        reverse("archive:newsletter", args=[newsletter.slug]),
        reverse("archive:issue", args=[newsletter.slug, issue.number]),
        reverse("archive:story", args=[newsletter.slug, issue.number, story.slug]),
        reverse("search:search") + "?q=Kremlin",
        reverse("subscribers:signup"),
        reverse("subscribers:signup_newsletter", args=[newsletter.slug]),
    ]
    pages = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        pages[path] = response.content.decode()
    return pages


def feed_bodies(client, issue) -> dict[str, str]:
    """Each feed's entries: the issue's HTML as feed readers show it."""
    bodies = {}
    atom = "{http://www.w3.org/2005/Atom}"
    for kind in ("rss", "atom"):
        path = reverse(f"archive:{kind}", args=[issue.newsletter.slug])
        response = client.get(path)
        assert response.status_code == 200, path
        root = ET.fromstring(response.content)
        entries = root.findall("./channel/item/description")
        entries += root.findall(f"./{atom}entry/{atom}content")
        entries += root.findall(f"./{atom}entry/{atom}summary")
        assert entries, f"{path} has no entry"
        for number, entry in enumerate(entries):
            bodies[f"{path} entry {number}"] = entry.text or ""
    return bodies


def test_public_pages_and_feeds_load_nothing_from_another_site(client, sample_issue):
    documents = {**public_pages(client, sample_issue), **feed_bodies(client, sample_issue)}
    problems = {
        name: found
        for name, html in documents.items()
        if (found := foreign_resources(html, own=site_origins()))
    }
    assert problems == {}
    # The pages do link to other sites (the story's source, the mirrors): that is allowed.
    issue_page = documents[reverse("archive:issue", args=[sample_issue.newsletter.slug, 1])]
    assert 'href="https://www.reuters.com/world/"' in issue_page
    assert 'href="https://bell-mirror.example.org/"' in issue_page


def test_emails_load_nothing_from_anywhere(
    client, sample_issue, django_capture_on_commit_callbacks
):
    # An email loads nothing at all when opened, not even from the newsroom's own site: any
    # remote image would tell the sender who opened it, when and where.
    newsletter = sample_issue.newsletter
    rendered = issue_render_html(issue=sample_issue)
    subscriber = SubscriptionFactory(newsletter=newsletter).subscriber
    personal = issue_message_for_subscriber(
        rendered=issue_render(issue=sample_issue), issue=sample_issue, subscriber=subscriber
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("subscribers:signup_newsletter", args=[newsletter.slug]),
            {"email": "anna@example.com", "name": "Anna", "newsletter": newsletter.slug},
            REMOTE_ADDR="203.0.113.7",
        )
    assert Subscriber.objects.filter(email="anna@example.com", status="pending").exists()
    (confirmation,) = [m for m in mail.outbox if m.to == ["anna@example.com"]]
    emails = {
        "issue": rendered,
        "issue for a subscriber": personal.alternatives[0][0],
        "confirmation": confirmation.alternatives[0][0],
    }
    problems = {
        name: found
        for name, html in emails.items()
        if (found := foreign_resources(html, own=set()))
    }
    assert problems == {}
    # Every one of them tells the reader where to go when the site is blocked.
    for name, html in emails.items():
        assert 'href="https://bell-mirror.example.org/"' in html, name
        assert 'href="https://ipfs.example.net/ipns/thebell/"' in html, name
    assert "https://bell-mirror.example.org/" in confirmation.body
    assert "https://ipfs.example.net/ipns/thebell/" in personal.body


def test_static_copy_loads_nothing_from_another_site(sample_issue, tmp_path):
    call_command("export_static", str(tmp_path), stdout=StringIO())
    pages = sorted(tmp_path.rglob("*.html"))
    assert len(pages) >= 6
    problems = {}
    for page in pages:
        # The copy's own files are relative: no origin of its own is needed.
        found = foreign_resources(page.read_text(encoding="utf-8"), own=set())
        if found:
            problems[str(page.relative_to(tmp_path))] = found
    assert problems == {}
