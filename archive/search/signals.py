"""Keeps search rows current: a story's row is rebuilt once the edit that touched it commits.

Receivers only note which stories changed; ``indexing.documents_refresh`` does the work after
the commit, once for all the stories one transaction touched (saving a story's twenty blocks
refreshes it once). They filter by class rather than by sender, as ``archive.signals`` does,
so that proxies such as ``BulletPoint`` count too.
"""

import threading

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from issues.models import Block, Issue, Newsletter, Story

from .indexing import documents_refresh, stale_story_ids

# Story ids noted in this thread and not refreshed yet. A rolled-back transaction drops its
# callbacks but leaves its ids here: the next commit refreshes them too, which is harmless.
_pending = threading.local()


def _refresh_pending() -> None:
    story_ids = getattr(_pending, "story_ids", set())
    _pending.story_ids = set()
    documents_refresh(story_ids=story_ids)


def story_refresh_soon(story_ids) -> None:
    """Refresh these stories' search rows once the current transaction commits."""
    story_ids = set(story_ids)
    if not story_ids:
        return
    pending = getattr(_pending, "story_ids", None)
    if pending is None:
        pending = _pending.story_ids = set()
    pending |= story_ids
    # A failed refresh must not turn a saved edit into an error page: it is logged, and
    # ``manage.py archive_reindex`` mends the index.
    transaction.on_commit(_refresh_pending, robust=True)


@receiver(post_save, dispatch_uid="archive.search.indexed_changed")
@receiver(post_delete, dispatch_uid="archive.search.indexed_deleted")
def indexed_changed(sender, instance, **kwargs):
    if isinstance(instance, Story):
        story_refresh_soon([instance.pk])
    elif isinstance(instance, Block):
        story_refresh_soon([instance.story_id])


@receiver(post_save, sender=Issue, dispatch_uid="archive.search.issue_changed")
def issue_changed(sender, instance, created, update_fields=None, **kwargs):
    # A row depends on its issue only through the newsletter's language: a workflow step
    # (which saves named fields, never the newsletter) leaves every row as it was.
    if created or (update_fields is not None and "newsletter" not in update_fields):
        return
    story_refresh_soon(stale_story_ids(Story.objects.filter(issue=instance)))


@receiver(post_save, sender=Newsletter, dispatch_uid="archive.search.newsletter_changed")
def newsletter_changed(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and "language" not in update_fields):
        return
    story_refresh_soon(stale_story_ids(Story.objects.filter(issue__newsletter=instance)))
