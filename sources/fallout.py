"""Fallout review: when a contributor or a source is found out, everything they touched.

Starting from a person or from a source, ``fallout_review`` finds every story the person
wrote, every story citing a source they brought (whoever wrote it), or every story citing the
source, across issues, with each story's status, publication and record. An editor then
decides story by story (``verdict_record``: verified, unverifiable, source denies, fabricated,
each an event on the story's log) and corrects or retracts a selection in one step
(``stories_correct``, ``stories_retract``: the services of ``issues.corrections`` story by
story, so a retraction still needs a second editor) and tells the readers who got them
(``stories_notice``: each story's correction notice). From the same review: the contributor is
deactivated (``contributor_deactivate``), their sources are put under review
(``sources_under_review``, which flags every story citing them), and a public note listing
the retracted headlines is drafted as a story (``retractions_note_draft``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import reversion
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from issues.corrections import correction_notice_send, story_correct, story_retract
from issues.models import Block, BlockKind, Story, Withdrawal, WithdrawalKind
from issues.people import person_name
from issues.steps import WorkflowError, quoted, story_event

from .consequences import source_status_set
from .errors import SourceRefused
from .models import Citation, Source, SourceStatus, StoryFlag, StoryVerdict, Verdict

# Who may run a review and act on it: the editors who correct and retract.
REVIEW_PERMISSION = "issues.correct_story"


@dataclass
class FalloutRow:
    """One story in a review: why it is there and where it stands."""

    story: Story
    authored: bool = False
    # Codenames of the sources under review this story cites.
    cites: list[str] = field(default_factory=list)

    @property
    def published_at(self) -> datetime | None:
        issue = self.story.issue
        return issue.published_at if issue is not None else None

    @property
    def verdict(self) -> StoryVerdict | None:
        verdicts = self.story.verdicts.all()
        return verdicts[0] if verdicts else None

    @property
    def withdrawn(self) -> Withdrawal | None:
        return next((w for w in self.story.withdrawals.all() if w.approved_at), None)

    @property
    def asked(self) -> Withdrawal | None:
        return next(
            (w for w in self.story.withdrawals.all() if not w.approved_at and not w.cancelled_at),
            None,
        )


@dataclass(frozen=True)
class Outcome:
    """What a step on a selection did: the stories it changed, and those it refused, each
    with the service's words."""

    done: list[Story]
    refused: list[tuple[Story, str]]


def review_check(acting_user) -> None:
    if not acting_user.has_perm(REVIEW_PERMISSION):
        raise SourceRefused(_("Only editors review a contributor's or a source's stories."))


def review_sources(*, person=None, source: Source | None = None) -> list[Source]:
    """The sources a review follows: those ``person`` brought, or ``source`` alone."""
    if (person is None) == (source is None):
        raise TypeError("a fallout review starts from exactly one of a person and a source")
    if source is not None:
        return [source]
    return list(Source.objects.filter(handler=person).order_by("codename"))


def fallout_review(*, person=None, source: Source | None = None) -> list[FalloutRow]:
    """Every story ``person`` wrote or that cites a source they brought, or every story citing
    ``source``, newest publication first and stories not yet published last."""
    sources = review_sources(person=person, source=source)
    rows: dict[int, FalloutRow] = {}
    if person is not None:
        for pk in Story.objects.filter(authors=person).values_list("pk", flat=True):
            rows[pk] = FalloutRow(story=None, authored=True)
    cited = (
        Citation.sources.through.objects.filter(source__in=sources)
        .order_by("source__codename")
        .values_list("citation__block__story_id", "source__codename")
    )
    for story_id, codename in cited:
        row = rows.setdefault(story_id, FalloutRow(story=None))
        if codename not in row.cites:
            row.cites.append(codename)
    stories = Story.objects.filter(pk__in=rows).select_related("issue__newsletter")
    stories = stories.prefetch_related(
        "authors",
        Prefetch("verdicts", queryset=StoryVerdict.objects.select_related("decided_by")),
        Prefetch(
            "withdrawals",
            queryset=Withdrawal.objects.select_related("requested_by", "approved_by"),
        ),
        "corrections",
    )
    for story in stories:
        rows[story.pk].story = story
    return sorted(
        rows.values(),
        key=lambda row: (
            row.published_at is None,
            -row.published_at.timestamp() if row.published_at else 0,
            row.story.position or 0,
            row.story.pk,
        ),
    )


def verdict_record(*, stories: Iterable[Story], verdict: str, note: str, acting_user) -> list:
    """Record ``verdict`` on each of ``stories``, with what the editor found; each is an event
    on the story's log. Earlier verdicts stay."""
    review_check(acting_user)
    if verdict not in Verdict.values:
        raise SourceRefused(
            _("Choose a verdict: verified, unverifiable, source denies or fabricated."),
            code="verdict",
        )
    note = (note or "").strip()
    if not note:
        raise SourceRefused(_("Say what you found: a verdict needs a note."), code="note")
    label = Verdict(verdict).label
    recorded = []
    with transaction.atomic():
        for story in stories:
            recorded.append(
                StoryVerdict.objects.create(
                    story=story, verdict=verdict, note=note, decided_by=acting_user
                )
            )
            story_event(story, acting_user, "verdict", f"{label}: {note}")
    return recorded


