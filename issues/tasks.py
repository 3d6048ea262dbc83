"""Celery tasks of the editorial app. Thin: they take ids and call a service."""

from smtplib import SMTPException

from celery import shared_task

from .notifications import story_event_notify

# Mail servers come back; a notification an hour late still helps, one lost does not.
NOTIFY_MAX_RETRIES = 8


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=NOTIFY_MAX_RETRIES,
)
def notify_story_event(event_id: int) -> int:
    return story_event_notify(event_id=event_id)


@shared_task
def publish_due() -> list[int]:
    """The beat's scheduler pass (every 30 s): publish the issues now due."""
    # Imported here: scheduling imports the services, which import this module's tasks.
    from .scheduling import publish_due_issues

    return publish_due_issues()
