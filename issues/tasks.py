"""Celery tasks of the editorial app. Thin: they take ids and call a service."""

from functools import partial

from celery import shared_task
from django.db import transaction

from .mail_tasks import mail_task
from .notifications import story_event_notify
from .scheduling import publish_due_issues

# Mail servers come back; a notification an hour late still helps, one lost does not.
NOTIFY_MAX_RETRIES = 8


@mail_task(max_retries=NOTIFY_MAX_RETRIES)
def notify_story_event(event_id: int) -> int:
    return story_event_notify(event_id=event_id)


def story_step_recorded_received(sender, *, event, **kwargs) -> None:
    """``issues.signals.story_step_recorded``: the email goes once the step has committed."""
    transaction.on_commit(partial(notify_story_event.delay, event.pk))


@shared_task
def publish_due() -> list[int]:
    """The beat's scheduler pass (every 30 s): publish the issues now due."""
    return publish_due_issues()
