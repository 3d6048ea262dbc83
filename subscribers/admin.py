"""Subscribers in the admin. States change only through the services (admin actions)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from bellcms.dates import datetime_shown

from .addresses import email_normalise, name_clean, suppression_hash
from .audience_admin import audience_urls
from .models import Subscriber, SubscriberEvent, Subscription, Suppression, SuppressionReason
from .services import (
    address_suppress,
    subscriber_erase,
    subscriber_unsubscribe_all,
    suppression_lift,
)


class SubscriberAdminForm(forms.ModelForm):
    class Meta:
        model = Subscriber
        fields = ["email", "name", "tier", "note", "labels", "stripe_customer_id"]

    def clean_email(self):
        email = email_normalise(self.cleaned_data["email"])
        if Suppression.objects.filter(address_hash=suppression_hash(email)).exists():
            raise ValidationError(_("This address is suppressed: it may not be mailed."))
        return email

    def clean_name(self):
        return name_clean(self.cleaned_data["name"])


def date_column(field: str, description):
    """A date field shown by ``datetime_shown``: a page with an absurd stored date (from a file
    imported before dates were checked) still opens."""

    @admin.display(description=description, ordering=field)
    def shown(self, obj):
        return datetime_shown(getattr(obj, field), empty=self.get_empty_value_display())

    return shown


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    fields = ("newsletter", "status", "created", "confirmed", "unsubscribed")
    readonly_fields = fields
    created = date_column("created_at", _("created"))
    confirmed = date_column("confirmed_at", _("confirmed"))
    unsubscribed = date_column("unsubscribed_at", _("unsubscribed"))
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class SubscriberEventInline(admin.TabularInline):
    model = SubscriberEvent
    extra = 0
    fields = ("when", "action", "newsletter", "detail")
    readonly_fields = fields
    when = date_column("created_at", _("when"))
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    form = SubscriberAdminForm
    list_display = ("email", "name", "status", "tier", "created")
    list_filter = ("status", "tier", "consent_method", "subscriptions__newsletter")
    search_fields = ("email", "name")
    readonly_fields = (
        "status",
        "consented",
        "consent_method",
        "consent_source",
        "soft_bounces",
        "created",
    )
    inlines = [SubscriptionInline, SubscriberEventInline]
    actions = ["unsubscribe_all", "suppress_and_stop", "erase"]
    show_full_result_count = False
    created = date_column("created_at", _("created"))
    consented = date_column("consent_at", _("consented at"))

    def get_inlines(self, request, obj=None):
        return self.inlines if obj else []

    def get_urls(self):
        # Import and export members; before the admin's own, whose "<id>/" would take them.
        return [*audience_urls(self), *super().get_urls()]

    def get_readonly_fields(self, request, obj=None):
        # The address is who consented: a new address is a new subscriber.
        return (*self.readonly_fields, "email") if obj else self.readonly_fields

    # Deleting a subscriber is erasing them: the address goes, a suppression entry stays, and
    # the admin's own log keeps no trace of it (subscriber_erase removes its entries).
    def delete_model(self, request, obj):
        subscriber_erase(subscriber=obj)

    def delete_queryset(self, request, queryset):
        for subscriber in queryset:
            subscriber_erase(subscriber=subscriber)

    @admin.action(description=_("Unsubscribe from all newsletters"), permissions=["change"])
    def unsubscribe_all(self, request, queryset):
        count = sum(
            subscriber_unsubscribe_all(subscriber=subscriber, how="admin")
            for subscriber in queryset
        )
        self.message_user(
            request,
            ngettext("Unsubscribed %d subscriber.", "Unsubscribed %d subscribers.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Suppress: never mail again"), permissions=["change"])
    def suppress_and_stop(self, request, queryset):
        for subscriber in queryset:
            address_suppress(email=subscriber.email, reason=SuppressionReason.MANUAL)
        self.message_user(request, _("The selected addresses are suppressed."), messages.SUCCESS)

    @admin.action(description=_("Erase (keeps only a suppression entry)"), permissions=["delete"])
    def erase(self, request, queryset):
        count = 0
        for subscriber in queryset:
            subscriber_erase(subscriber=subscriber)
            count += 1
        self.message_user(
            request,
            ngettext("Erased %d subscriber.", "Erased %d subscribers.", count) % count,
            messages.SUCCESS,
        )


class SuppressionAdminForm(forms.ModelForm):
    email = forms.CharField(
        label=_("Email address"),
        help_text=_("Only a keyed hash of it is stored."),
        max_length=500,
    )

    class Meta:
        model = Suppression
        fields = ["reason"]

    def clean_email(self):
        return email_normalise(self.cleaned_data["email"])


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ("short_hash", "reason", "created_at", "lifted_at")
    list_filter = ("reason", ("lifted_at", admin.EmptyFieldListFilter))
    ordering = ("-created_at",)
    # An entry is never deleted by hand: it is the only record that the person asked us to stop
    # (an erased subscriber has nothing else). Lifting lets the person's own sign-up through.
    actions = ["lift"]
    # Searching takes an address and looks up its hash: the list never shows addresses.
    search_fields = ("address_hash",)
    search_help_text = _("Enter a full email address.")

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        try:
            digest = suppression_hash(search_term)
        except ValidationError:
            return queryset.none(), False
        return queryset.filter(address_hash=digest), False

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = SuppressionAdminForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["email", "reason"] if obj is None else self._shown

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self._shown

    _shown = ["address_hash", "reason", "created_at", "lifted_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        suppression = address_suppress(
            email=form.cleaned_data["email"], reason=form.cleaned_data["reason"]
        )
        obj.pk = suppression.pk

    @admin.display(description=_("address hash"))
    def short_hash(self, obj):
        return f"{obj.address_hash[:16]}…"

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(
        description=_("Lift: the person may sign up again (files and staff still may not)"),
        permissions=["change"],
    )
    def lift(self, request, queryset):
        count = sum(suppression_lift(suppression=suppression) for suppression in queryset)
        self.message_user(
            request,
            ngettext(
                "Lifted %d suppression: the person can now sign up again, and is mailed once "
                "they confirm from the email the sign-up sends.",
                "Lifted %d suppressions: each person can now sign up again, and is mailed once "
                "they confirm from the email the sign-up sends.",
                count,
            )
            % count,
            messages.SUCCESS,
        )
