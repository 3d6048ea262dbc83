"""The newsroom's admin: newsletters, issues with their stories, stories with their blocks.

Every page keeps versions through django-reversion. Lists that have an order (an issue's
stories, a story's blocks) are saved through ``issues.ordering``, because the database refuses
two rows at one position even for the moment of a swap. Status, schedule and revision are shown
but not edited here: the workflow services own them. Saving a story raises its revision, and a
save based on an older revision than the stored one is refused. Reordering an issue does not
raise its stories' revisions: the order belongs to the issue, not to the story's text.
"""

from functools import partial

import reversion
from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db import transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from reversion.admin import VersionAdmin
from reversion.models import Version

# The admin is loaded before IssuesConfig.ready(); VersionAdmin would register the models itself
# (and differently) if our registrations were not in place first.
from . import versioning  # noqa: F401
from .history.admin import VersionCompareAdminMixin
from .models import Block, Issue, Newsletter, Story
from .ordering import (
    POSITION,
    PositionedForm,
    PositionedInlineForm,
    PositionedInlineFormSet,
    positions_make_room,
    positions_park,
    positions_save,
)

# A story's place: set by an editor assembling the issue, not part of the story's text.
PLACE_FIELDS = frozenset({"issue", POSITION})

# Where a revert remembers the highest revision the story ever had (see StoryAdmin._revert).
REVISION_HIGH_WATER = "_bellcms_story_revision_high_water"


class SortableInline(admin.TabularInline):
    """A tabular inline whose rows are reordered by position, by hand or by dragging."""

    form = PositionedInlineForm
    formset = PositionedInlineFormSet
    ordering = (POSITION, "pk")
    # The class the ordering script looks for.
    classes = ("bell-sortable",)

    class Media:
        js = ("issues/sortable_inline.js",)
        css = {"all": ("issues/admin.css",)}


class SortableInlinesAdmin(VersionAdmin):
    """Saves sortable inlines in one go: deletions first, then the list renumbered 1..n."""

    def save_formset(self, request, form, formset, change):
        if not isinstance(formset, PositionedInlineFormSet):
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)
        for row in formset.deleted_objects:
            row.delete()
        positions_save(
            parent=formset.instance,
            related_name=formset.fk.remote_field.get_accessor_name(),
            instances=instances,
        )
        formset.save_m2m()


def _versions_of(story_id):
    return Version.objects.get_for_object_reference(Story, story_id)


def _revision_high_water(story_id):
    """The highest revision a story has had: its own, or its last version's if it was deleted."""
    recorded = [version.field_dict["revision"] for version in _versions_of(story_id)]
    current = Story.objects.filter(pk=story_id).values_list("revision", flat=True)
    return max([*recorded, *current], default=0)


def _authors_display(story):
    return ", ".join(user.get_full_name() or user.username for user in story.authors.all())


@admin.register(Newsletter)
class NewsletterAdmin(VersionAdmin):
    list_display = ("name", "slug", "kicker", "sender_email")
    search_fields = ("name", "kicker")
    prepopulated_fields = {"slug": ("name",)}


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
        # Ordering an issue's stories is assembling the issue: an editor's job.
        return super().has_change_permission(request, obj) and request.user.has_perm(
            "issues.change_issue"
        )

    @admin.display(description=_("headline"))
    def headline_link(self, story):
        url = reverse(f"{self.admin_site.name}:issues_story_change", args=[story.pk])
        return format_html('<a href="{}">{}</a>', url, story.headline)

    @admin.display(description=_("authors"))
    def authors_display(self, story):
        return _authors_display(story)


@admin.register(Issue)
class IssueAdmin(VersionCompareAdminMixin, SortableInlinesAdmin):
    list_display = ("number", "title", "newsletter", "status", "story_count", "publish_at")
    list_display_links = ("number", "title")
    list_filter = ("newsletter", "status")
    list_select_related = ("newsletter",)
    search_fields = ("title", "intro", "stories__headline")
    prepopulated_fields = {"slug": ("title",)}
    fields = (
        "newsletter",
        "number",
        "title",
        "slug",
        "intro",
        "status",
        "publish_at",
        "published_at",
    )
    readonly_fields = ("status", "publish_at", "published_at")
    inlines = [StoryInline]

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

    @admin.display(description=_("stories"), ordering="story_count")
    def story_count(self, issue):
        return issue.story_count


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


class StoryForm(PositionedForm):
    # The revision the editor started from: saving over someone else's newer save is refused.
    based_on_revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Story
        fields = ("headline", "authors", "takeaway", "issue", POSITION)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["based_on_revision"].initial = self.instance.revision
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

    def clean(self):
        cleaned_data = super().clean()
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
            raise forms.ValidationError(
                _(
                    "Someone else saved this story (now revision %(current)s) after you opened "
                    "revision %(based_on)s. Your changes were not saved: open the story again "
                    "to see theirs, then redo yours."
                ),
                code="stale",
                params={"current": current, "based_on": based_on},
            )
        return cleaned_data