def _each(stories: Iterable[Story], step) -> Outcome:
    """``step(story)`` on each story in its own transaction (the services' own), so one
    refusal leaves the others done."""
    done, refused = [], []
    for story in stories:
        try:
            step(story)
        except WorkflowError as error:
            refused.append((story, error.message))
        else:
            done.append(story)
    return Outcome(done=done, refused=refused)


def stories_correct(*, stories: Iterable[Story], note: str, kind: str, acting_user) -> Outcome:
    """Add the same public correction to each published story of the selection."""
    review_check(acting_user)
    return _each(
        stories,
        lambda story: story_correct(story=story, note=note, kind=kind, acting_user=acting_user),
    )


def stories_retract(*, stories: Iterable[Story], note: str, acting_user) -> Outcome:
    """Ask for the retraction of each story, or carry out another editor's request: the
    two-editor rule of ``story_retract``, story by story."""
    review_check(acting_user)
    return _each(
        stories,
        lambda story: story_retract(story=story, note=note, acting_user=acting_user),
    )


def stories_notice(*, stories: Iterable[Story], acting_user) -> Outcome:
    """Email each story's notice (what changed on its record since the last one) to the
    readers who got its issue (``correction_notice_send``)."""
    review_check(acting_user)
    return _each(
        stories, lambda story: correction_notice_send(story=story, acting_user=acting_user)
    )


def contributor_deactivate(*, person, note: str, acting_user) -> bool:
    """Stop ``person`` signing in, saying why (kept in the admin's history of the account);
    their stories, sources and history stay. Returns whether anything changed."""
    review_check(acting_user)
    note = (note or "").strip()
    if not note:
        raise SourceRefused(_("Say why the account is closed."), code="note")
    if person.pk == acting_user.pk:
        raise SourceRefused(_("You cannot deactivate your own account."), code="self")
    if person.is_superuser and not acting_user.is_superuser:
        raise SourceRefused(
            _("Only a superuser can deactivate a superuser's account."), code="superuser"
        )
    with transaction.atomic():
        current = type(person).objects.select_for_update().get(pk=person.pk)
        if not current.is_active:
            return False
        current.is_active = False
        current.save(update_fields=["is_active"])
        LogEntry.objects.create(
            user_id=acting_user.pk,
            content_type_id=ContentType.objects.get_for_model(current, for_concrete_model=False).pk,
            object_id=str(current.pk),
            object_repr=person_name(current)[:200],
            action_flag=CHANGE,
            change_message=_("Deactivated in a fallout review: %(note)s") % {"note": note},
        )
    person.is_active = False
    return True


def sources_under_review(*, sources: Iterable[Source], note: str, acting_user) -> list[StoryFlag]:
    """Put each active source under review (``source_status_set``: every story citing it is
    flagged and loses its approval); return the flags raised. Burned or retired sources stay
    as they are."""
    review_check(acting_user)
    flags = []
    for source in sources:
        if source.status == SourceStatus.ACTIVE:
            flags += source_status_set(
                source=source, status=SourceStatus.UNDER_REVIEW, acting_user=acting_user, note=note
            )
    return flags


def _retraction_line(withdrawal: Withdrawal) -> str:
    story = withdrawal.story
    issue = story.issue
    return _("%(headline)s, in %(newsletter)s #%(number)s of %(date)s. %(note)s") % {
        "headline": quoted(story.headline),
        "newsletter": issue.newsletter.name,
        "number": issue.number,
        "date": date_format(timezone.localtime(issue.published_at), "j F Y"),
        "note": withdrawal.note,
    }


def retractions_note_draft(*, rows: Iterable[FalloutRow], acting_user, about: str) -> Story:
    """Draft a story, not yet in any issue, that tells readers which of the review's stories
    were retracted and why: a paragraph, then one bullet per retracted headline. Takedowns are
    left out: their headlines are never shown in public. ``about`` names the review in the
    draft's first version's comment."""
    review_check(acting_user)
    retracted = [
        row.withdrawn
        for row in rows
        if row.withdrawn is not None and row.withdrawn.kind == WithdrawalKind.RETRACTION
    ]
    if not retracted:
        raise SourceRefused(
            _("No story in this review has been retracted yet: there is nothing to list."),
            code="none",
        )
    retracted.sort(key=lambda w: (w.story.issue.published_at, w.story.position or 0))
    with transaction.atomic(), reversion.create_revision():
        reversion.set_user(acting_user)
        reversion.set_comment(_("Drafted from the fallout review of %(about)s") % {"about": about})
        story = Story.objects.create(headline=_("Stories we have retracted"))
        story.authors.add(acting_user)
        texts = [
            _(
                "We have retracted the stories below. Each one's address now shows our note in "
                "place of the text."
            ),
            *[_retraction_line(withdrawal) for withdrawal in retracted],
        ]
        Block.objects.bulk_create(
            Block(
                story=story,
                position=position,
                kind=BlockKind.PARAGRAPH if position == 1 else BlockKind.BULLET,
                text=text,
            )
            for position, text in enumerate(texts, start=1)
        )
        # The story was serialised before its blocks existed: add it again, complete.
        reversion.add_to_revision(story)
    return story
