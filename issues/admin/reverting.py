"""Reverting and recovering, as edits of what is there now.

django-reversion writes every column of the old version back, the workflow's included (status,
schedule, revision counter). Here the object keeps its current ones instead, the person must be
allowed to edit it now, the revert must be based on the revision they saw, and the save counts
as an edit: an approved story goes back to review, an approved issue back to draft. A revert
never approves anything.
"""

from functools import partial

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext
from reversion.models import Version

from ..access import (
    issue_edit_refusal,
    issue_is_locked,
    issue_locked_reason,
    story_edit_refusal,
    user_is_editor,
)
from ..models import Issue, Story
from ..ordering import POSITION, positions_make_room, positions_park
from ..services import WorkflowError
from ..story_saving import issue_gap_close
from .base import number_from

# What a revert tells the rest of the save, on the request. For a story (StoryRevertMixin):
# the highest revision the story ever had, so that the counter still goes up;
REVISION_HIGH_WATER = "_bellcms_story_revision_high_water"
# the workflow fields the revert must not write back;
STORY_REVERT_KEEPS = "_bellcms_story_revert_keeps"
# and where the story was before, to tell the issues it leaves or joins.
STORY_REVERT_PLACE = "_bellcms_story_revert_place"
# For an issue (IssueRevertMixin): the workflow fields it keeps; present (if empty) on recovery.
ISSUE_REVERT_KEEPS = "_bellcms_issue_revert_keeps"
ISSUE_WORKFLOW_FIELDS = ("status", "publish_at", "published_at", "revision")


def _versions_of(story_id):
    return Version.objects.get_for_object_reference(Story, story_id)


def _revision_high_water(story_id):
    """The highest revision a story has had: its own, or its last version's if it was deleted."""
    recorded = [version.field_dict["revision"] for version in _versions_of(story_id)]
    current = Story.objects.filter(pk=story_id).values_list("revision", flat=True)
    return max([*recorded, *current], default=0)


def _story_locked(story_id) -> Story | None:
    # of=("self",): the default ordering joins issue and newsletter, which must not be locked.
    return (
        Story.objects.select_for_update(of=("self",))
        .select_related("issue")
        .filter(pk=story_id)
        .order_by()
        .first()
    )


class _RevertKeepsMixin:
    """What a story and an issue share through a revert: reversion writes every field of the
    old version back, status and counters included; the row keeps the values it has now
    (stored on the request under ``revert_keeps`` by the revert). Only editors see the list
    of deleted objects to recover: it names colleagues' work."""

    revert_keeps = ""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        keeps = getattr(request, self.revert_keeps, None)
        if keeps and object_id is not None:
            self.model.objects.filter(pk=unquote(object_id)).update(**keeps)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def recoverlist_view(self, request, extra_context=None):
        if not user_is_editor(request.user):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)


