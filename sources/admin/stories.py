"""What the sources app adds to the story list: a badge and a filter for stories that cite a
source put in doubt (under review or burned) whose flag no editor has cleared yet."""

from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from issues.admin.stories import story_list_extend

_OPEN = Q(source_flags__cleared_at__isnull=True)


class SourceInDoubtFilter(admin.SimpleListFilter):
    title = _("sources")
    parameter_name = "source_in_doubt"

    def lookups(self, request, model_admin):
        return [("yes", _("Cites a source in doubt"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(open_source_flags__gt=0)
        return queryset


class SourcesInStoryList:
    list_filter = SourceInDoubtFilter

    @staticmethod
    def annotate(queryset):
        return queryset.annotate(
            open_source_flags=Count("source_flags", filter=_OPEN, distinct=True)
        )

    @staticmethod
    def badges(story) -> list[str]:
        return [gettext("source in doubt")] if getattr(story, "open_source_flags", 0) else []


story_list_extend(SourcesInStoryList)
