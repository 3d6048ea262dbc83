"""Emails that tell the other side of the review that it is their turn.

A submission goes to the editors; a return or an approval goes to the story's authors. The
person who took the step is never told about it.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import StoryEvent
from .people import person_name

EDITORS_GROUP = "Editors"


def story_event_recipients(event: StoryEvent) -> list[str]:
    users = get_user_model().objects.filter(is_active=True).exclude(email="")
    if event.action == "submit":
        users = users.filter(groups__name=EDITORS_GROUP)
    elif event.action in {"return", "approve"}:
        users = users.filter(stories=event.story_id)
    else:
        return []
    if event.actor_id is not None:
        users = users.exclude(pk=event.actor_id)
    return sorted(set(users.values_list("email", flat=True)))


def story_event_notify(*, event_id: int) -> int:
    """Send the email for one workflow event; returns how many people it went to."""
    event = StoryEvent.objects.select_related("story", "actor").get(pk=event_id)
    recipients = story_event_recipients(event)
    if not recipients:
        return 0
    context = {
        "event": event,
        "story": event.story,
        "actor": person_name(event.actor),
        "url": settings.BELLCMS_BASE_URL
        + reverse("admin:issues_story_change", args=[event.story_id]),
    }
    subject = render_to_string("emails/workflow/story_event_subject.txt", context)
    body = render_to_string("emails/workflow/story_event.txt", context)
    # One message per person: colleagues' addresses stay private, and a bounce names its owner.
    for address in recipients:
        send_mail(" ".join(subject.split()), body, None, [address])
    return len(recipients)
