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
from functools import cache as once
from functools import wraps
from hashlib import blake2b

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F
from django.http import HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import quote_etag
from django.utils.translation import get_language
from django.views.decorators.http import condition

from .models import ArchiveStamp


def stamp() -> ArchiveStamp:
    current = ArchiveStamp.objects.filter(pk=1).first()
    if current is None:
        current, _ = ArchiveStamp.objects.get_or_create(
            pk=1, defaults={"changed_at": timezone.now()}
        )
    return current


def _bump() -> None:
    changed = ArchiveStamp.objects.filter(pk=1).update(
        number=F("number") + 1, changed_at=timezone.now()
    )
    if not changed:
        ArchiveStamp.objects.get_or_create(pk=1, defaults={"changed_at": timezone.now()})


def stamp_bump() -> None:
    """Mark everything the archive shows as changed, once the current transaction commits."""
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


def _request_stamp(request) -> ArchiveStamp:
    if not hasattr(request, "_archive_stamp"):
        request._archive_stamp = stamp()
    return request._archive_stamp


def _etag(request, *args, **kwargs) -> str:
    current = _request_stamp(request)
    key = f"{code_version()[0]}:{current.number}:{get_language()}:{request.get_full_path()}"
    return quote_etag(blake2b(key.encode(), digest_size=12).hexdigest())


def _last_modified(request, *args, **kwargs):
    return max(_request_stamp(request).changed_at, code_version()[1])


def archive_page(view):
    """A public archive page: ETag/Last-Modified from the stamp (304 on a conditional GET),
    ``Cache-Control: public``, and the rendered page kept in the cache until the stamp moves.
    Only 200 answers are kept; a 404 is computed each time."""

    @condition(etag_func=_etag, last_modified_func=_last_modified)
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        etag = _etag(request)
        key = f"archive:page:{etag}"
        kept = cache.get(key)
        if kept is not None:
            content, content_type = kept
            response = HttpResponse(content, content_type=content_type)
        else:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                if hasattr(response, "render"):
                    response.render()
                cache.set(
                    key,
                    (response.content, response["Content-Type"]),
                    settings.ARCHIVE_CACHE_SECONDS,
                )
        if response.status_code == 200:
            patch_cache_control(response, public=True, max_age=settings.ARCHIVE_MAX_AGE)
        return response

    return wrapped
