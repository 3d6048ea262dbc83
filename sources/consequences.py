"""When a source is put in doubt: every story citing it is flagged, and waits for an editor.

Moving a source to under review or burned flags each story that cites it (a banner on the
story, a badge and a filter in the story list); approving such a story is refused until an
editor clears the flag with a note. Each step is an event on the story's workflow log.
"""

import reversion
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from issues.access import user_is_editor
from issues.models import Story, StoryEvent

from .access import user_is_keeper
from .models import Source, SourceStatus, StoryFlag
from .services import SourceRefused

# Statuses that put the stories citing a source in doubt.
DOUBTFUL_STATUSES = frozenset({SourceStatus.UNDER_REVIEW, SourceStatus.BURNED})


def _story_event(story: Story, acting_user, action: str, comment: str) -> None:
    StoryEvent.objects.create(
        story=story,
        actor=acting_user,
        action=action,
        from_status=story.status,
        to_status=story.status,
        comment=comment,
        revision=story.revision,
    )


def source_status_set(*, source: Source, status: str, acting_user, note: str) -> list[StoryFlag]:
    """Move ``source`` to ``status`` (editors and keepers), saying why. Under review or burned,
    every story citing it is flagged; returns the new flags."""
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
        if status not in DOUBTFUL_STATUSES:
            return []
        flags = []
        stories = Story.objects.filter(blocks__citations__sources=current).distinct()
        for story in stories.order_by("pk"):
            if StoryFlag.objects.filter(
                story=story, source=current, cleared_at__isnull=True
            ).exists():
                continue
            flags.append(
                StoryFlag.objects.create(
                    story=story,
                    source=current,
                    source_status=status,
                    reason=note,
                    raised_by=acting_user,
                )
            )
            _story_event(
                story,
                acting_user,
                "source_flagged",
                _("%(source)s is now %(status)s: %(note)s")
                % {
                    "source": current.codename,
                    "status": current.get_status_display().lower(),
                    "note": note,
                },
            )
    source.status = current.status
    return flags


def story_flag_clear(*, flag: StoryFlag, acting_user, note: str) -> StoryFlag:
    """An editor has looked again: the story may be approved, for the reason in ``note``."""
    if not user_is_editor(acting_user):
        raise SourceRefused(_("Only editors clear a flag on a story."), code="forbidden")
    note = (note or "").strip()
    if not note:
        raise SourceRefused(
            _("Say why the story may go on (e.g. “confirmed by a second source”)."), code="note"
        )
    with transaction.atomic():
        current = StoryFlag.objects.select_for_update().select_related("story", "source")
        current = current.get(pk=flag.pk)
        if current.cleared_at is not None:
            return current
        current.cleared_by, current.cleared_at, current.clear_note = (
            acting_user,
            timezone.now(),
            note,
        )
        current.save()
        _story_event(
            current.story,
            acting_user,
            "source_flag_cleared",
            _("%(source)s: %(note)s") % {"source": current.source.codename, "note": note},
        )
    return current


def story_open_flags(*, story: Story):
    return StoryFlag.objects.filter(story=story, cleared_at__isnull=True).select_related("source")
