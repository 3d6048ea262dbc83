"""Stories and their blocks in the admin, with the review workflow around them.

Saving a story raises its revision, and a save based on an older revision than the stored one
is refused, showing what the other person changed. A save that changes the story's text, a block
or the blocks' order is an edit (``services.story_edited``): an approved story goes back to
review, because approval belongs to a revision. The workflow buttons call the services; the
status is never set here. Journalists see and open only the stories they write.
"""

from functools import partial

import reversion
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from reversion.models import Version

from ..access import (
    issue_is_locked,
    issue_locked_reason,
    story_can_edit,
    story_edit_refusal,
    story_transitions_for_user,
    user_is_editor,
    user_writes_own_stories_only,
)
from ..history.admin import VersionCompareAdminMixin
from ..models import Block, Issue, Story, StoryStatus
from ..ordering import (
    POSITION,
    PositionedForm,
    PositionedInlineForm,
    positions_make_room,
    positions_park,
    positions_save,
)
from ..scheduling import schedule_describe
from ..services import (
    WorkflowError,
    issue_edited,
    story_approve,
    story_edited,
    story_return,
    story_submit,
)
from ..workflow import ISSUE_LOCKED_STATUSES, STORY_TRANSITIONS
from .base import (
    SortableInline,
    SortableInlinesAdmin,
    WorkflowPageMixin,
    event_rows,
    revision_from,
)

# A story's place: set by an editor assembling the issue, not part of the story's text.
PLACE_FIELDS = frozenset({"issue", POSITION})

# What a revert tells the rest of the save, on the request (see StoryAdmin._revert):
# the highest revision the story ever had, so that the counter still goes up;
REVISION_HIGH_WATER = "_bellcms_story_revision_high_water"
# the workflow fields the revert must not write back (reversion restores every column);
REVERT_KEEPS = "_bellcms_story_revert_keeps"
# and where the story was before, to tell the issues it leaves or joins.
REVERT_PLACE = "_bellcms_story_revert_place"

# Enough of a story's log to read its review; older steps stay in the database.
EVENT_LOG_LENGTH = 50


def _versions_of(story_id):
    return Version.objects.get_for_object_reference(Story, story_id)


def _revision_high_water(story_id):
    """The highest revision a story has had: its own, or its last version's if it was deleted."""
    recorded = [version.field_dict["revision"] for version in _versions_of(story_id)]
    current = Story.objects.filter(pk=story_id).values_list("revision", flat=True)
    return max([*recorded, *current], default=0)


def authors_display(story):
    return ", ".join(user.get_full_name() or user.username for user in story.authors.all())


def _story_locked(story_id) -> Story | None:
    # of=("self",): the default ordering joins issue and newsletter, which must not be locked.
    return (
        Story.objects.select_for_update(of=("self",))
        .select_related("issue")
        .filter(pk=story_id)
        .order_by()
        .first()
    )


class BlockInlineForm(PositionedInlineForm):
    class Meta:
        model = Block
        fields = (POSITION, "kind", "text")
        widgets = {"text": forms.Textarea(attrs={"rows": 3, "class": "bell-block-text"})}


class BlockInline(SortableInline):
    model = Block
    form = BlockInlineForm
    fields = (POSITION, "kind", "text")
    extra = 1

    # The blocks are the story's text: whoever may change the story may change them, no one else.
    def _may_edit(self, request, story):
        return story is None or story_can_edit(user=request.user, story=story)

    def has_add_permission(self, request, obj=None):
        return super().has_add_permission(request, obj) and self._may_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_edit(request, obj)


