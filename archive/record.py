"""The public record of a newsletter: every correction and every retraction or takedown carried
out, newest first, for its corrections page and feed (``views.corrections``,
``feeds.CorrectionsRss``), and with the notices emailed to readers, for its public log
(``record_log``, ``views.corrections_log``). Who asked and who approved, the reasons for a
takedown and the newsroom's verdicts stay in the newsroom's own log."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q
from django.utils.translation import gettext as _

from issues.models import Correction, CorrectionNotice, Withdrawal, story_record_prefetches
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


def record_log(newsletter) -> list[dict]:
    """Every public step on the newsletter's record, newest first, as plain data for its log
    (``corrections/log.json``, also in the static mirror): each correction and withdrawal as
    readers see it, and each notice emailed to the readers of an issue. No names, no
    requests, no reasons kept in the newsroom."""
    entries = record_entries(newsletter)
    headlines = {entry.url: entry.headline for entry in entries}
    steps = [
        {
            "at": entry.at,
            "step": entry.kind,
            "label": str(entry.label),
            "issue": entry.issue_number,
            "story": entry.url,
            "headline": entry.headline,
            "note": "\n\n".join(fragment.text for fragment in entry.note),
        }
        for entry in entries
    ]
    notices = CorrectionNotice.objects.filter(story__in=published_stories()).filter(
        story__issue__newsletter=newsletter
    )
    for notice in notices.select_related("story__issue"):
        path, number = story_path(notice.story), notice.story.issue.number
        steps.append(
            {
                "at": notice.created_at,
                "step": "notice",
                "label": str(_("Notice emailed")),
                "issue": number,
                "story": path,
                "headline": headlines.get(path, ""),
                "note": _("Emailed to the readers of issue #%(number)s.") % {"number": number},
            }
        )
    steps.sort(key=lambda step: step["at"], reverse=True)
    return [{**step, "at": step["at"].isoformat()} for step in steps]
