"""One export of the public archive into a directory, redoing only what changed.

Every run renders the pages that list or summarise many issues (home, the issue lists, feeds,
sitemap, search page and index): they are few. An issue's own pages (the issue and each story)
are rendered again only when its fingerprint changed: its rows, its stories' and blocks' text,
its authors' names, the frame every page shares, or the release's code and templates. Any file
is written only when its bytes differ, so a file's mtime says when it last changed.
"""

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.db.models.functions import MD5
from django.urls import reverse
from django.utils import translation

from issues.models import Block, Correction, Story, Withdrawal

from ..freshness import code_version
from ..queries import newsletters, published_issues
from ..views import ISSUES_PER_PAGE
from .errors import ExportError
from .links import (
    SEARCH_INDEX,
    SEARCH_PAGE,
    STATIC_DIR,
    Linker,
    PageLinks,
    file_of,
    rewrite_page,
    static_source,
)
from .pages import page_render, search_index_render, search_page_render
from .writing import MANIFEST, ExportDirectory, Manifest, digest

# Bump when the exporter changes what it writes: every issue is then rendered again.
EXPORT_FORMAT = 1
# GitHub Pages serves the files as they are, without running Jekyll over them.
NO_JEKYLL = ".nojekyll"


@dataclass(frozen=True)
class _Page:
    path: str
    query: dict | None
    file: str


@dataclass
class ExportReport:
    """What one export did, file by file (paths relative to the export's directory)."""

    directory: Path
    written: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    issues_rendered: list[str] = field(default_factory=list)
    issues_kept: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def archive_export(*, directory: Path, full: bool = False) -> ExportReport:
    """Write the public archive into ``directory`` as static files with relative links.

    Only published issues are in it; the files of an issue no longer published are removed,
    and nothing the export did not write is touched. ``full`` renders every issue again even
    when its fingerprint has not changed. Raises ``ExportError`` for a directory it cannot use.
    """
    target = ExportDirectory(Path(directory))
    with translation.override(settings.LANGUAGE_CODE):
        return _Export(target, full=full).run()


class _Export:
    def __init__(self, target: ExportDirectory, *, full: bool):
        self.target = target
        self.full = full
        self.report = ExportReport(directory=target.root)
        self.old = target.manifest()
        self.new = Manifest()
        self.static: set[str] = set()

    def run(self) -> ExportReport:
        if self.old.unreadable:
            self.report.notes.append(f"{MANIFEST} was unreadable: every issue is rendered again.")
            self.full = True
        issues = list(published_issues().order_by("newsletter__slug", "number"))
        issue_pages = _issue_pages(issues)
        global_pages = _global_pages(issues)
        files = [page.file for page in global_pages]
        files += [page.file for pages in issue_pages.values() for page in pages]
        files += [SEARCH_PAGE, SEARCH_INDEX, NO_JEKYLL]
        clashes = sorted(name for name, count in Counter(files).items() if count > 1)
        if clashes:
            raise ExportError(f"Two pages would be written to {', '.join(clashes)}.")
        linker = Linker(planned=set(files))

        search_page = search_page_render()
        fingerprints = _fingerprints(issues, frame=digest(search_page))
        for page in global_pages:
            self._put(page.file, self._render(page, linker, PageLinks()))
        self._put(SEARCH_PAGE, self._rewrite(search_page, "/search/", SEARCH_PAGE, linker))
        self._put(SEARCH_INDEX, search_index_render())
        self._put(NO_JEKYLL, b"")
        for issue in issues:
            self._issue(issue, issue_pages[issue.pk], fingerprints[issue.pk], linker)
        for name in sorted(self.static):
            source = static_source(name)
            if source is None:  # gone since an unchanged issue's pages named it
                raise ExportError(f"The static file {name} is missing: run with --full.")
            self._put(f"{STATIC_DIR}/{name}", source.read_bytes())
        for name in sorted(set(self.old.files) - set(self.new.files)):
            if self.target.remove(name):
                self.report.removed.append(name)
        self.target.write(MANIFEST, self.new.to_bytes())
        return self.report

    def _issue(self, issue, pages: list[_Page], fingerprint: str, linker: Linker) -> None:
        key, label = str(issue.pk), f"{issue.newsletter.slug} #{issue.number}"
        before = self.old.issues.get(key)
        if not self.full and self._still_current(before, fingerprint, linker.planned):
            for name in before["files"]:
                self.new.files[name] = self.old.files[name]
                self.report.kept.append(name)
            self.static.update(before["static"])
            self.new.issues[key] = before
            self.report.issues_kept.append(label)
            return
        links = PageLinks()
        for page in pages:
            self._put(page.file, self._render(page, linker, links))
        self.new.issues[key] = {
            "label": label,
            "fingerprint": fingerprint,
            "files": [page.file for page in pages],
            "links": sorted(links.files),
            "fallbacks": sorted(links.fallbacks),
            "static": sorted(links.static),
        }
        self.report.issues_rendered.append(label)

    def _still_current(self, before: dict | None, fingerprint: str, planned: set[str]) -> bool:
        """The issue's files on disk are what rendering it again would write: same fingerprint,
        every file there, and each link still leads where it did (a page it links to may
        have been retracted, or one it sent to the main site published since)."""
        if not before or before.get("fingerprint") != fingerprint:
            return False
        return (
            all(name in self.old.files and self.target.has(name) for name in before["files"])
            and set(before["links"]) <= planned
            and not set(before["fallbacks"]) & planned
        )

    def _render(self, page: _Page, linker: Linker, links: PageLinks) -> bytes:
        content = page_render(page.path, page.query)
        if not page.file.endswith(".html"):
            return content
        return self._rewrite(content, page.path, page.file, linker, links)

    def _rewrite(self, content, path, file, linker, links=None) -> bytes:
        links = links if links is not None else PageLinks()
        text = rewrite_page(
            content.decode(), linker=linker, page_path=path, page_file=file, links=links
        )
        self.static.update(links.static)
        return text.encode()

    def _put(self, name: str, content: bytes) -> None:
        (self.report.written if self.target.write(name, content) else self.report.kept).append(name)
        self.new.files[name] = digest(content)


