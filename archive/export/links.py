"""Where each address of the site lands in the static copy, and the rewriting of a page's links
into relative links between those files.

A copy must work from ``file://``, where a directory is not an address (nothing serves its
``index.html``), and from any sub-path of any host: every link between pages of the copy is
relative and names its file, ``../../1/index.html``. Links the copy cannot answer (the newsroom,
sign-up) go to the main site by its absolute address, like any link to another site.
Canonical addresses stay absolute on purpose: they name the original (``archive.seo``).
"""

import functools
import html
import posixpath
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urljoin, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.urls import Resolver404, resolve

SEARCH_PAGE = "search/index.html"
SEARCH_INDEX = "search/index.js"
STATIC_DIR = "static"
LIST_VIEWS = {"archive:index", "archive:newsletter"}
SEARCH_VIEW = "search:search"

# (tag, attribute) pairs that hold one address: navigation and resources alike.
URL_ATTRIBUTES = {
    ("a", "href"),
    ("area", "href"),
    ("link", "href"),
    ("form", "action"),
    ("button", "formaction"),
    ("input", "formaction"),
    ("input", "src"),
    ("script", "src"),
    ("img", "src"),
    ("iframe", "src"),
    ("source", "src"),
    ("audio", "src"),
    ("video", "src"),
    ("video", "poster"),
    ("track", "src"),
    ("embed", "src"),
}
SRCSET_ATTRIBUTES = {("img", "srcset"), ("source", "srcset")}
# A page marks what a copy cannot do (a filter form, say) with this attribute; it is hidden.
HIDE_ATTRIBUTE = "data-static-export"
_NEWLINE = re.compile("\n")


def file_of(path: str, query: str = "") -> str:
    """The file of the copy that holds the site's page at ``path`` (``/archive/x/`` →
    ``archive/x/index.html``), whether or not the copy has it. A page of an issue list stands
    in its own directory (``archive/page/2/index.html``); filters are dropped."""
    static_path = urlsplit(settings.STATIC_URL).path
    if path.startswith(static_path):
        return posixpath.join(STATIC_DIR, unquote(path[len(static_path) :]))
    try:
        view = resolve(path).view_name
    except Resolver404:
        view = None
    if view == SEARCH_VIEW:
        return SEARCH_PAGE
    if view in LIST_VIEWS:
        page = _page_number(query)
        if page > 1:
            path = f"{path}page/{page}/"
    name = unquote(path).lstrip("/")
    return f"{name}index.html" if not name or name.endswith("/") else name


def _page_number(query: str) -> int:
    value = parse_qs(query).get("page", ["1"])[-1]
    return int(value) if value.isdigit() and int(value) > 0 else 1


@functools.lru_cache(maxsize=512)
def static_source(name: str) -> Path | None:
    """The file behind a static address: from the finders (the source tree), or collected in
    STATIC_ROOT (hashed names in production)."""
    found = finders.find(name)
    if found:
        return Path(found)
    try:
        if staticfiles_storage.exists(name):
            return Path(staticfiles_storage.path(name))
    except NotImplementedError:  # a remote storage: nothing to copy from
        pass
    return None


@dataclass
class PageLinks:
    """What one page's links led to: files of the copy, main-site pages and static files."""

    files: set[str] = field(default_factory=set)
    fallbacks: set[str] = field(default_factory=set)
    static: set[str] = field(default_factory=set)


class Linker:
    """Turns the site's addresses into the copy's, for the pages of one export.

    ``planned`` holds every file the copy will have; an address of this site whose file is not
    among them (the newsroom, sign-up, an unpublished issue) stays a link to the main site.
    """

    def __init__(self, *, planned: set[str]):
        self.planned = planned
        self.base_url = settings.BELLCMS_BASE_URL
        self.static_url = settings.STATIC_URL

    def rewrite(self, value: str, *, page_path: str, page_file: str, links: PageLinks) -> str:
        """The address ``value`` as written on the page at ``page_path`` (stored as
        ``page_file``), as the copy writes it."""
        address = value.strip()
        if not address or address.startswith("#"):
            return value
        address = self.site_relative(address)
        if address is None:
            return value
        parts = urlsplit(urljoin(page_path, address))
        if self.static_url.startswith("/") and parts.path.startswith(self.static_url):
            name = unquote(parts.path[len(self.static_url) :])
            if static_source(name) is None:
                return self.main_site(parts.path, parts.query, parts.fragment)
            links.static.add(name)
            target = posixpath.join(STATIC_DIR, name)
        else:
            target = file_of(parts.path, parts.query)
            if target not in self.planned:
                links.fallbacks.add(target)
                return self.main_site(parts.path, parts.query, parts.fragment)
            links.files.add(target)
        relative = quote(posixpath.relpath(target, posixpath.dirname(page_file) or "."))
        if target == SEARCH_PAGE and parts.query:
            relative += f"?{parts.query}"
        return relative + (f"#{parts.fragment}" if parts.fragment else "")

    def target(self, value: str, *, page_path: str) -> str | None:
        """The file of the copy an address of this site leads to, or None."""
        address = self.site_relative(value.strip())
        if address is None:
            return None
        parts = urlsplit(urljoin(page_path, address))
        return file_of(parts.path, parts.query)

    def on_main_site(self, value: str, *, page_path: str) -> str:
        """An address of this site as the main site's absolute address; another site's as is."""
        address = self.site_relative(value.strip())
        if address is None:
            return value
        parts = urlsplit(urljoin(page_path, address))
        return self.main_site(parts.path, parts.query, parts.fragment)

    def main_site(self, path: str, query: str = "", fragment: str = "") -> str:
        return (
            self.base_url
            + path
            + (f"?{query}" if query else "")
            + (f"#{fragment}" if fragment else "")
        )

    def site_relative(self, address: str) -> str | None:
        """The address relative to this site, or None when it is another site's (or not an
        address a file can follow: mailto:, data:)."""
        if address.startswith(self.base_url + "/") or address == self.base_url:
            return address[len(self.base_url) :] or "/"
        if self.static_url.startswith(("http://", "https://", "//")) and address.startswith(
            self.static_url
        ):
            return None
        parts = urlsplit(address)
        if parts.scheme or parts.netloc:
            return None
        return address


