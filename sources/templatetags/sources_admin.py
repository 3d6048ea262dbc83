"""The sources panel on a story's admin page: how many claims cite sources, which still must,
and the way to the page where they are cited."""

from django import template
from django.urls import reverse

from ..citing import unsourced_blocks
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
    }
