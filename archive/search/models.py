"""What search reads: each story's words as plain text, and on PostgreSQL its stored vector."""

from django.contrib.postgres.search import SearchVectorField
from django.db import models
from django.utils.translation import gettext_lazy as _


class StoryDocument(models.Model):
    """A story as search sees it: headline, body (sub-headings, paragraphs and bullet points)
    and takeaway as plain text, and their weighted ``tsvector`` (headline A, body B,
    takeaway C) in the configuration of the newsletter's language.

    Written only by ``archive.search.indexing``. The vector stays empty on SQLite, which
    searches the plain text instead; on PostgreSQL it has a GIN index (migration 0002).
    """

    story = models.OneToOneField(
        "issues.Story",
        verbose_name=_("story"),
        on_delete=models.CASCADE,
        related_name="search_document",
    )
    config = models.CharField(
        _("text search configuration"),
        max_length=20,
        help_text=_("PostgreSQL's name for how words are stemmed: english, russian or simple."),
    )
    headline = models.CharField(_("headline"), max_length=300)
    body = models.TextField(_("body"), blank=True)
    takeaway = models.TextField(_("takeaway"), blank=True)
    vector = SearchVectorField(_("search vector"), null=True, editable=False)
    indexed_at = models.DateTimeField(_("indexed"), auto_now=True)

    class Meta:
        verbose_name = _("story search document")
        verbose_name_plural = _("story search documents")
        ordering = ["story"]

    def __str__(self):
        return self.headline
