"""Celery tasks of the subscribers app. Thin: they take row ids (never an address or a token)
and call a service."""

from smtplib import SMTPException

from celery import shared_task

from .emails import confirmation_send, preferences_link_send

# A confirmation an hour late still works; the person is waiting, so retry a few times fast.
CONFIRMATION_MAX_RETRIES = 6


@shared_task
def process_signup(attempt_id: int) -> bool:
    # Decides what a sign-up does; the public form queues this for every address alike.
    from .services import signup_attempt_process

    return signup_attempt_process(attempt_id=attempt_id)


@shared_task
def expire_signup_attempts() -> int:
    from .services import signup_attempts_expire

    return signup_attempts_expire()


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=CONFIRMATION_MAX_RETRIES,
)
def send_confirmation(subscription_id: int) -> bool:
    return confirmation_send(subscription_id=subscription_id)


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=CONFIRMATION_MAX_RETRIES,
)
def send_preferences_link(subscriber_id: int) -> bool:
    return preferences_link_send(subscriber_id=subscriber_id)


@shared_task(
    autoretry_for=(SMTPException, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=3,
)
def send_issue_test(issue_id: int, user_id: int) -> bool:
    from .preview import issue_email_test_send

    return issue_email_test_send(issue_id=issue_id, user_id=user_id)