def _assembles_issues(user):
    """Editors place stories in issues and see every story."""
    return user.has_perm("issues.change_issue")


def _writes_own_stories_only(user):
    """Journalists change stories, but only the ones they (co-)author."""
    return user.has_perm("issues.change_story") and not _assembles_issues(user)


@admin.register(Story)
class StoryAdmin(VersionCompareAdminMixin, SortableInlinesAdmin):
    form = StoryForm
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
        (None, {"fields": ("headline", "authors")}),
        (_("Place in an issue"), {"fields": ("issue", POSITION)}),
        (_("Workflow"), {"fields": ("status", "revision", "updated_at", "based_on_revision")}),
        # Shown after the blocks (templates/admin/issues/story/change_form.html): the
        # takeaway closes the story, and the form reads in the order the email does.
        (_("Takeaway"), {"fields": ("takeaway",), "classes": ("story-takeaway",)}),
    )
    readonly_fields = ("status", "revision", "updated_at")
    inlines = [BlockInline]

    def get_queryset(self, request):
        stories = super().get_queryset(request).prefetch_related("authors")
        if _writes_own_stories_only(request.user):
            stories = stories.filter(authors=request.user)
        return stories

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if not _assembles_issues(request.user):
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
        return _authors_display(story)

    def save_model(self, request, obj, form, change):
        previous_issue_id = (
            Story.objects.filter(pk=obj.pk).values_list("issue_id", flat=True).first()
            if change
            else None
        )
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
        if previous_issue_id is not None and previous_issue_id != obj.issue_id:
            self._close_gap(previous_issue_id)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        story = form.instance
        if not change and _writes_own_stories_only(request.user):
            # A journalist sees only their own stories: the one they start is theirs.
            story.authors.add(request.user)
        high_water = getattr(request, REVISION_HIGH_WATER, None)
        # A save that changes nothing is not a new revision; a revert always is.
        edited = (
            high_water is not None
            or form.has_changed()
            or any(formset.has_changed() for formset in formsets)
        )
        if change and edited:
            # F() so that two editors saving at once both count.
            revision = (
                F("revision") if high_water is None else Greatest("revision", Value(high_water))
            )
            Story.objects.filter(pk=story.pk).update(revision=revision + 1)
            story.refresh_from_db(fields=["revision"])
        if reversion.is_active():
            # The UPDATE bypassed the signals reversion listens to: record the final state.
            reversion.add_to_revision(story)

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(
                gettext("%(change)s Revision %(revision)s.")
                % {"change": entry.get_change_message(), "revision": obj.revision}
            )
        return entry

    def delete_model(self, request, obj):
        issue_id = obj.issue_id
        super().delete_model(request, obj)
        self._close_gap(issue_id)

    def delete_queryset(self, request, queryset):
        issue_ids = set(queryset.exclude(issue=None).values_list("issue_id", flat=True))
        super().delete_queryset(request, queryset)
        for issue_id in issue_ids:
            self._close_gap(issue_id)

    def _close_gap(self, issue_id):
        issue = Issue.objects.filter(pk=issue_id).first()
        if issue is not None:
            positions_save(parent=issue, related_name="stories", instances=[])

    def revision_view(self, request, object_id, version_id, extra_context=None):
        versions = Version.objects.get_for_model(Story)
        version = get_object_or_404(versions, pk=version_id, object_id=unquote(object_id))
        view = super().revision_view
        return self._revert(
            request, version, partial(view, request, object_id, version_id, extra_context)
        )

    def recover_view(self, request, version_id, extra_context=None):
        version = get_object_or_404(Version.objects.get_for_model(Story), pk=version_id)
        view = super().recover_view
        return self._revert(request, version, partial(view, request, version_id, extra_context))

    def _revert(self, request, version, view):
        """Run reversion's revert or recover view with room made for the old positions.

        Reversion writes each row back with its old position, one by one: a swap since that
        version, or another story now at the old place in the issue, would stop it. The rows
        are moved out of the way in a transaction kept only if the revert was saved; previews
        and refused forms leave everything as it was.
        """
        old = version.field_dict
        with transaction.atomic():
            story = Story.objects.filter(pk=version.object_id).first()
            if story is not None:
                positions_park(parent=story, related_name="blocks")
            old_issue = (
                Issue.objects.filter(pk=old["issue_id"]).first() if old["issue_id"] else None
            )
            if old_issue is not None and old[POSITION]:
                positions_make_room(
                    parent=old_issue, related_name="stories", position=old[POSITION]
                )
            # A revert restores the old revision number too; the counter must still go up, or an
            # approval given to a later revision would seem to cover the old text.
            setattr(request, REVISION_HIGH_WATER, _revision_high_water(version.object_id))
            versions_before = _versions_of(version.object_id).count()
            response = view()
            if _versions_of(version.object_id).count() == versions_before:
                transaction.set_rollback(True)
            elif story is not None and story.issue_id not in (None, old["issue_id"]):
                self._close_gap(story.issue_id)
        return response
