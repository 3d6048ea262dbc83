"""Celery tasks that send an email: while the mail server cannot be reached (a refused or lost
connection, an SMTP error), the task is tried again, each wait longer than the last, up to a
limit and a number of tries each task sets. Issues' and subscribers' mail tasks use it."""

from smtplib import SMTPException

from celery import shared_task

MAIL_SERVER_ERRORS = (SMTPException, OSError)


def mail_task(*, max_retries: int, backoff_max: int = 600):
    """``@mail_task(max_retries=6)``: a shared task retried on the mail server's errors."""
    return shared_task(
        autoretry_for=MAIL_SERVER_ERRORS,
        retry_backoff=True,
        retry_backoff_max=backoff_max,
        max_retries=max_retries,
    )
