"""Newsletters in the admin."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from reversion.admin import VersionAdmin

from ..models import Newsletter
from .people import PeopleByNameMixin


@admin.register(Newsletter)
class NewsletterAdmin(PeopleByNameMixin, VersionAdmin):
    list_display = ("name", "slug", "kicker", "sender_email")
    search_fields = ("name", "kicker")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = [
        (None, {"fields": ["name", "slug", "kicker", "sender_name", "sender_email"]}),
        (_("Stories"), {"fields": ["takeaway_label", "attribution_patterns", "default_author"]}),
        (_("Public archive"), {"fields": ["language", "mirror_urls"]}),
    ]
