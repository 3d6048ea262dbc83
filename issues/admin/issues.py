"""Issues in the admin: their text and the order of their stories, approval and the schedule.

An issue's revision goes up whenever its text, its stories, their order or its schedule change
(``services.issue_edited``, ``issue_schedule``, ``issue_unschedule``). The form and the workflow
buttons carry the revision the editor saw, so a save or a step based on an older one is refused,
showing what changed. Reordering an issue does not raise its stories' revisions: the order
belongs to the issue, not to the story's text. A scheduled or sent issue is read-only.
"""

from datetime import datetime

import reversion
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from reversion.models import Version

from ..access import (
    issue_can_edit,
    issue_edit_refusal,
    issue_is_locked,
    issue_transitions_for_user,
    user_is_editor,
)
from ..history.admin import VersionCompareAdminMixin
from ..models import Issue, IssueStatus, Story
from ..ordering import POSITION
from ..scheduling import schedule_describe, schedule_when
from ..services import WorkflowError, issue_approve, issue_edited, issue_schedule, issue_unschedule
from ..workflow import ISSUE_TRANSITIONS
from .base import SortableInline, SortableInlinesAdmin, WorkflowPageMixin, event_rows, revision_from
from .calendar import calendar_view
from .stories import authors_display

# What a revert of an issue must not write back: the workflow owns these (see IssueAdmin._revert).
REVERT_KEEPS = "_bellcms_issue_revert_keeps"
WORKFLOW_FIELDS = ("status", "publish_at", "published_at", "revision")
EVENT_LOG_LENGTH = 50
# The value a datetime-local input sends and shows.
LOCAL_INPUT_FORMAT = "%Y-%m-%dT%H:%M"


def newsroom_zone_label(moment: datetime | None = None) -> str:
    """“Europe/Riga, UTC+02:00”: the zone schedules are typed and shown in."""
    local = timezone.localtime(moment or timezone.now())
    offset = local.strftime("%z")
    return f"{settings.TIME_ZONE}, UTC{offset[:3]}:{offset[3:]}"


class ScheduleForm(forms.Form):
    """When an issue should go out, typed in the newsroom's zone."""

    publish_at = forms.DateTimeField(
        label=_("Goes out at"),
        input_formats=[LOCAL_INPUT_FORMAT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT_FORMAT),
        error_messages={
            "required": _("Give the date and time the issue should go out."),
            "invalid": _("Give the date and time as on a calendar, e.g. 2026-01-27 07:00."),
        },
    )


class IssueForm(forms.ModelForm):
    # The revision the editor started from: saving over someone else's newer save is refused.
    based_on_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Issue
        fields = ("newsletter", "number", "title", "slug", "intro")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on_revision"].initial = self.instance.revision
        self.stale_seen = None

    def clean(self):
        cleaned_data = super().clean()
        based_on = cleaned_data.get("based_on_revision")
        if self.instance.pk is None or based_on is None:
            return cleaned_data
        # Locked until the save commits: the inline's reordering locks the same row.
        current = (
            Issue.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .order_by()
            .values_list("revision", flat=True)
            .first()
        )
        if current is not None and current != based_on:
            self.stale_seen = based_on
            raise forms.ValidationError(
                _(
                    "Someone else changed this issue (now revision %(current)s) after you "
                    "opened revision %(based_on)s. Your changes were not saved: they are still "
                    "in the form below, and what changed is shown above. Open the current "
                    "version, then redo your changes there."
                ),
                code="stale",
                params={"current": current, "based_on": based_on},
            )
        return cleaned_data


class StoryInline(SortableInline):
    model = Story
    fields = (POSITION, "headline_link", "status", "authors_display")
    readonly_fields = ("headline_link", "status", "authors_display")
    extra = 0
    # Stories are written and deleted on their own page; the issue only orders them.
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("authors")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Ordering an issue's stories is assembling the issue: an editor's job, and not once
        # the issue is scheduled.
        return (
            super().has_change_permission(request, obj)
            and request.user.has_perm("issues.change_issue")
            and (obj is None or issue_can_edit(user=request.user, issue=obj))
        )

    @admin.display(description=_("headline"))
    def headline_link(self, story):
        url = reverse(f"{self.admin_site.name}:issues_story_change", args=[story.pk])
        return format_html('<a href="{}">{}</a>', url, story.headline)

    @admin.display(description=_("authors"))
    def authors_display(self, story):
        return authors_display(story)