class StoryForm(PositionedForm):
    # The revision the editor started from: saving over someone else's newer save is refused.
    based_on_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Story
        fields = ("headline", "authors", "takeaway", "issue", POSITION)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on_revision"].initial = self.instance.revision
        self.stale_seen = None
        if POSITION in self.fields:
            self.fields[POSITION].help_text = _(
                "Order in the issue. Leave empty to add at the end."
            )
        for name in PLACE_FIELDS & set(self.fields):
            # The place shown when the form was opened travels with it, so a save can tell a
            # move the user asked for from a place another editor has changed since.
            self.fields[name].show_hidden_initial = True
        if "authors" in self.fields and self.instance.pk:
            # A byline outlives the author's account: current authors stay selectable, or
            # the next save would silently drop a departed colleague from the story.
            field = self.fields["authors"]
            current = field.queryset.model._default_manager.filter(stories=self.instance)
            field.queryset = (field.queryset | current).distinct()

    @property
    def moves_story(self):
        """Did the user change the issue or the position shown to them?"""
        return bool(PLACE_FIELDS & set(self.changed_data))

    @property
    def rewrites_story(self):
        """Did the user change the story itself (not only its place)?"""
        return bool(set(self.changed_data) - PLACE_FIELDS - {"based_on_revision"})

    def clean(self):
        cleaned_data = super().clean()
        issue = cleaned_data.get("issue")
        if "issue" in self.changed_data and issue_is_locked(issue):
            self.add_error("issue", issue_locked_reason(issue))
        based_on = cleaned_data.get("based_on_revision")
        if self.instance.pk is None or based_on is None:
            return cleaned_data
        # The admin validates inside the save's transaction, so the lock holds until the commit.
        # No ordering: the default one joins issue and newsletter, which PostgreSQL cannot lock.
        current = (
            Story.objects.select_for_update()
            .filter(pk=self.instance.pk)
            .order_by()
            .values_list("revision", flat=True)
            .first()
        )
        if current is not None and current != based_on:
            self.stale_seen = based_on
            raise forms.ValidationError(
                _(
                    "Someone else saved this story (now revision %(current)s) after you opened "
                    "revision %(based_on)s. Your changes were not saved: they are still in the "
                    "form below, and what the other person changed is shown above. Open the "
                    "current version, then redo your changes there."
                ),
                code="stale",
                params={"current": current, "based_on": based_on},
            )
        return cleaned_data