class StoryRevertMixin(_RevertKeepsMixin):
    """For StoryAdmin: revert and recover through ``_revert``; recovering is for editors."""

    revert_keeps = STORY_REVERT_KEEPS

    def changelist_view(self, request, extra_context=None):
        extra_context = {"may_recover": user_is_editor(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        versions = Version.objects.get_for_model(Story)
        version = get_object_or_404(versions, pk=version_id, object_id=unquote(object_id))
        if not self.get_queryset(request).filter(pk=version.object_id).exists():
            raise Http404(gettext("No such story among yours."))
        view = super().revision_view
        return self._revert(
            request, version, partial(view, request, object_id, version_id, extra_context)
        )

    def recover_view(self, request, version_id, extra_context=None):
        if not user_is_editor(request.user):
            raise PermissionDenied
        version = get_object_or_404(Version.objects.get_for_model(Story), pk=version_id)
        view = super().recover_view
        return self._revert(request, version, partial(view, request, version_id, extra_context))

    def _revert(self, request, version, view):
        """Run reversion's revert or recover view, as an edit of the story as it is now.

        Reversion writes every column back, the status and the revision counter included. The
        story keeps its current status and counter instead, and the save counts as an edit: an
        approved story goes back to review, so a revert never approves anything. The person
        must be allowed to edit the story now, the revert must be based on the revision they
        saw, and neither the story's issue nor the one it goes back to may be scheduled.

        Reversion writes each row back with its old position, one by one: a swap since that
        version, or another story now at the old place in the issue, would stop it. The rows
        are moved out of the way in a transaction kept only if the revert was saved; previews
        and refused forms leave everything as it was.
        """
        old = version.field_dict
        seen = number_from(request.POST.get("based_on_revision"))
        live = None
        try:
            with transaction.atomic():
                live = _story_locked(version.object_id)
                if live is not None:
                    self._check_revert(request, live, seen)
                    setattr(
                        request,
                        STORY_REVERT_KEEPS,
                        {"status": live.status, "revision": live.revision},
                    )
                    setattr(request, STORY_REVERT_PLACE, (live.issue_id, live.position))
                    positions_park(parent=live, related_name="blocks")
                old_issue = (
                    Issue.objects.filter(pk=old["issue_id"]).first() if old["issue_id"] else None
                )
                if old_issue is not None and issue_is_locked(old_issue):
                    raise WorkflowError(issue_locked_reason(old_issue), code="locked")
                if old_issue is not None and old[POSITION]:
                    positions_make_room(
                        parent=old_issue, related_name="stories", position=old[POSITION]
                    )
                # The counter must go on from the highest it ever was, or an approval given to
                # a later revision would seem to cover the old text.
                setattr(request, REVISION_HIGH_WATER, _revision_high_water(version.object_id))
                versions_before = _versions_of(version.object_id).count()
                response = view()
                if _versions_of(version.object_id).count() == versions_before:
                    transaction.set_rollback(True)
                elif live is not None and live.issue_id not in (None, old["issue_id"]):
                    issue_gap_close(live.issue_id)
        except WorkflowError as error:
            if live is None:
                messages.error(request, error.message)
                recoverlist = f"{self.admin_site.name}:issues_story_recoverlist"
                return HttpResponseRedirect(reverse(recoverlist))
            return self._refused(request, error, live, seen=seen)
        return response

    def _check_revert(self, request, live, seen):
        refusal = story_edit_refusal(user=request.user, story=live)
        if refusal:
            raise WorkflowError(refusal, code="locked")
        if request.method == "POST" and seen is not None and seen != live.revision:
            raise WorkflowError(
                gettext(
                    "Someone else saved this story (now revision %(current)s) after you opened "
                    "revision %(seen)s. Nothing was reverted: their change is shown below; "
                    "revert again from the history if you still want to."
                )
                % {"current": live.revision, "seen": seen},
                code="stale",
            )


class IssueRevertMixin(_RevertKeepsMixin):
    """For IssueAdmin: an issue keeps its status, schedule and counter through a revert."""

    revert_keeps = ISSUE_REVERT_KEEPS

    def revision_view(self, request, object_id, version_id, extra_context=None):
        versions = Version.objects.get_for_model(Issue)
        version = get_object_or_404(versions, pk=version_id, object_id=unquote(object_id))
        seen = number_from(request.POST.get("based_on_revision"))
        try:
            with transaction.atomic():
                live = (
                    Issue.objects.select_for_update()
                    .filter(pk=version.object_id)
                    .order_by()
                    .first()
                )
                if live is None:
                    raise Http404(gettext("No such issue."))
                self._check_revert(request, live, seen)
                setattr(
                    request,
                    ISSUE_REVERT_KEEPS,
                    {field: getattr(live, field) for field in ISSUE_WORKFLOW_FIELDS},
                )
                return super().revision_view(request, object_id, version_id, extra_context)
        except WorkflowError as error:
            return self._refused(request, error, version.object_id, seen=seen)

    def recover_view(self, request, version_id, extra_context=None):
        if not user_is_editor(request.user):
            raise PermissionDenied
        # Nothing to keep, but the recovery is an edit all the same: an issue deleted while
        # approved comes back without its stories, to be approved again.
        setattr(request, ISSUE_REVERT_KEEPS, {})
        try:
            return super().recover_view(request, version_id, extra_context)
        except WorkflowError as error:
            messages.error(request, error.message)
            return HttpResponseRedirect(reverse(f"{self.admin_site.name}:issues_issue_changelist"))

    def _check_revert(self, request, live, seen):
        """Reverting is editing: allowed while the issue may be edited, and only from the
        revision the editor saw. The issue keeps its status and schedule; an approved one goes
        back to draft (save_related)."""
        refusal = issue_edit_refusal(user=request.user, issue=live)
        if refusal:
            raise WorkflowError(refusal, code="locked")
        if request.method == "POST" and seen is not None and seen != live.revision:
            raise WorkflowError(
                gettext(
                    "Someone else changed this issue (now revision %(current)s) after you opened "
                    "revision %(seen)s. Nothing was reverted: what changed is shown below; "
                    "revert again from the history if you still want to."
                )
                % {"current": live.revision, "seen": seen},
                code="stale",
            )
