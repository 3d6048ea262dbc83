"""The source list and page. Journalists and editors see the public record of every source
(codename, descriptors, basis, reliability, status); the identity is typed once, in the add
form, sealed at once, and shown only on the reveal page."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from reversion.admin import VersionAdmin

from issues.access import stories_for_user, story_get_for_user
from issues.admin.people import person_display
from issues.history.admin import VersionCompareAdminMixin
from issues.models import Story

from ..access import user_is_keeper, user_may_change_source
from ..consequences import source_status_set, story_doubt_clear
from ..fallout import REVIEW_PERMISSION
from ..keys import KeyUnavailable
from ..models import (
    AccessGrant,
    Citation,
    ContactLogEntry,
    Descriptor,
    RevealEvent,
    Source,
    SourceStatus,
)
from ..services import (
    SourceRefused,
    anonymity_reason_clean,
    descriptor_is_plural,
    sealing_check,
    source_create,
    source_possible_duplicates,
    source_verify,
)
from .citations import story_citations_view
from .editor import story_cite_view
from .fallout import fallout_view
from .reveal import reveal_view
from .steps import post_step

# Fields that change only through a service: never by a form, nor by a revert.
SERVICE_ONLY_FIELDS = ("status", "handler_id", "verified_by_id", "verified_at")
IDENTITY_INPUTS = ("identity_name", "identity_position", "identity_contacts", "identity_notes")


class SourceChangeForm(forms.ModelForm):
    """The public record; the reason for anonymity must say what the source risks."""

    class Meta:
        model = Source
        fields = ["codename", "basis", "reliability", "motive", "anonymity_reason"]

    def clean_anonymity_reason(self):
        try:
            return anonymity_reason_clean(self.cleaned_data["anonymity_reason"])
        except SourceRefused as refused:
            raise ValidationError(refused.message) from None


class SourceAddForm(SourceChangeForm):
    """The public record, the descriptors and, sealed on save, the identity."""

    descriptors = forms.CharField(
        label=_("Descriptors approved for print"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line, e.g. “a source with contacts inside the Kremlin”."),
    )
    identity_name = forms.CharField(label=_("Real name"), max_length=300)
    identity_position = forms.CharField(label=_("Position"), max_length=500, required=False)
    identity_contacts = forms.CharField(
        label=_("Contact channels"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
        help_text=_("One per line: phone, messenger handle, address."),
    )
    identity_notes = forms.CharField(
        label=_("Notes on the identity"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off"}),
    )

    def clean(self):
        cleaned = super().clean()
        try:
            sealing_check()
        except KeyUnavailable as error:
            raise ValidationError(str(error)) from None
        return cleaned

    def identity(self) -> dict:
        return {
            field: self.cleaned_data[f"identity_{field}"]
            for field in ("name", "position", "contacts", "notes")
        }


class DescriptorInlineForm(forms.ModelForm):
    """A description for print; ticking *approved* is the editor's agreement (with *plural*
    saying whether it speaks of several people, which a citation then needs)."""

    approved = forms.BooleanField(label=_("approved"), required=False)

    class Meta:
        model = Descriptor
        fields = ["text", "plural"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved"].initial = self.instance.approved_by_id is not None
        if self.instance.pk is None:
            self.fields["plural"].help_text = _("Guessed from the words when left unticked.")

    def descriptor_save(self, user):
        descriptor = self.instance
        if descriptor.pk is None and not self.cleaned_data.get("plural"):
            descriptor.plural = descriptor_is_plural(descriptor.text)
        if not self.cleaned_data.get("approved"):
            descriptor.approved_by, descriptor.approved_at = None, None
        elif descriptor.approved_by_id is None or self.has_changed():
            descriptor.approved_by, descriptor.approved_at = user, timezone.now()
        descriptor.save()


class DescriptorInline(admin.TabularInline):
    model = Descriptor
    form = DescriptorInlineForm
    fields = ("text", "plural", "approved", "approved_by_name")
    readonly_fields = ("approved_by_name",)
    extra = 0
    min_num = 1
    validate_min = True

    approved_by_name = person_display("approved_by", _("approved by"), ordering=False)


class ContactLogInline(admin.TabularInline):
    """The contact log: the day, the channel type, a note; never a number or a place."""

    model = ContactLogEntry
    fields = ("day", "channel", "note", "created_by_name")
    readonly_fields = ("created_by_name",)
    extra = 0
    can_delete = False

    created_by_name = person_display("created_by", _("logged by"), ordering=False)

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Source)
class SourceAdmin(VersionCompareAdminMixin, VersionAdmin):
    form = SourceChangeForm
    change_list_template = "admin/sources/source/change_list.html"
    list_display = (
        "codename",
        "descriptor_list",
        "basis",
        "reliability",
        "status",
        "handler_name",
    )
    list_filter = ("status", "basis", "reliability")
    search_fields = ("codename", "descriptors__text")
    readonly_fields = ("status", "handler_name", "verified_by_name", "verified_at", "revision")
    fieldsets = (
        (None, {"fields": ("codename", "status", "handler_name")}),
        (
            _("What the source knows, and why they talk"),
            {"fields": ("basis", "reliability", "motive", "anonymity_reason")},
        ),
        (_("Verification"), {"fields": ("verified_by_name", "verified_at", "revision")}),
    )
    inlines = [DescriptorInline, ContactLogInline]
    change_form_template = "admin/sources/source/change_form.html"

    handler_name = person_display("handler", _("handler"))
    verified_by_name = person_display("verified_by", _("verified by"))

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("handler")
            .prefetch_related(Prefetch("descriptors", queryset=Descriptor.objects.order_by("pk")))
        )

    @admin.display(description=_("descriptors"))
    def descriptor_list(self, obj):
        return format_html_join("", "<div>{}</div>", ((d.text,) for d in obj.descriptors.all()))

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SourceAddForm
            kwargs["fields"] = None
        return super().get_form(request, obj, **kwargs)

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return self.fieldsets
        return (
            (None, {"fields": ("codename", "descriptors")}),
            (
                _("What the source knows, and why they talk"),
                {"fields": ("basis", "reliability", "motive", "anonymity_reason")},
            ),
            (
                _("Identity: sealed when you save, and never shown here again"),
                {
                    "fields": (
                        "identity_name",
                        "identity_position",
                        "identity_contacts",
                        "identity_notes",
                    )
                },
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else []

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and user_may_change_source(
            request.user, obj
        )

    def has_delete_permission(self, request, obj=None):
        return False

    # A revert brings back descriptors too: only those who approve descriptors revert.
    def _may_revert(self, request) -> bool:
        return request.user.has_perm("sources.change_descriptor")

    def revision_view(self, request, object_id, version_id, extra_context=None):
        if not self._may_revert(request):
            raise PermissionDenied
        # Status, handler and verification change only through their services (with their
        # checks, and the flags on stories): a revert keeps them as they are now.
        request.source_kept = (
            Source.objects.filter(pk=object_id).values(*SERVICE_ONLY_FIELDS).first()
        )
        return super().revision_view(request, object_id, version_id, extra_context)

    def recover_view(self, request, version_id, extra_context=None):
        if not self._may_revert(request):
            raise PermissionDenied
        return super().recover_view(request, version_id, extra_context)

    @method_decorator(sensitive_post_parameters(*IDENTITY_INPUTS))
    def add_view(self, request, form_url="", extra_context=None):
        return super().add_view(request, form_url, extra_context)

    @method_decorator(sensitive_variables())
    def save_model(self, request, obj, form, change):
        if change:
            for field, value in (getattr(request, "source_kept", None) or {}).items():
                setattr(obj, field, value)
            obj.revision += 1
            obj.save()
            return
        created = source_create(
            acting_user=request.user,
            codename=form.cleaned_data["codename"],
            identity=form.identity(),
            descriptors=form.cleaned_data["descriptors"].splitlines(),
            basis=form.cleaned_data["basis"],
            reliability=form.cleaned_data["reliability"],
            motive=form.cleaned_data["motive"],
            anonymity_reason=form.cleaned_data["anonymity_reason"],
        )
        obj.pk, obj.handler, obj.revision = created.pk, created.handler, created.revision
        obj._state.adding, obj._state.db = False, created._state.db
        if user_is_keeper(request.user):
            for duplicate in source_possible_duplicates(source=created):
                messages.warning(
                    request,
                    _("This person may already be source %(codename)s (same name or contact).")
                    % {"codename": duplicate.codename},
                )

    def save_formset(self, request, form, formset, change):
        if formset.model is Descriptor:
            changed = {id(obj) for obj in formset.save(commit=False)}
            for descriptor_form in formset.forms:
                if id(descriptor_form.instance) in changed:
                    descriptor_form.descriptor_save(request.user)
            for descriptor in formset.deleted_objects:
                descriptor.delete()
            return
        for entry in formset.save(commit=False):
            if isinstance(entry, ContactLogEntry) and entry.pk is None:
                entry.created_by = request.user
            entry.save()
        formset.save_m2m()

    def get_urls(self):
        view = self.admin_site.admin_view(self.reveal_view)
        verify = self.admin_site.admin_view(self.verify_view)
        citations = self.admin_site.admin_view(self.story_citations_view)
        cite = self.admin_site.admin_view(self.story_cite_view)
        status = self.admin_site.admin_view(self.status_view)
        clear = self.admin_site.admin_view(self.doubt_clear_view)
        fallout = self.admin_site.admin_view(self.fallout_view)
        return [
            path("fallout/", fallout, name="sources_fallout"),
            path(
                "story/<int:story_id>/source/<int:source_id>/clear/",
                clear,
                name="sources_story_doubt_clear",
            ),
            path("<path:object_id>/status/", status, name="sources_source_status"),
            path("story/<int:story_id>/", citations, name="sources_story_citations"),
            path("story/<int:story_id>/cite/", cite, name="sources_story_cite"),
            path("<path:object_id>/reveal/", view, name="sources_source_reveal"),
            path("<path:object_id>/verify/", verify, name="sources_source_verify"),
            *super().get_urls(),
        ]

    @method_decorator(sensitive_post_parameters("password"))
    def reveal_view(self, request, object_id):
        return reveal_view(self, request, object_id)

    def story_citations_view(self, request, story_id):
        return story_citations_view(self, request, story_id)

    def story_cite_view(self, request, story_id):
        return story_cite_view(self, request, story_id)

    def fallout_view(self, request):
        return fallout_view(self, request)

    def changelist_view(self, request, extra_context=None):
        extra = {"may_review": request.user.has_perm(REVIEW_PERMISSION)}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def _source_or_redirect(self, request, object_id):
        source = self.get_object(request, object_id)
        if source is None:
            return None, self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        return source, None

    def verify_view(self, request, object_id):
        source, missing = self._source_or_redirect(request, object_id)
        return missing or post_step(
            request,
            run=lambda: source_verify(source=source, acting_user=request.user),
            done=lambda _result: _("You verified %(codename)s.") % {"codename": source},
            back=reverse("admin:sources_source_change", args=[source.pk]),
        )

    def status_view(self, request, object_id):
        source, missing = self._source_or_redirect(request, object_id)
        return missing or post_step(
            request,
            run=lambda: source_status_set(
                source=source,
                status=request.POST.get("status", ""),
                note=request.POST.get("note", ""),
                acting_user=request.user,
            ),
            done=lambda flags: (
                ngettext(
                    "%(codename)s is now %(status)s; %(count)d story citing it is flagged.",
                    "%(codename)s is now %(status)s; %(count)d stories citing it are flagged.",
                    len(flags),
                )
                % {
                    "codename": source,
                    "status": source.get_status_display().lower(),
                    "count": len(flags),
                }
            ),
            back=reverse("admin:sources_source_change", args=[source.pk]),
        )

    def doubt_clear_view(self, request, story_id, source_id):
        try:
            story = story_get_for_user(user=request.user, story_id=story_id)
        except Story.DoesNotExist:
            raise Http404 from None
        source = get_object_or_404(Source, pk=source_id)
        return post_step(
            request,
            run=lambda: story_doubt_clear(
                story=story,
                source=source,
                acting_user=request.user,
                note=request.POST.get("note", ""),
            ),
            done=lambda _flag: _("The flag on %(codename)s is cleared.") % {"codename": source},
            back=reverse("admin:issues_story_change", args=[story.pk]),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        source = self.get_object(request, object_id)
        extra = {"reveal_url": reverse("admin:sources_source_reveal", args=[object_id])}
        if source is not None:
            # Only stories this person may open: what a source feeds can point at who it is.
            extra["cited_in"] = (
                Citation.objects.filter(
                    sources=source, block__story__in=stories_for_user(user=request.user)
                )
                .select_related("block__story")
                .order_by("block__story__headline", "block__position")
            )
            extra["may_verify"] = (
                request.user.has_perm("sources.verify_source")
                and source.handler_id != request.user.pk
                and source.verified_by_id is None
            )
            extra["verify_url"] = reverse("admin:sources_source_verify", args=[object_id])
            extra["may_set_status"] = user_is_keeper(request.user) or request.user.has_perm(
                "sources.verify_source"
            )
            extra["status_url"] = reverse("admin:sources_source_status", args=[object_id])
            extra["statuses"] = SourceStatus.choices
            extra["may_review"] = request.user.has_perm(REVIEW_PERMISSION)
            if user_is_keeper(request.user):
                extra["keeper"] = {
                    "duplicates": source_possible_duplicates(source=source),
                    "grants": AccessGrant.objects.filter(source=source).select_related(
                        "user", "granted_by"
                    ),
                    "reveals": RevealEvent.objects.filter(source=source).select_related("user")[
                        :50
                    ],
                }
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})
