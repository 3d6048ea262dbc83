"""Template tags for the newsroom's admin pages."""

from django import template
from django.utils import timezone

from bellcms.health import worker_status_get

register = template.Library()


@register.simple_tag
def worker_status():
    """The background worker's heartbeat, with its age in whole seconds for the sentence."""
    status = worker_status_get()
    age = None if status.last_seen is None else timezone.now() - status.last_seen
    return {
        "alive": status.alive,
        "last_seen": status.last_seen,
        "seconds_ago": None if age is None else max(0, int(age.total_seconds())),
    }