@admin.register(Story)
class StoryAdmin(WorkflowPageMixin, VersionCompareAdminMixin, SortableInlinesAdmin):
    form = StoryForm
    change_list_template = "admin/issues/story/change_list.html"
    list_display = ("headline", "issue", POSITION, "status", "authors_display", "updated_at")
    list_filter = (
        "status",
        "issue__newsletter",
        ("issue", admin.RelatedOnlyFieldListFilter),
        ("authors", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("issue",)
    search_fields = ("headline", "takeaway", "blocks__text")
    autocomplete_fields = ("issue",)
    filter_horizontal = ("authors",)
    fieldsets = (
        # The status, revision and workflow steps are shown above the form (workflow panel).
        (None, {"fields": ("headline", "authors", "based_on_revision")}),
        (_("Place in an issue"), {"fields": ("issue", POSITION)}),
        # Shown after the blocks (templates/admin/issues/story/change_form.html): the
        # takeaway closes the story, and the form reads in the order the email does.
        (_("Takeaway"), {"fields": ("takeaway",), "classes": ("story-takeaway",)}),
    )
    inlines = [BlockInline]

    class Media:
        js = ("issues/workflow.js",)
        css = {"all": ("issues/workflow.css",)}

    def get_urls(self):
        view = self.admin_site.admin_view(self.workflow_view)
        name = f"{self.opts.app_label}_{self.opts.model_name}_workflow"
        # Before the admin's catch-all "<object_id>/" redirect.
        return [path("<path:object_id>/workflow/", view, name=name), *super().get_urls()]

    # Who sees and changes what -----------------------------------------------------------------

    def get_queryset(self, request):
        stories = super().get_queryset(request).prefetch_related("authors")
        if user_writes_own_stories_only(request.user):
            stories = stories.filter(authors=request.user)
        return stories

    def get_object(self, request, object_id, from_field=None):
        story = super().get_object(request, object_id, from_field)
        if story is None and user_writes_own_stories_only(request.user):
            # A colleague's story or none at all: one answer for both, so neither shows.
            raise Http404(gettext("No such story among yours."))
        return story

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and (
            obj is None or story_can_edit(user=request.user, story=obj)
        )

    def has_delete_permission(self, request, obj=None):
        # Deleting a story from a scheduled issue would change what goes out.
        return super().has_delete_permission(request, obj) and (
            obj is None or not issue_is_locked(obj.issue)
        )

    def edit_refusal(self, request, obj):
        return story_edit_refusal(user=request.user, story=obj)

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not user_is_editor(request.user):
            # Placing a story in an issue is assembling the issue: an editor's job.
            fields = (*fields, "issue", POSITION)
        return fields

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "authors":
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                is_staff=True, is_active=True
            ).order_by("username")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=_("authors"))
    def authors_display(self, story):
        return authors_display(story)

    def posted_texts(self, data):
        texts = [(gettext("Headline"), data.get("headline", ""))]
        blocks = sorted(
            (key for key in data if key.startswith("blocks-") and key.endswith("-text")),
            key=lambda key: int(key.split("-")[1]) if key.split("-")[1].isdigit() else 0,
        )
        texts += [(gettext("Block"), data.get(key, "")) for key in blocks]
        texts.append((gettext("Takeaway"), data.get("takeaway", "")))
        return texts

    # The change page ---------------------------------------------------------------------------

    def workflow_context(self, request, obj):
        # As stored: a refused form's instance carries the values that were posted.
        story = Story.objects.select_related("issue").get(pk=obj.pk)
        events = list(story.events.select_related("actor")[:EVENT_LOG_LENGTH])
        returned = None
        if story.status == StoryStatus.RETURNED:
            returned = story.events.filter(action="return").select_related("actor").first()
        return {
            "kind": "story",
            "status": story.status,
            "status_label": story.get_status_display(),
            "revision": story.revision,
            "updated_at": story.updated_at,
            "transitions": {
                transition.name
                for transition in story_transitions_for_user(user=request.user, story=story)
            },
            "labels": {name: t.label for name, t in STORY_TRANSITIONS.items()},
            "url": reverse(f"{self.admin_site.name}:issues_story_workflow", args=[story.pk]),
            "readonly_reason": (
                None
                if self.has_change_permission(request, story)
                else self.edit_refusal(request, story)
            ),
            "returned": event_rows([returned], transitions=STORY_TRANSITIONS, statuses=StoryStatus)[
                0
            ]
            if returned
            else None,
            "events": event_rows(events, transitions=STORY_TRANSITIONS, statuses=StoryStatus),
            "issue": story.issue,
            "issue_schedule": schedule_describe(story.issue) if story.issue else "",
        }

    def workflow_view(self, request, object_id):
        """One workflow step asked for from the story page: submit, approve or return."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        story = self.get_object(request, unquote(object_id))
        if story is None:
            raise Http404(gettext("No such story."))
        if not self.has_view_or_change_permission(request, story):
            raise PermissionDenied
        action = request.POST.get("action")
        revision = revision_from(request.POST.get("based_on_revision"))
        name = f"“{story.headline}”"
        try:
            if action == "submit":
                story_submit(story=story, acting_user=request.user, revision=revision)
                done = gettext("%(story)s is submitted for review; the editors have been told.")
            elif action == "approve":
                story_approve(story=story, acting_user=request.user, revision=revision)
                done = gettext("%(story)s is approved at revision %(revision)s.")
            elif action == "return":
                comment = request.POST.get("comment", "")
                try:
                    story_return(
                        story=story, acting_user=request.user, comment=comment, revision=revision
                    )
                except WorkflowError:
                    self.keep_unsaved(request, story, [(gettext("Your comment"), comment)])
                    raise
                done = gettext("%(story)s went back to its authors with your comment.")
            else:
                raise WorkflowError(gettext("There is no such step."), code="unknown")
        except WorkflowError as error:
            return self._refused(request, error, story, seen=revision)
        messages.success(request, done % {"story": name, "revision": story.revision})
        return HttpResponseRedirect(self._change_url(story))

    # Saving ------------------------------------------------------------------------------------

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        keeps = getattr(request, REVERT_KEEPS, None)
        if keeps and object_id is not None:
            # Reversion has just written the old version back, status and counter included:
            # the story keeps the ones it has now (see _revert).
            Story.objects.filter(pk=unquote(object_id)).update(**keeps)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        previous_issue_id = (
            Story.objects.filter(pk=obj.pk).values_list("issue_id", flat=True).first()
            if change
            else None
        )
        form.touched_issue_ids = set()
        if change and not form.moves_story:
            # Keep the place the story has now: another editor may have reordered the issue
            # since this form was opened, and this save is not about the order.
            stale_place = {"issue", POSITION}
            fields = [f.name for f in Story._meta.concrete_fields if not f.primary_key]
            obj.save(update_fields=[name for name in fields if name not in stale_place])
            obj.refresh_from_db(fields=sorted(stale_place))
            return
        if obj.issue_id is None:
            # A position only means something inside an issue.
            obj.position = None
            super().save_model(request, obj, form, change)
        else:
            positions_save(parent=obj.issue, related_name="stories", instances=[obj])
        form.touched_issue_ids = {previous_issue_id, obj.issue_id} - {None}
        if previous_issue_id is not None and previous_issue_id != obj.issue_id:
            self._close_gap(previous_issue_id)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        story = form.instance
        if not change and user_writes_own_stories_only(request.user):
            # A journalist sees only their own stories: the one they start is theirs.
            story.authors.add(request.user)
        high_water = getattr(request, REVISION_HIGH_WATER, None)
        reverting = high_water is not None
        # A revert is an edit: it never brings an old approval back.
        rewritten = (
            reverting or form.rewrites_story or any(formset.has_changed() for formset in formsets)
        )
        touched = set(getattr(form, "touched_issue_ids", ()))
        if reverting:
            before = getattr(request, REVERT_PLACE, None)
            if before != (story.issue_id, story.position):
                touched |= {before[0] if before else None, story.issue_id} - {None}
        # A save that changes nothing is not a new revision; a revert always is.
        if change and (rewritten or form.moves_story):
            # F() so that two editors saving at once both count.
            revision = (
                F("revision") if high_water is None else Greatest("revision", Value(high_water))
            )
            Story.objects.filter(pk=story.pk).update(revision=revision + 1)
            story.refresh_from_db(fields=["revision"])
        if change and rewritten:
            self._story_edited(request, story)
        for issue in Issue.objects.filter(pk__in=touched).order_by("pk"):
            self._issue_edited(request, issue)
        if reversion.is_active():
            # The UPDATEs bypassed the signals reversion listens to: record the final state.
            reversion.add_to_revision(story)

    def _story_edited(self, request, story):
        was = story.status
        story_edited(story=story, acting_user=request.user)
        if was == StoryStatus.APPROVED and story.status != was:
            messages.warning(
                request,
                gettext(
                    "The story was approved; after this change it is back in review and needs "
                    "to be approved again."
                ),
            )

    def _issue_edited(self, request, issue):
        was = issue.status
        issue_edited(issue=issue, acting_user=request.user)
        if reversion.is_active():
            reversion.add_to_revision(issue)
        if was != issue.status:
            messages.warning(
                request,
                gettext("The issue “%(issue)s” changed and is back in draft: approve it again.")
                % {"issue": issue},
            )

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(
                gettext("%(change)s Revision %(revision)s.")
                % {"change": entry.get_change_message(), "revision": obj.revision}
            )
        return entry

    # Deleting ----------------------------------------------------------------------------------

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except WorkflowError as error:
            return self._refused(request, error, unquote(object_id))

    def delete_model(self, request, obj):
        issue_id = obj.issue_id
        super().delete_model(request, obj)
        self._issue_lost_stories(request, {issue_id})

    def delete_queryset(self, request, queryset):
        locked = queryset.filter(issue__status__in=ISSUE_LOCKED_STATUSES)
        if locked.exists():
            messages.error(
                request,
                gettext("Not deleted, because their issue is scheduled or sent: %(stories)s.")
                % {"stories": ", ".join(f"“{story.headline}”" for story in locked)},
            )
            queryset = queryset.exclude(pk__in=locked.values("pk"))
        issue_ids = set(queryset.exclude(issue=None).values_list("issue_id", flat=True))
        super().delete_queryset(request, queryset)
        self._issue_lost_stories(request, issue_ids)

    def _issue_lost_stories(self, request, issue_ids):
        for issue in Issue.objects.filter(pk__in=issue_ids - {None}).order_by("pk"):
            self._close_gap(issue.pk)
            self._issue_edited(request, issue)

    def _close_gap(self, issue_id):
        issue = Issue.objects.filter(pk=issue_id).first()
        if issue is not None:
            positions_save(parent=issue, related_name="stories", instances=[])

    # Versions ----------------------------------------------------------------------------------

    def changelist_view(self, request, extra_context=None):
        extra_context = {"may_recover": user_is_editor(request.user), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def recoverlist_view(self, request, extra_context=None):
        # The list names every deleted story: colleagues' headlines are not a journalist's.
        if not user_is_editor(request.user):
            raise PermissionDenied
        return super().recoverlist_view(request, extra_context)

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
        seen = revision_from(request.POST.get("based_on_revision"))
        live = None
        try:
            with transaction.atomic():
                live = _story_locked(version.object_id)
                if live is not None:
                    self._check_revert(request, live, seen)
                    setattr(
                        request, REVERT_KEEPS, {"status": live.status, "revision": live.revision}
                    )
                    setattr(request, REVERT_PLACE, (live.issue_id, live.position))
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
                    self._close_gap(live.issue_id)
        except WorkflowError as error:
            if live is None:
                messages.error(request, error.message)
                return HttpResponseRedirect(reverse(f"{self.admin_site.name}:index"))
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
