"""Newsletters in the admin."""

from django.contrib import admin
from reversion.admin import VersionAdmin

from ..models import Newsletter


@admin.register(Newsletter)
class NewsletterAdmin(VersionAdmin):
    list_display = ("name", "slug", "kicker", "sender_email")
    search_fields = ("name", "kicker")
    prepopulated_fields = {"slug": ("name",)}
