"""Dispatch of published issues to subscribers. So far: the audience snapshot.

Who receives an issue is decided once, when it is published: one ``Delivery`` row per
(issue, subscriber). Sending works from those rows, never from the live subscriber list.
"""

from django.db import connection
from django.utils import timezone

from .models import (
    Delivery,
    DeliveryStatus,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)


def _snapshot_sql() -> str:
    quote = connection.ops.quote_name
    delivery = quote(Delivery._meta.db_table)
    subscriber = quote(Subscriber._meta.db_table)
    subscription = quote(Subscription._meta.db_table)
    # Suppression is not matched here: it holds HMAC-SHA256 hashes keyed by a secret that
    # lives in the environment, which SQL cannot compute (SQLite has no HMAC; PostgreSQL only
    # with pgcrypto and the key in the query). What holds instead: every service that puts an
    # address on the suppression list also stops its subscriber (``address_suppress``: status
    # bounced, complained or unsubscribed, every subscription unsubscribed; ``subscriber_erase``
    # deletes the row), and every path back to active (confirm, preferences, sign-up, import)
    # refuses a suppressed address. So the status conditions below exclude the suppressed.
    # "WHERE" before "ON CONFLICT" is required by SQLite's parser for INSERT … SELECT upserts.
    # Only quoted table names are formatted in; every value goes as a parameter.
    return (
        f"INSERT INTO {delivery} "  # noqa: S608
        "(issue_id, subscriber_id, status, attempts, message_id, smtp_response, created_at) "
        f"SELECT %s, s.id, %s, 0, '', '', %s FROM {subscriber} s "
        f"INNER JOIN {subscription} m ON m.subscriber_id = s.id "
        "WHERE m.newsletter_id = %s AND m.status = %s AND s.status = %s "
        "ON CONFLICT (issue_id, subscriber_id) DO NOTHING"
    )


def deliveries_snapshot(*, issue) -> int:
    """Create a pending ``Delivery`` for each subscriber the issue goes to; return how many.

    The audience: active subscribers with an active subscription to the issue's newsletter.
    One INSERT … SELECT, not a Python loop: the rows never pass through this process, so a
    200 000-strong audience costs one statement and no memory here, and the snapshot is one
    consistent reading of the list. ON CONFLICT DO NOTHING makes a second snapshot of the same
    issue add only whoever is missing. Runs in the caller's transaction.
    """
    params = [
        issue.pk,
        DeliveryStatus.PENDING,
        connection.ops.adapt_datetimefield_value(timezone.now()),
        issue.newsletter_id,
        SubscriptionStatus.ACTIVE,
        SubscriberStatus.ACTIVE,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql(), params)
        return cursor.rowcount


def issue_published_received(sender, *, issue, **kwargs) -> None:
    """``issues.signals.issue_published``: snapshot the audience in the publishing transaction."""
    deliveries_snapshot(issue=issue)
