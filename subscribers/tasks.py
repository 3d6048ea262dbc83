"""Celery tasks of the subscribers app. Thin: they take row ids (never an address or a token)
and call a service."""

from celery import shared_task
from celery.signals import worker_process_shutdown

from issues.mail_tasks import mail_task

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


@mail_task(max_retries=CONFIRMATION_MAX_RETRIES)
def send_confirmation(subscription_id: int) -> bool:
    return confirmation_send(subscription_id=subscription_id)


@mail_task(max_retries=CONFIRMATION_MAX_RETRIES)
def send_preferences_link(subscriber_id: int) -> bool:
    return preferences_link_send(subscriber_id=subscriber_id)


# A test copy is for the editor at the screen: a few quick tries, then it says it failed.
@mail_task(max_retries=3, backoff_max=300)
def send_issue_test(issue_id: int, user_id: int) -> bool:
    from .preview import issue_email_test_send

    return issue_email_test_send(issue_id=issue_id, user_id=user_id)


@shared_task(bind=True)
def send_issue(self, issue_id: int, transport_failures: int = 0) -> None:
    """A batch task of an issue's sending (ids only): sends until done or its time is up,
    then queues its successor when there is more to do."""
    from .dispatch.loop import dispatch_run

    outcome = dispatch_run(issue_id=issue_id, transport_failures=transport_failures)
    if outcome.again_in is None or (self.request.is_eager and outcome.again_in > 0):
        # Run inline (tests, eager mode), a delayed successor would run at once, not later:
        # what is left waits for the scheduler's wake-up pass instead.
        return
    send_issue.apply_async((issue_id, outcome.transport_failures), countdown=outcome.again_in)


@shared_task(bind=True)
def send_notice(self, notice_id: int, transport_failures: int = 0) -> None:
    """A batch task of a correction notice's sending, as ``send_issue`` is of an issue's."""
    from .dispatch.loop import dispatch_run

    outcome = dispatch_run(notice_id=notice_id, transport_failures=transport_failures)
    if outcome.again_in is None or (self.request.is_eager and outcome.again_in > 0):
        return
    send_notice.apply_async((notice_id, outcome.transport_failures), countdown=outcome.again_in)


@shared_task
def import_members(import_id: int) -> str:
    """Import a members file uploaded in the admin (the row's id; the file is in the row)."""
    from .members.uploads import member_import_failed, member_import_run

    try:
        return member_import_run(import_id=import_id)
    except Exception:
        # Nothing was written (one transaction); the person is told to upload it again.
        member_import_failed(import_id=import_id)
        raise


@shared_task
def wake_quiet_dispatches() -> list[int]:
    """The beat's safety net for sendings (every 15 s): see ``dispatch_wake_quiet``."""
    from .dispatch.finish import dispatch_wake_quiet

    return dispatch_wake_quiet()


@worker_process_shutdown.connect
def _close_mail_connection(**kwargs):
    # Say QUIT to the mail server rather than drop the connection it may be holding for us.
    from .dispatch.transports import transport_close

    transport_close()
