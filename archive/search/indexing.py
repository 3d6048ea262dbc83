"""Writes ``StoryDocument`` rows: the only code that does.

A story's row is rebuilt whole from the story as it is in the database, so refreshing is safe to
repeat and to run late; the receivers in ``archive.search.signals`` and ``manage.py
archive_reindex`` both call ``documents_refresh``.
"""

from collections.abc import Iterable

from django.contrib.postgres.search import SearchVector
from django.db import connection, transaction
from django.db.models import F, Prefetch, TextField, Value
from django.db.models.functions import Replace

from issues.models import Block, Story
from issues.rendering import inline_text

from ..freshness import stamp_bump
from .models import StoryDocument

# PostgreSQL text search configurations by Newsletter.language; any other language is only
# split into words, not stemmed.
LANGUAGE_CONFIGS = {"en": "english", "ru": "russian"}
FALLBACK_CONFIG = "simple"
CONFIGS = (*LANGUAGE_CONFIGS.values(), FALLBACK_CONFIG)

# Private-use characters that mark highlighted words in a snippet until it is escaped
# (``archive.search.snippets``). Stored text never holds them, so no story can forge a mark.
MARK_START = "\ue000"
MARK_END = "\ue001"
# PostgreSQL's parser takes anything like "<b and c >" for an HTML tag, leaves its words out of
# the vector and drops it from snippets. Stories are plain text, so "<" stands in as this for
# the database and is put back before escaping: "<script>" is words like any other.
LESS_THAN = "\ue002"
_NO_MARKS = str.maketrans("", "", MARK_START + MARK_END + LESS_THAN)

# Stories read and written per round trip by a full rebuild: each row holds a story's whole text.
REINDEX_BATCH_SIZE = 200


def search_config(language: str) -> str:
    return LANGUAGE_CONFIGS.get(language, FALLBACK_CONFIG)


def as_words(expression):
    """Stored text as the database should parse it: no "<" to start a tag (``LESS_THAN``)."""
    return Replace(expression, Value("<"), Value(LESS_THAN), output_field=TextField())


def _vector():
    config = F("config")
    return (
        SearchVector(as_words("headline"), config=config, weight="A")
        + SearchVector(as_words("body"), config=config, weight="B")
        + SearchVector(as_words("takeaway"), config=config, weight="C")
    )


def _plain(text: str) -> str:
    return text.translate(_NO_MARKS)


def _document(story: Story) -> StoryDocument:
    language = story.issue.newsletter.language if story.issue else ""
    body = "\n".join(inline_text(block.text, urls=False) for block in story.blocks.all())
    return StoryDocument(
        story=story,
        config=search_config(language),
        headline=_plain(story.headline),
        body=_plain(body),
        takeaway=_plain(inline_text(story.takeaway, urls=False)),
    )


def documents_refresh(*, story_ids: Iterable[int]) -> int:
    """Rebuild the search rows of these stories from what they say now (a story gone since
    simply has none); return how many rows were written. Four queries, whatever the number."""
    story_ids = set(story_ids)
    if not story_ids:
        return 0
    stories = Story.objects.filter(pk__in=story_ids).select_related("issue__newsletter")
    stories = stories.prefetch_related(
        Prefetch("blocks", queryset=Block.objects.order_by("position"))
    )
    documents = [_document(story) for story in stories]
    if not documents:
        return 0
    with transaction.atomic():
        StoryDocument.objects.bulk_create(
            documents,
            update_conflicts=True,
            unique_fields=["story"],
            update_fields=["config", "headline", "body", "takeaway", "indexed_at"],
        )
        if connection.vendor == "postgresql":
            # Computed by the database from the stored text, once per write, never per search.
            written = [document.story_id for document in documents]
            StoryDocument.objects.filter(story_id__in=written).update(vector=_vector())
        # Search pages are cached under the archive's stamp: move it once the rows are in.
        stamp_bump()
    return len(documents)


def documents_rebuild() -> int:
    """Rebuild every story's search row (``manage.py archive_reindex``); return the count."""
    ids = list(Story.objects.order_by("pk").values_list("pk", flat=True))
    return sum(
        documents_refresh(story_ids=ids[start : start + REINDEX_BATCH_SIZE])
        for start in range(0, len(ids), REINDEX_BATCH_SIZE)
    )


def stale_story_ids(stories) -> list[int]:
    """Of these stories, those whose row is missing or in another language's configuration
    than their newsletter's now: what an issue or newsletter change leaves out of date."""
    stale = []
    for story_id, language, config in stories.order_by().values_list(
        "pk", "issue__newsletter__language", "search_document__config"
    ):
        if config != search_config(language or ""):
            stale.append(story_id)
    return stale
