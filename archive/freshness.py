"""Cheap, correct caching for archive pages.

Every change to a newsletter, issue, story or block moves one stamp (``ArchiveStamp``) once its
transaction commits. A page's ETag and Last-Modified come from that stamp, so a conditional GET
is answered 304 after a single one-row read, and a rendered page is kept in the cache under the
stamp: once anything changes, no cached page is served again. Publishing an issue changes it, so
an embargoed issue never lingers in a cache as a 404, nor does a published one as its old self.

A new release changes pages without touching the database: the code's own fingerprint
(``code_version``) goes into every ETag and cache key, and its newest file into Last-Modified.
"""

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from functools import cache as once
from functools import partial, wraps
from hashlib import blake2b
from time import monotonic

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import quote_etag, urlencode
from django.utils.translation import get_language
from django.views.decorators.http import condition

from .models import ArchiveStamp


@dataclass(frozen=True)
class Stamp:
    number: int
    changed_at: dt.datetime


STAMP_KEY = "archive:stamp"
# The stamp in the shared cache is set at every change; this bounds how stale a cache that is
# not shared between processes (tests, a development server) can leave it.
STAMP_CACHE_SECONDS = 60
# Each process trusts the stamp it last read for this long (seconds), so that a cached page costs
# no database query and no second cache read: a change reaches every process within it.
_held: tuple[float, Stamp] | None = None


def stamp() -> Stamp:
    """The current stamp: from this process's memory, the shared cache, or the database."""
    global _held
    now = monotonic()
    held = _held
    if held is not None and now - held[0] < settings.ARCHIVE_STAMP_SECONDS:
        return held[1]
    current = cache.get(STAMP_KEY)
    if current is None:
        row = _row()
        current = Stamp(row.number, row.changed_at)
        # add, not set: a change committed meanwhile has set a newer stamp, which must stay.
        cache.add(STAMP_KEY, current, STAMP_CACHE_SECONDS)
    _held = (now, current)
    return current


def stamp_forget() -> None:
    """Read the stamp afresh next time (after a change in this process, and between tests)."""
    global _held
    _held = None
    _recent.clear()


def _row() -> ArchiveStamp:
    # Migration 0001 makes the row; a test database flushed since has none until asked.
    row, _ = ArchiveStamp.objects.get_or_create(pk=1, defaults={"changed_at": timezone.now()})
    return row


# Whether this thread has a change not yet stamped. Every change registers a callback, but the
# first to run after a commit does the work: a transaction that saved twenty blocks moves the
# stamp once. A rolled-back transaction leaves the flag up; the next commit moves the stamp
# then, which is harmless.
_pending = threading.local()


def _bump() -> None:
    if not getattr(_pending, "bump", False):
        return
    _pending.bump = False
    _row()
    ArchiveStamp.objects.filter(pk=1).update(number=F("number") + 1, changed_at=timezone.now())
    row = ArchiveStamp.objects.get(pk=1)
    cache.set(STAMP_KEY, Stamp(row.number, row.changed_at), STAMP_CACHE_SECONDS)
    stamp_forget()


def stamp_bump() -> None:
    """Mark everything the archive shows as changed, once the current transaction commits."""
    _pending.bump = True
    transaction.on_commit(_bump)


# What a page is made from besides the database: templates, styles and the code that renders.
CODE_FOLDERS = ("templates", "static", "archive", "issues", "subscribers", "bellcms")
CODE_SUFFIXES = frozenset({".py", ".html", ".txt", ".css", ".js", ".svg"})


@once
def code_version() -> tuple[str, dt.datetime]:
    """A fingerprint of the running release's page-making files, and when the newest changed.

    Read once per process: the same files give the same fingerprint in every worker and on
    every host of a release, so ETags agree between them.
    """
    digest, newest = blake2b(digest_size=8), 0.0
    for folder in CODE_FOLDERS:
        for path in sorted((settings.BASE_DIR / folder).rglob("*")):
            if path.suffix in CODE_SUFFIXES and path.is_file():
                digest.update(str(path.relative_to(settings.BASE_DIR)).encode())
                digest.update(path.read_bytes())
                newest = max(newest, path.stat().st_mtime)
    return digest.hexdigest(), dt.datetime.fromtimestamp(newest, tz=dt.UTC)


def _request_stamp(request) -> Stamp:
    if not hasattr(request, "_archive_stamp"):
        request._archive_stamp = stamp()
    return request._archive_stamp


class _RecentPages:
    """The pages this process served last, in memory, up to ``limit`` bytes: a page asked for
    again is answered without even a cache round trip. Keys carry the stamp, so an entry is
    never stale, only unused; the least recently used go first."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self.pages: OrderedDict[str, tuple[bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: str):
        with self.lock:
            page = self.pages.get(key)
            if page is not None:
                self.pages.move_to_end(key)
            return page

    def put(self, key: str, page: tuple[bytes, str]) -> None:
        with self.lock:
            if key in self.pages or len(page[0]) > self.limit:
                return
            self.pages[key] = page
            self.size += len(page[0])
            while self.size > self.limit:
                _, (content, _type) = self.pages.popitem(last=False)
                self.size -= len(content)

    def clear(self) -> None:
        with self.lock:
            self.pages.clear()
            self.size = 0


# Some hundreds of pages: the week's issue, its stories and the home page are most of the traffic.
_recent = _RecentPages(limit=8 * 1024 * 1024)


def _address(request, reads) -> str:
    """The page's address as far as its content goes: the path and the parameters it reads."""
    if reads is None:
        return request.get_full_path()
    kept = sorted((name, value) for name in reads for value in request.GET.getlist(name))
    return f"{request.path}?{urlencode(kept)}" if kept else request.path


def _last_modified(request, *args, **kwargs):
    return max(_request_stamp(request).changed_at, code_version()[1])


def archive_page(view=None, *, reads: tuple[str, ...] | None = None):
    """A public archive page: ETag/Last-Modified from the stamp (304 on a conditional GET),
    ``Cache-Control: public``, and the rendered page kept in the cache until the stamp moves.
    Only 200 answers are kept; a 404 is computed each time.

    ``reads`` names the query parameters the page depends on (``@archive_page(reads=("q",))``);
    any other is ignored, so that ``?anything=1`` can neither skip the cache nor fill it. Used
    bare, the whole query string counts.
    """
    if view is None:
        return partial(archive_page, reads=reads)

    def etag(request, *args, **kwargs) -> str:
        # Asked twice a request (the conditional GET, then the cache key): worked out once.
        if not hasattr(request, "_archive_etag"):
            current = _request_stamp(request)
            address = _address(request, reads)
            key = f"{code_version()[0]}:{current.number}:{get_language()}:{address}"
            request._archive_etag = quote_etag(blake2b(key.encode(), digest_size=12).hexdigest())
        return request._archive_etag

    @condition(etag_func=etag, last_modified_func=_last_modified)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        key = f"archive:page:{etag(request)}"
        kept = _recent.get(key)
        if kept is None:
            kept = cache.get(key)
            if kept is not None:
                _recent.put(key, kept)
        if kept is not None:
            content, content_type = kept
            response = HttpResponse(content, content_type=content_type)
        else:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                if hasattr(response, "render"):
                    response.render()
                kept = (response.content, response["Content-Type"])
                cache.set(key, kept, settings.ARCHIVE_CACHE_SECONDS)
                if settings.ARCHIVE_CACHE_SECONDS:
                    _recent.put(key, kept)
        if response.status_code == 200:
            patch_cache_control(response, public=True, max_age=settings.ARCHIVE_MAX_AGE)
        return response

    return wrapped
