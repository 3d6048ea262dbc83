"""When a source is put in doubt: every story citing it waits for an editor.

A story is *in doubt* while it cites a source that is under review or burned and no editor has
cleared it for that status. Moving a source there flags each story citing it (a banner on the
story, a badge and a filter in the story list), takes back an approval, and takes a scheduled
issue holding the story off the schedule; citing such a source flags the story too. Approval
is refused until an editor clears the doubt with a note. Each step is an event on the story's
workflow log. Doubt is read from the citations as they are, so a revert that brings back a
citation of a burned source is caught as well.
"""

from dataclasses import dataclass

import reversion
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from issues.access import issue_is_locked, user_is_editor
from issues.models import Story, StoryStatus
from issues.services import issue_hold, story_edited
from issues.steps import story_event

from .access import user_is_keeper
from .errors import SourceRefused
from .models import Source, SourceStatus, StoryFlag

# Statuses that put the stories citing a source in doubt.
DOUBTFUL_STATUSES = frozenset({SourceStatus.UNDER_REVIEW, SourceStatus.BURNED})


@dataclass(frozen=True)
class Doubt:
    source: Source
    flag: StoryFlag | None  # the open flag, when one was raised


def story_doubts(*, story: Story) -> list[Doubt]:
    """The sources this story cites now that are in doubt and not cleared for that status."""
    cited = Source.objects.filter(
        citations__block__story=story, status__in=DOUBTFUL_STATUSES
    ).distinct()
    flags = {}
    for flag in StoryFlag.objects.filter(story=story, source__in=cited).order_by("raised_at"):
        flags.setdefault(flag.source_id, []).append(flag)
    doubts = []
    for source in cited.order_by("codename"):
        mine = flags.get(source.pk, [])
        if any(f.cleared_at and f.source_status == source.status for f in mine):
            continue
        doubts.append(Doubt(source=source, flag=next((f for f in mine if not f.cleared_at), None)))
    return doubts


def _flag_raise(story: Story, source: Source, acting_user, note: str) -> StoryFlag | None:
    """An open flag for ``source``'s current status on ``story``, with its log event."""
    open_flag = StoryFlag.objects.filter(story=story, source=source, cleared_at__isnull=True)
    flag = open_flag.first()
    if flag is not None and flag.source_status == source.status:
        return None
    if flag is not None:
        flag.source_status, flag.reason = source.status, note
        flag.save(update_fields=["source_status", "reason"])
    else:
        flag = StoryFlag.objects.create(
            story=story,
            source=source,
            source_status=source.status,
            reason=note,
            raised_by=acting_user,
        )
    story_event(
        story,
        acting_user,
        "source_flagged",
        _("%(source)s is now %(status)s: %(note)s")
        % {"source": source.codename, "status": source.get_status_display().lower(), "note": note},
    )
    return flag


def _approval_take_back(story: Story, acting_user, source: Source) -> None:
    """An approved story citing a source in doubt is approved no longer; a scheduled issue
    that holds it is taken off the schedule first."""
    if story.status != StoryStatus.APPROVED:
        return
    issue = story.issue
    if issue is not None and issue.status == issue.Status.SCHEDULED:
        issue_hold(
            issue=issue,
            reason=_("Held back: %(source)s, cited in “%(headline)s”, is %(status)s.")
            % {
                "source": source.codename,
                "headline": story.headline,
                "status": source.get_status_display().lower(),
            },
        )
        issue.refresh_from_db()
    if not issue_is_locked(issue):
        story_edited(story=story, acting_user=acting_user)


def source_status_set(*, source: Source, status: str, acting_user, note: str) -> list[StoryFlag]:
    """Move ``source`` to ``status`` (editors and keepers), saying why. Under review or burned,
    every story citing it is flagged and loses its approval; returns the flags raised."""
    if not (user_is_keeper(acting_user) or acting_user.has_perm("sources.verify_source")):
        raise SourceRefused(_("Only editors and source keepers change a source's status."))
    if status not in SourceStatus.values:
        raise SourceRefused(_("There is no such status."), code="status")
    note = (note or "").strip()
    if not note:
        raise SourceRefused(_("Say why the source's status changes."), code="note")
    with transaction.atomic(), reversion.create_revision():
        current = Source.objects.select_for_update().get(pk=source.pk)
        if current.status == status:
            return []
        current.status = status
        current.revision += 1
        current.save()
        reversion.set_user(acting_user)
        reversion.set_comment(
            _("Status: %(status)s. %(note)s")
            % {"status": current.get_status_display(), "note": note}
        )
        flags = []
        if status in DOUBTFUL_STATUSES:
            stories = Story.objects.filter(blocks__citations__sources=current).distinct()
            for story in stories.select_related("issue").order_by("pk"):
                flag = _flag_raise(story, current, acting_user, note)
                if flag is not None:
                    flags.append(flag)
                _approval_take_back(story, acting_user, current)
    source.status = current.status
    return flags


def story_sources_doubted(*, story: Story, sources, acting_user, note: str) -> None:
    """Flag ``story`` for each of ``sources`` in doubt (citing a source under review)."""
    for source in sources:
        if source.status in DOUBTFUL_STATUSES:
            _flag_raise(story, source, acting_user, note)


def story_doubt_clear(*, story: Story, source: Source, acting_user, note: str) -> StoryFlag:
    """An editor has looked again: ``story`` may be approved though it cites ``source`` in its
    present status, for the reason in ``note``."""
    if not user_is_editor(acting_user):
        raise SourceRefused(_("Only editors clear a flag on a story."), code="forbidden")
    note = (note or "").strip()
    if not note:
        raise SourceRefused(
            _("Say why the story may go on (e.g. “confirmed by a second source”)."), code="note"
        )
    with transaction.atomic():
        source = Source.objects.get(pk=source.pk)
        flag = (
            StoryFlag.objects.select_for_update()
            .filter(story=story, source=source, cleared_at__isnull=True)
            .first()
        ) or StoryFlag(
            story=story,
            source=source,
            reason=_("cited while %(status)s") % {"status": source.get_status_display().lower()},
            raised_by=acting_user,
        )
        flag.source_status = source.status
        flag.cleared_by, flag.cleared_at, flag.clear_note = acting_user, timezone.now(), note
        flag.save()
        story_event(
            story,
            acting_user,
            "source_flag_cleared",
            _("%(source)s: %(note)s") % {"source": source.codename, "note": note},
        )
    return flag
