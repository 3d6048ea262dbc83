"""The story page's record panel: corrections, retractions and takedowns of a published story.

Editors (``issues.correct_story``) see it on every story whose issue has gone out. Each form
posts to the story's ``record/`` address, which calls the service in ``issues.corrections``:
the same rules as anywhere else (two editors for a withdrawal), refused with the service's words.
"""

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path
from django.utils.translation import gettext

from ..corrections import (
    correction_notice_send,
    story_correct,
    story_on_the_record,
    story_retract,
    story_takedown,
    withdrawal_cancel,
)
from ..models import CorrectionKind, Story, Withdrawal, WithdrawalKind
from ..steps import WorkflowError
from ..workflow import STORY_RECORD_STEPS

WITHDRAWALS = {
    WithdrawalKind.RETRACTION: story_retract,
    WithdrawalKind.TAKEDOWN: story_takedown,
}


class StoryRecordMixin:
    """Adds ``record_urls()`` and ``record_context()`` to the story admin."""

    def record_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<path:object_id>/record/", view(self.record_view), name="issues_story_record")
        ]

    def record_context(self, request, story) -> dict | None:
        """What the record panel shows, or None when there is none (not published, or the
        person may not correct)."""
        if not story_on_the_record(story):
            return None
        if not request.user.has_perm(STORY_RECORD_STEPS["correct"].permission):
            return None
        withdrawals = list(story.withdrawals.select_related("requested_by", "approved_by"))
        return {
            "corrections": list(story.corrections.select_related("approved_by")),
            "open": [w for w in withdrawals if w.approved_at is None and w.cancelled_at is None],
            "carried_out": [w for w in withdrawals if w.approved_at is not None],
            "kinds": CorrectionKind.choices,
            "withdrawal_kinds": WithdrawalKind.choices,
            "notices": list(story.notices.select_related("created_by")),
            "issue_number": story.issue.number,
            "blocks": list(story.blocks.order_by("position")),
        }

    def record_view(self, request, object_id):
        """One step on the record asked for from the story page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        story = Story.objects.filter(pk=unquote(object_id)).first()
        if story is None:
            raise Http404(gettext("No such story."))
        if not self.has_view_permission(request, story):
            raise PermissionDenied
        action, note = request.POST.get("action"), request.POST.get("note", "")
        try:
            done = self._record_step(request, story, action, note)
        except WorkflowError as error:
            typed = [(gettext("Your note"), note)]
            if action == "correct":
                typed += _fixes_typed(story, request.POST)
            self.keep_unsaved(request, story, typed)
            return self._refused(request, error, story)
        messages.success(request, done)
        return HttpResponseRedirect(self._change_url(story))

    def _record_step(self, request, story, action: str, note: str) -> str:
        user = request.user
        if action == "correct":
            correction = story_correct(
                story=story,
                note=note,
                kind=request.POST.get("kind", ""),
                acting_user=user,
                text_changes=text_changes(story, request.POST),
            )
            return gettext("%(kind)s %(number)s is on the record and in the archive.") % {
                "kind": correction.get_kind_display(),
                "number": correction.number,
            }
        if action in WITHDRAWALS:
            withdrawal = WITHDRAWALS[action](story=story, note=note, acting_user=user)
            if withdrawal.approved_at is None:
                return gettext(
                    "Your request is recorded. Another editor must approve it: until then "
                    "nothing changes in public."
                )
            return gettext("Carried out: the archive now shows the notice instead of the story.")
        if action == "cancel":
            withdrawal = Withdrawal.objects.filter(
                pk=request.POST.get("withdrawal") or 0, story=story
            ).first()
            if withdrawal is None:
                raise WorkflowError(gettext("There is no such request."), code="unknown")
            withdrawal_cancel(withdrawal=withdrawal, acting_user=user)
            return gettext("The request is withdrawn.")
        if action == "notice":
            correction_notice_send(story=story, acting_user=user)
            return gettext(
                "The notice is on its way to the readers who got issue #%(number)s: follow it "
                "below."
            ) % {"number": story.issue.number}
        raise WorkflowError(gettext("There is no such step."), code="unknown")


# The fix form's fields: the headline, the takeaway and each block by its position.
FIX_HEADLINE, FIX_TAKEAWAY, FIX_BLOCK = "fix-headline", "fix-takeaway", "fix-block-"


def _fields_changed(story: Story, post) -> dict:
    """What the correction form's text fields hold that differs from ``story`` now."""
    changes = {}
    for field, name in (("headline", FIX_HEADLINE), ("takeaway", FIX_TAKEAWAY)):
        typed = post.get(name)
        if typed is not None and typed.strip() != getattr(story, field).strip():
            changes[field] = typed
    blocks = {}
    for block in story.blocks.all():
        typed = post.get(f"{FIX_BLOCK}{block.position}")
        if typed is not None and typed.strip() != block.text.strip():
            blocks[block.position] = typed
    if blocks:
        changes["blocks"] = blocks
    return changes


def text_changes(story: Story, post) -> dict | None:
    """What the correction form's text fields change in ``story``, as ``story_correct``'s
    ``text_changes``; None when they change nothing. The form carries the revision it was
    opened at: if the story changed since and the fields differ from it now, the fix is
    refused rather than undo that change."""
    changes = _fields_changed(story, post)
    if changes and post.get("fix-revision") != str(story.revision):
        raise WorkflowError(
            gettext(
                "The story's text changed since you opened the page (another correction): "
                "nothing was saved. Your text is below; make the fix again on the text as it "
                "is now."
            ),
            code="stale",
        )
    return changes or None


def _fixes_typed(story: Story, post) -> list[tuple[str, str]]:
    """The fixed texts of a refused correction, labelled, to give back to the editor."""
    changes = _fields_changed(story, post)
    typed = [(gettext("Headline"), changes.get("headline", ""))]
    typed.append((gettext("Takeaway"), changes.get("takeaway", "")))
    for position, text in sorted(changes.get("blocks", {}).items()):
        typed.append((gettext("Block %(position)s") % {"position": position}, text))
    return typed
