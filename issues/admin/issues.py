"""Issues in the admin: their text and the order of their stories, approval and the schedule.

An issue's revision goes up whenever its text, its stories, their order or its schedule change
(``services.issue_edited``, ``issue_schedule``, ``issue_unschedule``). The form and the workflow
buttons carry the revision the editor saw, so a save or a step based on an older one is refused,
showing what changed. Reordering an issue does not raise its stories' revisions: the order
belongs to the issue, not to the story's text. A scheduled or sent issue is read-only.
"""

import reversion
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..access import (
    issue_can_edit,
    issue_edit_refusal,
    issue_is_locked,
    issue_transitions_for_user,
)
from ..history.admin import VersionCompareAdminMixin
from ..models import Issue, IssueStatus, Story
from ..ordering import POSITION
from ..schedule_words import schedule_describe, schedule_when
from ..services import (
    WorkflowError,
    issue_approve,
    issue_edited,
    issue_schedule,
    issue_step_refusal,
    issue_unschedule,
)
from ..workflow import ISSUE_TRANSITIONS
from .base import SortableInline, SortableInlinesAdmin, WorkflowPageMixin, event_rows, number_from
from .calendar import calendar_view
from .forms import IssueForm, ScheduleForm, StoryPlaceInlineForm, newsroom_zone_label
from .importing import IssueImportViews
from .reverting import ISSUE_REVERT_KEEPS, IssueRevertMixin
from .stories import authors_display

EVENT_LOG_LENGTH = 50
# The steps whose button says beforehand why it would be refused (stories not approved, a cited
# source in doubt); unscheduling is never refused to someone who has the button.
STEPS_SHOWN_REFUSED = frozenset({"approve", "schedule"})


class StoryInline(SortableInline):
    model = Story
    form = StoryPlaceInlineForm
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
class IssueAdmin(
    IssueRevertMixin, WorkflowPageMixin, VersionCompareAdminMixin, SortableInlinesAdmin
):
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
        calendar = self.admin_site.admin_view(calendar_view(self))
        name = f"{self.opts.app_label}_{self.opts.model_name}_calendar"
        return [
            # Before the admin's catch-all "<object_id>/" redirect.
            path("calendar/", calendar, name=name),
            *IssueImportViews(self).urls(),
            *self.workflow_urls(self.workflow_view),
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
            # A step that would be refused now is shown disabled, with the service's reason.
            "refusals": {
                name: issue_step_refusal(issue=issue, acting_user=request.user, name=name)
                for name in sorted(transitions & STEPS_SHOWN_REFUSED)
            },
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
        revision = number_from(request.POST.get("based_on_revision"))
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
                query = urlencode({"publish_at": typed})
                response = HttpResponseRedirect(f"{response.url}{joiner}{query}")
            return response
        when = schedule_when(issue.publish_at) if issue.publish_at else ""
        messages.success(request, done % {"issue": issue, "when": when})
        return HttpResponseRedirect(self._change_url(issue))

    # Saving ------------------------------------------------------------------------------------

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        reverting = getattr(request, ISSUE_REVERT_KEEPS, None) is not None
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
