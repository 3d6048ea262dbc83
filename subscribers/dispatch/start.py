"""A sending starts: the audience snapshot (one pending ``Delivery`` per subscriber), the
``Dispatch`` row, and the batch tasks queued once the snapshot has committed."""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from issues.models import CorrectionNotice

from ..models import (
    Delivery,
    DeliveryStatus,
    Dispatch,
    Subscriber,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)
from .ledger import sending_key


def _snapshot_sql(column: str, *, readers_of_issue: bool) -> str:
    """The INSERT … SELECT of a sending's pending rows, keyed by ``column`` ("issue_id" or
    "notice_id"): from the newsletter's list, or from the rows an issue went to."""
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
    # Only quoted table and fixed column names are formatted in; every value is a parameter.
    if readers_of_issue:
        source = f"{delivery} d INNER JOIN {subscriber} s ON s.id = d.subscriber_id"
        readers = "d.issue_id = %s AND d.status IN (%s, %s) AND "
    else:
        source, readers = f"{subscriber} s", ""
    return (
        f"INSERT INTO {delivery} "  # noqa: S608
        f"({column}, subscriber_id, status, attempts, in_flight_at_crash, message_id, "
        "smtp_response, created_at) "
        f"SELECT %s, s.id, %s, 0, %s, '', '', %s FROM {source} "
        f"INNER JOIN {subscription} m ON m.subscriber_id = s.id "
        f"WHERE {readers}m.newsletter_id = %s AND m.status = %s AND s.status = %s "
        f"ON CONFLICT ({column}, subscriber_id) DO NOTHING"
    )


def _snapshot(column: str, pk: int, *, newsletter_id: int, readers_of=None) -> int:
    """Run ``_snapshot_sql`` for one sending; return how many rows it made."""
    params = [
        pk,
        DeliveryStatus.PENDING,
        False,
        connection.ops.adapt_datetimefield_value(timezone.now()),
    ]
    if readers_of is not None:
        params += [readers_of.pk, DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN]
    params += [newsletter_id, SubscriptionStatus.ACTIVE, SubscriberStatus.ACTIVE]
    with connection.cursor() as cursor:
        cursor.execute(_snapshot_sql(column, readers_of_issue=readers_of is not None), params)
        return cursor.rowcount


def deliveries_snapshot(*, issue) -> int:
    """Create a pending ``Delivery`` for each subscriber the issue goes to; return how many.

    The audience: active subscribers with an active subscription to the issue's newsletter.
    One INSERT … SELECT, not a Python loop: the rows never pass through this process, so a
    200 000-strong audience costs one statement and no memory here, and the snapshot is one
    consistent reading of the list. ON CONFLICT DO NOTHING makes a second snapshot of the same
    issue add only whoever is missing. Runs in the caller's transaction.
    """
    return _snapshot("issue_id", issue.pk, newsletter_id=issue.newsletter_id)


def notice_deliveries_snapshot(*, notice: CorrectionNotice) -> int:
    """Create a pending ``Delivery`` of ``notice`` for each subscriber the story's issue went
    to (sent, or uncertain: may have arrived) and who is still subscribed to its newsletter;
    return how many. One INSERT … SELECT, in the caller's transaction."""
    issue = notice.story.issue
    return _snapshot("notice_id", notice.pk, newsletter_id=issue.newsletter_id, readers_of=issue)


def dispatch_start(*, issue=None, notice: CorrectionNotice | None = None) -> Dispatch:
    """Start the sending of a published ``issue`` or of a correction ``notice``, in the caller's
    transaction: its audience snapshot, its ``Dispatch`` row with the audience size, and its
    batch tasks queued once that transaction has committed (ids only)."""
    if issue is not None:
        deliveries_snapshot(issue=issue)
        audience = Delivery.objects.filter(issue=issue).count()
        dispatch, _created = Dispatch.objects.update_or_create(
            issue=issue, defaults={"audience": audience}
        )
        key = {"issue_id": issue.pk}
    else:
        audience = notice_deliveries_snapshot(notice=notice)
        dispatch = Dispatch.objects.create(notice=notice, audience=audience)
        key = {"notice_id": notice.pk}
    transaction.on_commit(lambda: dispatch_enqueue(**key))
    return dispatch


def issue_published_received(sender, *, issue, **kwargs) -> None:
    """``issues.signals.issue_published``: the issue's sending starts."""
    dispatch_start(issue=issue)


def correction_notice_received(sender, *, notice, **kwargs) -> None:
    """``issues.signals.correction_notice_created``: the notice's sending starts."""
    dispatch_start(notice=notice)


def dispatch_enqueue(
    *, issue_id: int | None = None, notice_id: int | None = None, tasks: int | None = None
) -> None:
    """Queue batch tasks for a sending: as many as worker processes may share it."""
    from ..tasks import send_issue, send_notice  # queued from here, run from there

    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    Dispatch.objects.filter(**key).update(last_active_at=timezone.now())
    for _task in range(tasks or settings.DISPATCH_TASKS_PER_ISSUE):
        if issue_id is not None:
            send_issue.delay(issue_id)
        else:
            send_notice.delay(notice_id)
