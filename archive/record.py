"""The public record of a newsletter: every correction and every retraction or takedown carried
out, newest first, for its corrections page and feed (``views.corrections``,
``feeds.CorrectionsRss``). Who asked and who approved stay in the newsroom's own log."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from issues.models import Correction, Withdrawal, story_record_prefetches
from issues.rendering import Fragment, paragraphs, story_public_headline, withdrawal_note

from .queries import published_stories, story_path


@dataclass(frozen=True)
class RecordEntry:
    kind: str
    label: str
    at: datetime
    note: list[Fragment]
    headline: str
    url: str
    issue_number: int


def record_entries(newsletter, *, limit: int | None = None) -> list[RecordEntry]:
    """The newsletter's corrections and carried-out withdrawals, newest first: one query for
    the stories and two for their record (their text is not read)."""
    on_record = Q(pk__in=Correction.objects.values("story")) | Q(
        pk__in=Withdrawal.objects.carried_out().values("story")
    )
    stories = (
        published_stories()
        .filter(on_record, issue__newsletter=newsletter)
        .exclude(slug="")
        .prefetch_related(*story_record_prefetches())
    )
    entries = []
    for story in stories:
        headline, url = story_public_headline(story), story_path(story)
        for correction in story.corrections.all():
            entries.append(
                RecordEntry(
                    correction.kind,
                    correction.get_kind_display(),
                    correction.created_at,
                    paragraphs(correction.note),
                    headline,
                    url,
                    story.issue.number,
                )
            )
        for withdrawal in story.withdrawals.all():
            entries.append(
                RecordEntry(
                    withdrawal.kind,
                    withdrawal.get_kind_display(),
                    withdrawal.approved_at,
                    withdrawal_note(withdrawal),
                    headline,
                    url,
                    story.issue.number,
                )
            )
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries[:limit] if limit else entries
