"""Stories and their blocks in the admin, with the review workflow around them.

Saving a story raises its revision, and a save based on an older revision than the stored one
is refused, showing what the other person changed. A save that changes the story's text, a block
or the blocks' order is an edit (``services.story_edited``): an approved story goes back to
review, because approval belongs to a revision (the ``story_saving`` service does all this; the
admin tells what it did). The workflow buttons call the services; the status is never set here.
Journalists see and open only the stories they write.
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..access import (
    issue_is_locked,
    story_can_edit,
    story_edit_refusal,
    story_transitions_for_user,
    user_is_editor,
    user_writes_own_stories_only,
)
from ..history.admin import VersionCompareAdminMixin
from ..models import Block, Story, StoryStatus
from ..ordering import POSITION
from ..people import person_name
from ..schedule_words import schedule_describe
from ..services import WorkflowError, story_approve, story_return, story_submit
from ..story_saving import stories_deleted, story_save, story_save_complete
from ..workflow import STORY_TRANSITIONS
from .base import (
    SortableInline,
    SortableInlinesAdmin,
    WorkflowPageMixin,
    event_rows,
    number_from,
)
from .editor import StoryEditorMixin
from .forms import BlockInlineForm, StoryForm, story_place_help_texts
from .people import PeopleByNameMixin, PersonListFilter
from .record import StoryRecordMixin
from .reverting import REVISION_HIGH_WATER, STORY_REVERT_PLACE, StoryRevertMixin

# Enough of a story's log to read its review; older steps stay in the database.
EVENT_LOG_LENGTH = 50


# Other apps mark stories in the list (the sources app: a story citing a source in doubt).
# Each extension has ``list_filter`` (a filter class, or None), ``annotate(queryset)`` and
# ``badges(story) -> list[str]`` (short words, read from what ``annotate`` added).
STORY_LIST_EXTENSIONS: list = []


def story_list_extend(extension) -> None:
    """Add a filter and badges to the story list; see ``STORY_LIST_EXTENSIONS``."""
    STORY_LIST_EXTENSIONS.append(extension)


def authors_display(story):
    return ", ".join(person_name(user) for user in story.authors.all())


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


@admin.register(Story)
class StoryAdmin(
    StoryRecordMixin,
    StoryEditorMixin,
    StoryRevertMixin,
    WorkflowPageMixin,
    PeopleByNameMixin,
    VersionCompareAdminMixin,
    SortableInlinesAdmin,
):
    form = StoryForm
    change_list_template = "admin/issues/story/change_list.html"
    list_display = (
        "headline",
        "badges",
        "issue",
        POSITION,
        "status",
        "authors_display",
        "updated_at",
    )
    list_filter = (
        "status",
        "issue__newsletter",
        ("issue", admin.RelatedOnlyFieldListFilter),
        ("authors", PersonListFilter),
    )
    list_select_related = ("issue",)
    search_fields = ("headline", "takeaway", "blocks__text")
    autocomplete_fields = ("issue",)
    # Authors are ticked in a short list of the newsroom's people: Django's two-box picker has
    # more chrome than a newsroom's dozen names need, and its filter icons fail axe's ARIA rules.
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
        return [
            *self.editor_urls(),
            *self.workflow_urls(self.workflow_view),
            *self.record_urls(),
            *super().get_urls(),
        ]

    # Who sees and changes what -----------------------------------------------------------------

    def get_queryset(self, request):
        stories = super().get_queryset(request).prefetch_related("authors")
        for extension in STORY_LIST_EXTENSIONS:
            stories = extension.annotate(stories)
        if user_writes_own_stories_only(request.user):
            stories = stories.filter(authors=request.user)
        return stories

    def get_list_filter(self, request):
        extra = [ext.list_filter for ext in STORY_LIST_EXTENSIONS if ext.list_filter]
        return (*super().get_list_filter(request), *extra)

    # No badge is the usual case: an empty cell, not the admin's "-".
    @admin.display(description="", empty_value="")
    def badges(self, story):
        words = [word for ext in STORY_LIST_EXTENSIONS for word in ext.badges(story)]
        return format_html_join(
            " ", '<span class="bell-badge" data-bell-badge>{}</span>', ((w,) for w in words)
        )

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

    def get_form(self, request, obj=None, **kwargs):
        # Read-only place fields take their help from here, fitting where the story is now;
        # editable ones get theirs from StoryForm.
        kwargs.setdefault("help_texts", story_place_help_texts(obj, may_place=False))
        return super().get_form(request, obj, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "authors":
            kwargs["widget"] = forms.CheckboxSelectMultiple
            # By name, labelled "Full Name (username)": PeopleByNameMixin.
            kwargs["queryset"] = db_field.remote_field.model._default_manager.filter(
                is_staff=True, is_active=True
            )
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
        returned = []
        if story.status == StoryStatus.RETURNED:
            # The comment the authors are working on: the latest return, shown above the form.
            returned = story.events.filter(action="return").select_related("actor")[:1]
        rows = partial(event_rows, transitions=STORY_TRANSITIONS, statuses=StoryStatus)
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
            "returned": next(iter(rows(returned)), None),
            "events": rows(events),
            "issue": story.issue,
            "issue_schedule": schedule_describe(story.issue) if story.issue else "",
            "record": self.record_context(request, story),
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
        revision = number_from(request.POST.get("based_on_revision"))
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

    def save_model(self, request, obj, form, change):
        form.touched_issue_ids = story_save(story=obj, created=not change, moves=form.moves_story)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        story = form.instance
        high_water = getattr(request, REVISION_HIGH_WATER, None)
        reverting = high_water is not None
        # A revert is an edit: it never brings an old approval back.
        rewritten = (
            reverting or form.rewrites_story or any(formset.has_changed() for formset in formsets)
        )
        touched = set(getattr(form, "touched_issue_ids", ()))
        if reverting:
            before = getattr(request, STORY_REVERT_PLACE, None)
            if before != (story.issue_id, story.position):
                touched |= {before[0] if before else None, story.issue_id} - {None}
        saved = story_save_complete(
            story=story,
            acting_user=request.user,
            created=not change,
            rewritten=rewritten,
            moved=form.moves_story,
            issue_ids=touched,
            revision_floor=high_water,
        )
        if saved.back_to_review:
            messages.warning(
                request,
                gettext(
                    "The story was approved; after this change it is back in review and needs "
                    "to be approved again."
                ),
            )
        self._issues_reopened(request, saved.issues_reopened)

    def _issues_reopened(self, request, issues):
        for issue in issues:
            messages.warning(
                request,
                gettext("The issue “%(issue)s” changed and is back in draft: approve it again.")
                % {"issue": issue},
            )

    # Deleting ----------------------------------------------------------------------------------

    def delete_model(self, request, obj):
        issue_id = obj.issue_id
        super().delete_model(request, obj)
        self._issues_reopened(
            request, stories_deleted(issue_ids={issue_id}, acting_user=request.user)
        )

    def delete_queryset(self, request, queryset):
        # Stories of a scheduled issue never get here: has_delete_permission refuses them, and
        # with them the whole "delete selected" action.
        issue_ids = set(queryset.exclude(issue=None).values_list("issue_id", flat=True))
        super().delete_queryset(request, queryset)
        self._issues_reopened(
            request, stories_deleted(issue_ids=issue_ids, acting_user=request.user)
        )
