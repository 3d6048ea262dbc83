"""The sources panel on a story's admin page: how many claims cite sources, which still must,
the way to the page where they are cited, and a banner for each cited source put in doubt (with
the editors' form to clear it)."""

from django import template
from django.urls import reverse

from issues.access import user_is_editor

from ..citing import unsourced_blocks
from ..consequences import story_doubts
from ..models import Citation

register = template.Library()


@register.inclusion_tag("admin/sources/story_panel.html", takes_context=True)
def story_sources_panel(context, story):
    user = context["request"].user
    if story is None or story.pk is None or not user.has_perm("sources.view_source"):
        return {"shown": False}
    return {
        "shown": True,
        "cited": Citation.objects.filter(block__story=story).values("block").distinct().count(),
        "unsourced": unsourced_blocks(story=story),
        "url": reverse("admin:sources_story_citations", args=[story.pk]),
        "doubts": story_doubts(story=story),
        "may_clear": user_is_editor(user),
        "story_id": story.pk,
        "csrf_token": context.get("csrf_token"),
    }