def _issue_pages(issues) -> dict[int, list[_Page]]:
    pages = {}
    stories = Story.objects.filter(issue__in=[issue.pk for issue in issues]).exclude(slug="")
    slugs: dict[int, list[str]] = {}
    for issue_id, slug in stories.order_by("position", "pk").values_list("issue_id", "slug"):
        slugs.setdefault(issue_id, []).append(slug)
    for issue in issues:
        arguments = [issue.newsletter.slug, issue.number]
        paths = [reverse("archive:issue", args=arguments)]
        paths += [reverse("archive:story", args=[*arguments, s]) for s in slugs.get(issue.pk, [])]
        pages[issue.pk] = [_Page(path, None, file_of(path)) for path in paths]
    return pages


def _global_pages(issues) -> list[_Page]:
    pages = [_Page(reverse("home"), None, file_of(reverse("home")))]
    pages += _list_pages(reverse("archive:index"), len(issues))
    per_newsletter = Counter(issue.newsletter_id for issue in issues)
    for newsletter in newsletters():
        path = reverse("archive:newsletter", args=[newsletter.slug])
        pages += _list_pages(path, per_newsletter[newsletter.pk])
        for kind in ("rss", "atom", "corrections", "corrections_rss", "corrections_log"):
            feed = reverse(f"archive:{kind}", args=[newsletter.slug])
            pages.append(_Page(feed, None, file_of(feed)))
    pages.append(_Page(reverse("sitemap"), None, file_of(reverse("sitemap"))))
    return pages


def _list_pages(path: str, count: int) -> list[_Page]:
    """The issue list a page at a time, as the list view pages it (no filters)."""
    pages = []
    for number in range(1, max(1, math.ceil(count / ISSUES_PER_PAGE)) + 1):
        query = {"page": number} if number > 1 else None
        pages.append(_Page(path, query, file_of(path, urlencode(query or {}))))
    return pages


def _fingerprints(issues, *, frame: str) -> dict[int, str]:
    """Per issue, a hash of everything its pages show, read in six queries in all."""
    ids = [issue.pk for issue in issues]
    common = {
        "format": EXPORT_FORMAT,
        "frame": frame,
        # The release's templates, styles and code (archive.freshness): a deploy that changes
        # how a page is made renders every issue again.
        "code": code_version()[0],
        "settings": [settings.BELLCMS_BASE_URL, settings.STATIC_URL, settings.TIME_ZONE],
        "language": translation.get_language(),
    }
    parts: dict[int, dict] = {
        issue.pk: {
            "issue": _issue_row(issue),
            "stories": [],
            "blocks": [],
            "authors": [],
            "record": [],
        }
        for issue in issues
    }
    stories = (
        Story.objects.filter(issue__in=ids)
        .annotate(takeaway_md5=MD5("takeaway"))
        .order_by("issue_id", "position", "pk")
        .values_list("issue_id", "pk", "revision", "updated_at", "slug", "headline", "takeaway_md5")
    )
    for issue_id, *row in stories:
        parts[issue_id]["stories"].append(row)
    blocks = (
        Block.objects.filter(story__issue__in=ids)
        .annotate(text_md5=MD5("text"))
        .order_by("story__issue_id", "story_id", "position")
        .values_list("story__issue_id", "story_id", "position", "kind", "text_md5")
    )
    for issue_id, *row in blocks:
        parts[issue_id]["blocks"].append(row)
    authors = (
        Story.authors.through.objects.filter(story__issue__in=ids)
        .order_by("story__issue_id", "story_id", "user__last_name", "user_id")
        .values_list("story__issue_id", "story_id", "user__first_name", "user__last_name")
    )
    for issue_id, *row in authors:
        parts[issue_id]["authors"].append(row)
    # The record: a correction or a retraction changes what the issue's pages show.
    corrections = (
        Correction.objects.filter(story__issue__in=ids)
        .annotate(note_md5=MD5("note"))
        .order_by("story__issue_id", "story_id", "number")
        .values_list("story__issue_id", "story_id", "number", "kind", "created_at", "note_md5")
    )
    withdrawals = (
        Withdrawal.objects.carried_out()
        .filter(story__issue__in=ids)
        .annotate(note_md5=MD5("note"))
        .order_by("story__issue_id", "story_id", "pk")
        .values_list("story__issue_id", "story_id", "kind", "approved_at", "note_md5")
    )
    for issue_id, *row in [*corrections, *withdrawals]:
        parts[issue_id]["record"].append(row)
    return {pk: _hash({"common": common, **part}) for pk, part in parts.items()}


def _issue_row(issue) -> list:
    newsletter = issue.newsletter
    return [
        issue.pk,
        issue.revision,
        issue.updated_at,
        issue.published_at,
        issue.status,
        issue.number,
        issue.title,
        newsletter.pk,
        newsletter.slug,
        newsletter.name,
        newsletter.kicker,
        newsletter.takeaway_label,
        newsletter.language,
        newsletter.mirror_urls,
    ]


def _hash(data) -> str:
    encoded = json.dumps(data, default=str, sort_keys=True, ensure_ascii=False).encode()
    return hashlib.sha256(encoded).hexdigest()