@admin.register(Issue)
class IssueAdmin(WorkflowPageMixin, VersionCompareAdminMixin, SortableInlinesAdmin):
    form = IssueForm
    change_list_template = "admin/issues/issue/change_list.html"
    list_display = ("number", "title", "newsletter", "status", "story_count", "schedule")
    list_display_links = ("number", "title")
    list_filter = ("newsletter", "status")
    list_select_related = ("newsletter",)
    search_fields = ("title", "intro", "stories__headline")
    prepopulated_fields = {"slug": ("title",)}
    # Status, schedule and revision are shown above the form (the workflow panel).
    fields = ("newsletter", "number", "title", "slug", "intro", "based_on_revision")
    inlines = [StoryInline]

    class Media:
        js = ("issues/workflow.js",)
        css = {"all": ("issues/workflow.css",)}

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        workflow = self.admin_site.admin_view(self.workflow_view)
        calendar = self.admin_site.admin_view(calendar_view(self))
        return [
            path("calendar/", calendar, name="{}_{}_calendar".format(*info)),
            # Before the admin's catch-all "<object_id>/" redirect.
            path("<path:object_id>/workflow/", workflow, name="{}_{}_workflow".format(*info)),
            *super().get_urls(),
        ]

    def get_queryset(self, request):
        # A subquery, not Count("stories"): searching by story headline joins the stories
        # again, and a plain aggregate would count every story once per match.
        stories = (
            Story.objects.filter(issue=OuterRef("pk"))
            .order_by()
            .values("issue")
            .annotate(count=Count("pk"))
            .values("count")
        )
        return super().get_queryset(request).annotate(story_count=Coalesce(Subquery(stories), 0))

    def get_inlines(self, request, obj):
        # A new issue has no stories yet; they are placed in it from their own pages.
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or issue_can_edit(user=request.user, issue=obj)
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and not issue_is_locked(obj)

    def edit_refusal(self, request, obj):
        return issue_edit_refusal(user=request.user, issue=obj)

    def posted_texts(self, data):
        return [
            (gettext("Title"), data.get("title", "")),
            (gettext("Intro"), data.get("intro", "")),
        ]

    @admin.display(description=_("stories"), ordering="story_count")
    def story_count(self, issue):
        return issue.story_count

    @admin.display(description=_("schedule"), ordering="publish_at")
    def schedule(self, issue):
        return schedule_describe(issue)

    # The change page ---------------------------------------------------------------------------

    def workflow_context(self, request, obj):
        issue = Issue.objects.select_related("newsletter").get(pk=obj.pk)
        events = list(issue.events.select_related("actor")[:EVENT_LOG_LENGTH])
        transitions = {
            transition.name
            for transition in issue_transitions_for_user(user=request.user, issue=issue)
        }
        # A refused schedule comes back with the time that was typed.
        typed = request.GET.get("publish_at")
        shown = timezone.localtime(issue.publish_at) if issue.publish_at else None
        schedule_form = ScheduleForm(initial={"publish_at": typed or shown})
        waiting = [
            story
            for story in issue.stories.order_by("position")
            if story.status != Story.Status.APPROVED
        ]
        return {
            "kind": "issue",
            "status": issue.status,
            "status_label": issue.get_status_display(),
            "revision": issue.revision,
            "updated_at": issue.updated_at,
            "schedule": schedule_describe(issue),
            "transitions": transitions,
            "labels": {name: t.label for name, t in ISSUE_TRANSITIONS.items()},
            "url": reverse(f"{self.admin_site.name}:issues_issue_workflow", args=[issue.pk]),
            "calendar_url": reverse(f"{self.admin_site.name}:issues_issue_calendar"),
            "schedule_form": schedule_form,
            "zone": newsroom_zone_label(),
            "waiting": waiting,
            "readonly_reason": (
                None
                if self.has_change_permission(request, issue)
                else self.edit_refusal(request, issue)
            ),
            "events": event_rows(events, transitions=ISSUE_TRANSITIONS, statuses=IssueStatus),
        }

    def workflow_view(self, request, object_id):
        """One workflow step asked for from the issue page: approve, schedule or unschedule."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        issue = self.get_object(request, unquote(object_id))
        if issue is None:
            raise Http404(gettext("No such issue."))
        if not self.has_view_or_change_permission(request, issue):
            raise PermissionDenied
        action = request.POST.get("action")
        revision = revision_from(request.POST.get("based_on_revision"))
        user = request.user
        try:
            if action == "approve":
                issue_approve(issue=issue, acting_user=user, revision=revision)
                done = gettext("The issue “%(issue)s” is approved: schedule it to go out.")
            elif action == "schedule":
                form = ScheduleForm(request.POST)
                if not form.is_valid():
                    raise WorkflowError(" ".join(form.errors["publish_at"]), code="time")
                issue_schedule(
                    issue=issue,
                    publish_at=form.cleaned_data["publish_at"],
                    acting_user=user,
                    revision=revision,
                )
                done = gettext("The issue “%(issue)s” is scheduled for %(when)s.")
            elif action == "unschedule":
                issue_unschedule(issue=issue, acting_user=user, revision=revision)
                done = gettext(
                    "The issue “%(issue)s” is no longer scheduled. It stays approved: you can "
                    "edit it (it then needs approving again) or schedule it again."
                )
            else:
                raise WorkflowError(gettext("There is no such step."), code="unknown")
        except WorkflowError as error:
            response = self._refused(request, error, issue, seen=revision)
            typed = request.POST.get("publish_at")
            if action == "schedule" and typed and len(typed) <= len("2026-01-27T07:00:00"):
                joiner = "&" if "?" in response.url else "?"
                response = HttpResponseRedirect(f"{response.url}{joiner}publish_at={typed}")
            return response
        when = schedule_when(issue.publish_at) if issue.publish_at else ""
        messages.success(request, done % {"issue": issue, "when": when})
        return HttpResponseRedirect(self._change_url(issue))

    # Saving ------------------------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        keeps = getattr(request, REVERT_KEEPS, None)
        if keeps and object_id is not None:
            # Reversion has just written the old version back, status and schedule included:
            # the issue keeps the ones it has now (see _revert).
            Issue.objects.filter(pk=unquote(object_id)).update(**keeps)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        reverting = getattr(request, REVERT_KEEPS, None) is not None
        edited = (
            reverting
            or bool(set(form.changed_data) - {"based_on_revision"})
            or any(formset.has_changed() for formset in formsets)
        )
        issue = form.instance
        if change and edited:
            was = issue.status
            issue_edited(issue=issue, acting_user=request.user)
            if was != issue.status:
                messages.warning(
                    request,
                    gettext("The issue was approved; after this change it needs approving again."),
                )
        if reversion.is_active():
            # The UPDATE bypassed the signals reversion listens to: record the final state.
            reversion.add_to_revision(issue)

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(
                gettext("%(change)s Revision %(revision)s.")
                % {"change": entry.get_change_message(), "revision": obj.revision}
            )
        return entry

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except WorkflowError as error:
            return self._refused(request, error, unquote(object_id))

    # Versions ----------------------------------------------------------------------------------

    def recoverlist_view(self, request, extra_context=None):
        if not user_is_editor(request.user):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)

    def revision_view(self, request, object_id, version_id, extra_context=None):
        versions = Version.objects.get_for_model(Issue)
        version = get_object_or_404(versions, pk=version_id, object_id=unquote(object_id))
        seen = revision_from(request.POST.get("based_on_revision"))
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
                    REVERT_KEEPS,
                    {field: getattr(live, field) for field in WORKFLOW_FIELDS},
                )
                return super().revision_view(request, object_id, version_id, extra_context)
        except WorkflowError as error:
            return self._refused(request, error, version.object_id, seen=seen)

    def recover_view(self, request, version_id, extra_context=None):
        if not user_is_editor(request.user):
            raise PermissionDenied
        # Nothing to keep, but the recovery is an edit all the same: an issue deleted while
        # approved comes back without its stories, to be approved again.
        setattr(request, REVERT_KEEPS, {})
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
