"""Keeps the archive's stamp moving with every edit, and old story addresses working.

Receivers listen to every model of the editorial app that a public page shows (proxies such as
``BulletPoint`` included, which is why they filter by class rather than by sender).
"""

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from issues.models import (
    Block,
    Correction,
    CorrectionNotice,
    Issue,
    Newsletter,
    Story,
    Withdrawal,
)
from issues.signals import issue_published
from issues.slugs import OUT_STATES

from .freshness import stamp_bump
from .models import RetiredSlug

SHOWN = (Newsletter, Issue, Story, Block, Correction, Withdrawal, CorrectionNotice)


@receiver(post_save)
@receiver(post_delete)
def archive_changed(sender, instance, **kwargs):
    if isinstance(instance, SHOWN):
        stamp_bump()


@receiver(m2m_changed, sender=Story.authors.through)
def authors_changed(sender, action, **kwargs):
    if action in {"post_add", "post_remove", "post_clear"}:
        stamp_bump()


@receiver(issue_published)
def issue_went_out(sender, **kwargs):
    stamp_bump()


@receiver(pre_save, sender=Story)
def keep_old_address(sender, instance, update_fields=None, **kwargs):
    """A published story whose slug changes keeps its old address, as a redirect."""
    if instance.pk is None or (update_fields is not None and "slug" not in update_fields):
        return
    before = (
        Story.objects.filter(pk=instance.pk, issue__status__in=OUT_STATES)
        .values_list("slug", "issue_id")
        .first()
    )
    if before is None:
        return
    old_slug, issue_id = before
    if old_slug and old_slug != instance.slug and issue_id == instance.issue_id:
        RetiredSlug.objects.get_or_create(
            issue_id=issue_id, slug=old_slug, defaults={"story": instance}
        )
    # A story taking back an address it once had no longer redirects from it.
    RetiredSlug.objects.filter(issue_id=instance.issue_id, slug=instance.slug).delete()