class _PageParser(HTMLParser):
    """Finds every start tag that needs changing and what it becomes; the rest of the page is
    left byte for byte as the site wrote it."""

    def __init__(self, *, linker: Linker, page_path: str, page_file: str, links: PageLinks):
        super().__init__(convert_charrefs=True)
        self.linker = linker
        self.page_path = page_path
        self.page_file = page_file
        self.links = links
        self.edits: list[tuple[tuple[int, int], str, str]] = []

    def handle_starttag(self, tag, attrs):
        self._tag(tag, attrs, closed=False)

    def handle_startendtag(self, tag, attrs):
        self._tag(tag, attrs, closed=True)

    def _tag(self, tag: str, attrs: list[tuple[str, str | None]], *, closed: bool):
        changed = [self._attribute(tag, attrs, name, value) for name, value in attrs]
        hide = any(name == HIDE_ATTRIBUTE and value == "hide" for name, value in attrs)
        if tag == "form" and (dict(attrs).get("method") or "get").lower() == "get":
            # A static copy answers no query: only the search form has a page that can.
            action = dict(attrs).get("action") or ""
            hide = hide or self.linker.target(action, page_path=self.page_path) != SEARCH_PAGE
        if hide and not any(name == "hidden" for name, _ in attrs):
            changed.append(("hidden", None))
        if changed != attrs:
            self.edits.append(
                (self.getpos(), self.get_starttag_text(), _start_tag(tag, changed, closed))
            )

    def _attribute(self, tag, attrs, name, value):
        if value is None:
            return name, value
        rewrite = self.linker.rewrite
        where = {"page_path": self.page_path, "page_file": self.page_file, "links": self.links}
        if (tag, name) in URL_ATTRIBUTES:
            rels = set((dict(attrs).get("rel") or "").lower().split())
            if tag == "link" and "canonical" in rels:
                return name, value
            method = (dict(attrs).get("method") or "get").lower()
            if tag == "form" and method == "post":
                # Sign-up posts to the main site: a navigation, and the only place it can go.
                return name, self.linker.on_main_site(value, page_path=self.page_path)
            return name, rewrite(value, **where)
        if (tag, name) in SRCSET_ATTRIBUTES:
            candidates = []
            for candidate in value.split(","):
                url, _, descriptor = candidate.strip().partition(" ")
                candidates.append(" ".join(filter(None, [rewrite(url, **where), descriptor])))
            return name, ", ".join(candidates)
        return name, value


def _start_tag(tag: str, attrs, closed: bool) -> str:
    written = "".join(
        f" {name}" if value is None else f' {name}="{html.escape(value, quote=True)}"'
        for name, value in attrs
    )
    return f"<{tag}{written}{' /' if closed else ''}>"


def rewrite_page(
    content: str, *, linker: Linker, page_path: str, page_file: str, links: PageLinks
) -> str:
    """The page as the copy holds it: links rewritten, what a copy cannot do hidden. Where
    its links lead is added to ``links``."""
    parser = _PageParser(linker=linker, page_path=page_path, page_file=page_file, links=links)
    parser.feed(content)
    parser.close()
    # html.parser counts lines by "\n" alone (not by str.splitlines' other breaks).
    line_starts = [0, *(match.end() for match in _NEWLINE.finditer(content))]
    pieces, done = [], 0
    for (line, column), original, replacement in parser.edits:
        start = line_starts[line - 1] + column
        if content[start : start + len(original)] != original:  # pragma: no cover - a parser bug
            raise ValueError(f"{page_path}: lost track of a tag at line {line}")
        pieces += [content[done:start], replacement]
        done = start + len(original)
    pieces.append(content[done:])
    return "".join(pieces)
