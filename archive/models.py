"""What the archive keeps of its own: one stamp that changes with every edit, and the addresses
stories had before an editor changed them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .search.models import StoryDocument  # noqa: F401  (registered as an archive model)


class ArchiveStamp(models.Model):
    """One row: goes up by one whenever anything the archive shows may have changed.

    Every archive page's ETag and Last-Modified come from it, and cached pages are kept under it,
    so that one cheap read tells whether a cached page is still true (``archive.freshness``).
    """

    number = models.PositiveBigIntegerField(default=1)
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name = _("archive stamp")

    def __str__(self):
        return f"#{self.number} at {self.changed_at:%Y-%m-%d %H:%M:%S}"


class RetiredSlug(models.Model):
    """An address a published story had before its slug was changed: it redirects."""

    story = models.ForeignKey(
        "issues.Story", on_delete=models.CASCADE, related_name="retired_slugs"
    )
    issue = models.ForeignKey("issues.Issue", on_delete=models.CASCADE, related_name="+")
    slug = models.SlugField(max_length=120, allow_unicode=True)
    retired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("retired story address")
        constraints = [
            models.UniqueConstraint(fields=["issue", "slug"], name="retired_slug_unique_per_issue")
        ]

    def __str__(self):
        return self.slug
