"""Access grants and the reveal log, for source keepers. A grant is made and revoked through
the services; the reveal log can be read, filtered by source or user, and nothing else."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from issues.admin.people import PeopleByNameMixin, PersonListFilter, person_display
from issues.people import people_by_name

from ..models import AccessGrant, RevealEvent
from ..services import SourceRefused, access_grant, access_revoke


class AccessGrantForm(forms.ModelForm):
    class Meta:
        model = AccessGrant
        fields = ["source", "user", "reason", "expires_at"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.fields["user"].queryset = people_by_name(
            get_user_model().objects.filter(is_active=True)
        )

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with_grant = access_grant(
                source=cleaned["source"],
                user=cleaned["user"],
                granted_by=self.request.user,
                reason=cleaned["reason"],
                expires_at=cleaned["expires_at"],
            )
        except SourceRefused as refused:
            raise ValidationError(refused.message) from None
        self.instance = with_grant
        return cleaned


@admin.register(AccessGrant)
class AccessGrantAdmin(PeopleByNameMixin, admin.ModelAdmin):
    list_display = (
        "source",
        "user_name",
        "granted_by_name",
        "created_at",
        "expires_at",
        "revoked_at",
    )
    list_filter = (
        ("source", admin.RelatedOnlyFieldListFilter),
        ("user", PersonListFilter),
    )
    list_select_related = ("source", "user", "granted_by")
    actions = ["revoke"]

    user_name = person_display("user", _("user"))
    granted_by_name = person_display("granted_by", _("granted by"))

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, form=AccessGrantForm, **kwargs)

        class WithRequest(form):
            def __init__(self, *args, **inner):
                super().__init__(*args, request=request, **inner)

        return WithRequest

    def get_changeform_initial_data(self, request):
        return {"source": request.GET.get("source")}

    def save_model(self, request, obj, form, change):
        # The grant was made by access_grant when the form was checked.
        pass

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Revoke the selected grants now"), permissions=["add"])
    def revoke(self, request, queryset):
        try:
            count = sum(access_revoke(grant=grant, acting_user=request.user) for grant in queryset)
        except SourceRefused as refused:
            self.message_user(request, refused.message, messages.ERROR)
            return
        self.message_user(
            request, ngettext("Revoked %d grant.", "Revoked %d grants.", count) % count
        )


@admin.register(RevealEvent)
class RevealEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "source", "user_name", "outcome", "refusal", "reason")
    list_filter = (
        "outcome",
        ("source", admin.RelatedOnlyFieldListFilter),
        ("user", PersonListFilter),
    )
    list_select_related = ("source", "user")
    date_hierarchy = "created_at"

    user_name = person_display("user", _("user"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
