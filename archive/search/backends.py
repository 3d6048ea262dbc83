"""Two ways to find stories, chosen by the database: PostgreSQL's full-text search over the
stored vectors, and on SQLite (``make run``) a plain word match over the stored text.

Both answer the same two questions: which published stories match, best first (``matches``:
a QuerySet of ``StoryDocument``, to paginate), and what to show of each one found
(``highlight``: its headline and a snippet, as safe HTML). The embargo is applied here, on
every search, through ``archive.queries.standing_stories``.
"""

import re
from functools import reduce
from operator import or_

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.functions import Concat
from django.utils.safestring import SafeString

from ..queries import standing_stories
from .indexing import CONFIGS, MARK_END, MARK_START, as_words
from .models import StoryDocument
from .snippets import excerpt_marked, marked_html

# At most this many query words count in the plain match: each is one more LIKE over every row.
PLAIN_MAX_WORDS = 8
_WORD = re.compile(r"(-?)(\w+)")
# ts_headline puts these around matching words; ``snippets.marked_html`` makes them <mark>.
_MARKS = {"start_sel": MARK_START, "stop_sel": MARK_END}


def _published(newsletter) -> QuerySet:
    documents = StoryDocument.objects.filter(story__in=standing_stories())
    if newsletter is not None:
        documents = documents.filter(story__issue__newsletter=newsletter)
    return documents.select_related("story__issue__newsletter")


class PostgresSearch:
    """Ranked full-text search: the query is parsed as a web search box's (``websearch``:
    "quoted phrases", -excluded, OR) in each story's own language."""

    def _query(self, text: str, config) -> SearchQuery:
        return SearchQuery(text, config=config, search_type="websearch")

    def matches(self, text: str, *, newsletter=None) -> QuerySet:
        # One condition per configuration, each with a constant query, so that PostgreSQL can
        # answer each from the GIN index; a query built from the row's own configuration
        # could only be checked row by row.
        found = reduce(
            or_, (Q(config=config, vector=self._query(text, config)) for config in CONFIGS)
        )
        query = self._query(text, F("config"))
        return (
            _published(newsletter)
            .filter(found)
            .annotate(
                rank=SearchRank(F("vector"), query),
                headline_marked=SearchHeadline(
                    as_words("headline"), query, config=F("config"), highlight_all=True, **_MARKS
                ),
                snippet_marked=SearchHeadline(
                    as_words(Concat("body", Value("\n"), "takeaway", output_field=TextField())),
                    query,
                    config=F("config"),
                    max_fragments=2,
                    max_words=24,
                    min_words=12,
                    fragment_delimiter=" … ",
                    **_MARKS,
                ),
            )
            .order_by("-rank", "-story__issue__published_at", "story_id")
        )

    def highlight(self, document: StoryDocument, text: str) -> tuple[SafeString, SafeString]:
        """The headline and a snippet of a document ``matches`` found, as safe HTML."""
        return marked_html(document.headline_marked), marked_html(document.snippet_marked)


class PlainSearch:
    """Every word of the query somewhere in the story, whatever its case; stories with more of
    the words in their headline first, then the newest. No stemming: for development on
    SQLite, whose LIKE also ignores case for ASCII letters only."""

    def _words(self, text: str) -> tuple[list[str], list[str]]:
        wanted, unwanted = [], []
        for minus, word in _WORD.findall(text):
            if word == "OR":  # an operator to the full-text search; only a word here
                continue
            (unwanted if minus else wanted).append(word)
        return wanted[:PLAIN_MAX_WORDS], unwanted[:PLAIN_MAX_WORDS]

    def matches(self, text: str, *, newsletter=None) -> QuerySet:
        wanted, unwanted = self._words(text)
        if not wanted:
            return StoryDocument.objects.none()
        documents = _published(newsletter)
        for word in wanted:
            documents = documents.filter(_anywhere(word))
        for word in unwanted:
            documents = documents.exclude(_anywhere(word))
        headline_hits = sum(
            (
                Case(When(headline__icontains=word, then=1), default=0, output_field=IntegerField())
                for word in wanted
            ),
            Value(0),
        )
        return documents.annotate(headline_hits=headline_hits).order_by(
            "-headline_hits", "-story__issue__published_at", "story_id"
        )

    def highlight(self, document: StoryDocument, text: str) -> tuple[SafeString, SafeString]:
        """The headline and the text around the first match, as safe HTML."""
        wanted, _ = self._words(text)
        return (
            excerpt_marked(document.headline, wanted, whole=True),
            excerpt_marked(f"{document.body}\n{document.takeaway}", wanted),
        )


def _anywhere(word: str) -> Q:
    return Q(headline__icontains=word) | Q(body__icontains=word) | Q(takeaway__icontains=word)


def search_backend(using=connection):
    """Full-text search on PostgreSQL, the plain word match anywhere else."""
    return PostgresSearch() if using.vendor == "postgresql" else PlainSearch()
