"""Writing checked member rows: new addresses become subscribers, stored ones may be subscribed.

Runs inside the import's transaction. Who may be subscribed again is decided by
``subscribers.consent``; suppressed (and erased) addresses are never touched.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from issues.models import Newsletter

from ..addresses import suppression_hash_normalised
from ..consent import STOPPED, UNKNOWN_LEAVING, UnknownLeaving, consent_refusal
from ..models import (
    ConsentMethod,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
)
from .rows import ImportReport, MemberRow, Progress

# Rows per INSERT: large enough to be fast, small enough for SQLite's variable limit.
WRITE_BATCH = 1000
# Addresses per lookup of existing rows (an IN list).
LOOKUP_BATCH = 2000


def _batched(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _consent_source(row: MemberRow, source: str) -> str:
    undated = "" if row.created_at else " (no consent date in the file)"
    return f"import: {source}{undated}"[:200]


def _events_record(subscriber_ids: list[int], newsletter, source: str, now) -> None:
    SubscriberEvent.objects.bulk_create(
        [
            SubscriberEvent(
                subscriber_id=subscriber_id,
                action="import",
                newsletter=newsletter,
                detail=source[:300],
                created_at=now,
            )
            for subscriber_id in subscriber_ids
        ]
    )


@dataclass
class _Known:
    """An address already stored that the import may subscribe."""

    row: MemberRow
    subscriber_id: int
    subscription_id: int | None


@dataclass
class _Stored:
    subscriber_id: int
    status: str
    subscription: tuple | None = None
    left_any: datetime | None = None


def _stored(rows: list[MemberRow], newsletter: Newsletter) -> dict[str, _Stored]:
    stored: dict[str, _Stored] = {}
    for batch in _batched([row.email for row in rows], LOOKUP_BATCH):
        # Locked until the import commits, in one order: an unsubscribe, a bounce or an
        # erasure that comes in meanwhile waits, and is not overwritten by what was read here.
        for email, pk, status in (
            Subscriber.objects.filter(email__in=batch)
            .select_for_update()
            .order_by("pk")
            .values_list("email", "pk", "status")
        ):
            stored[email] = _Stored(subscriber_id=pk, status=status)
    by_id = {item.subscriber_id: item for item in stored.values()}
    for batch in _batched(list(by_id), LOOKUP_BATCH):
        for subscriber_id, newsletter_id, pk, status, unsubscribed_at in (
            Subscription.objects.filter(subscriber_id__in=batch)
            .order_by()
            .values_list("subscriber_id", "newsletter_id", "pk", "status", "unsubscribed_at")
        ):
            item = by_id[subscriber_id]
            if newsletter_id == newsletter.pk:
                item.subscription = (pk, status, unsubscribed_at)
            if unsubscribed_at is not None:
                item.left_any = max(unsubscribed_at, item.left_any or unsubscribed_at)
    return stored


def _suppressed(rows: list[MemberRow]) -> tuple[dict[str, str], set[str]]:
    hashes = {row.email: suppression_hash_normalised(row.email) for row in rows}
    suppressed: set[str] = set()
    for batch in _batched(list(hashes.values()), LOOKUP_BATCH):
        suppressed.update(
            Suppression.objects.filter(address_hash__in=batch).values_list(
                "address_hash", flat=True
            )
        )
    return hashes, suppressed


def _left_at(item: _Stored) -> datetime | UnknownLeaving | None:
    """When the subscriber last left this newsletter, or all of them."""
    _pk, _status, left_newsletter = item.subscription or (None, None, None)
    if item.status != SubscriberStatus.UNSUBSCRIBED:
        return left_newsletter
    # Leaving them all outlives a consent recorded before the last leaving; someone marked
    # unsubscribed with no subscription to date it left at a time nobody knows.
    return item.left_any or UNKNOWN_LEAVING


def members_split(
    rows: list[MemberRow], newsletter: Newsletter, report: ImportReport
) -> tuple[list[MemberRow], list[_Known]]:
    """Split rows into new addresses and stored subscribers the import may subscribe.

    Skips suppressed addresses, stored subscribers already subscribed to the newsletter, those
    the row gives no consent for, and those ``consent_refusal`` keeps out.
    """
    stored = _stored(rows, newsletter)
    hashes, suppressed = _suppressed(rows)
    new: list[MemberRow] = []
    known: list[_Known] = []
    for row in rows:
        if hashes[row.email] in suppressed:
            report.skip(row.number, "suppressed", "the address is suppressed")
            continue
        item = stored.get(row.email)
        if item is None:
            new.append(row)
            continue
        subscription_id, subscription_status, _ = item.subscription or (None, None, None)
        refusal = consent_refusal(
            consent_at=row.created_at, status=item.status, left_at=_left_at(item)
        )
        if (
            item.status == SubscriberStatus.ACTIVE
            and subscription_status == SubscriptionStatus.ACTIVE
        ):
            report.skip(row.number, "existing", "already subscribed")
        elif not row.consented:
            report.skip(row.number, "existing", "already a subscriber; no consent in the file")
        elif refusal:
            reason = "stopped" if item.status in STOPPED else "unsubscribed"
            report.skip(row.number, reason, refusal)
        else:
            known.append(
                _Known(row=row, subscriber_id=item.subscriber_id, subscription_id=subscription_id)
            )
    return new, known


def members_write_known(known: list[_Known], newsletter, source, report) -> None:
    """Subscribe stored subscribers whose row records consent, and activate them if need be."""
    now = timezone.now()
    for batch in _batched(known, WRITE_BATCH):
        by_id = {item.subscriber_id: item for item in batch}
        to_activate = []
        for subscriber in Subscriber.objects.filter(pk__in=list(by_id)):
            item = by_id[subscriber.pk]
            if subscriber.status != SubscriberStatus.ACTIVE:
                subscriber.status = SubscriberStatus.ACTIVE
                subscriber.consent_at = item.row.created_at or now
                subscriber.consent_method = ConsentMethod.IMPORT
                subscriber.consent_source = _consent_source(item.row, source)
                subscriber.updated_at = now
                to_activate.append(subscriber)
        Subscriber.objects.bulk_update(
            to_activate,
            ["status", "consent_at", "consent_method", "consent_source", "updated_at"],
        )
        Subscription.objects.filter(
            pk__in=[item.subscription_id for item in batch if item.subscription_id is not None]
        ).update(status=SubscriptionStatus.ACTIVE, confirmed_at=now)
        Subscription.objects.bulk_create(
            [
                Subscription(
                    subscriber_id=item.subscriber_id,
                    newsletter=newsletter,
                    status=SubscriptionStatus.ACTIVE,
                    confirmed_at=now,
                )
                for item in batch
                if item.subscription_id is None
            ]
        )
        _events_record([item.subscriber_id for item in batch], newsletter, source, now)
        report.subscribed += len(batch)


def members_write_new(
    rows: list[MemberRow], newsletter, source, report, progress: Progress | None
) -> None:
    """Create a subscriber for each new address: active with consent, pending without."""
    now = timezone.now()
    for done, batch in enumerate(_batched(rows, WRITE_BATCH)):
        subscribers = Subscriber.objects.bulk_create(
            [
                Subscriber(
                    email=row.email,
                    name=row.name,
                    note=row.note,
                    labels=row.labels,
                    tier=row.tier,
                    stripe_customer_id=row.stripe_customer_id,
                    created_at=row.created_at or now,
                    status=SubscriberStatus.ACTIVE if row.consented else SubscriberStatus.PENDING,
                    consent_at=(row.created_at or now) if row.consented else None,
                    consent_method=ConsentMethod.IMPORT if row.consented else "",
                    consent_source=_consent_source(row, source) if row.consented else "",
                )
                for row in batch
            ]
        )
        if any(subscriber.pk is None for subscriber in subscribers):
            # Databases that cannot return ids from a bulk insert: read them back.
            ids = dict(
                Subscriber.objects.filter(email__in=[s.email for s in subscribers]).values_list(
                    "email", "pk"
                )
            )
            for subscriber in subscribers:
                subscriber.pk = ids[subscriber.email]
        # Those without consent get a pending subscription: they belong to the newsletter's
        # list (and to its export), and get no mail until they confirm.
        Subscription.objects.bulk_create(
            [
                Subscription(
                    subscriber=subscriber,
                    newsletter=newsletter,
                    status=SubscriptionStatus.ACTIVE
                    if subscriber.status == SubscriberStatus.ACTIVE
                    else SubscriptionStatus.PENDING,
                    confirmed_at=subscriber.consent_at,
                )
                for subscriber in subscribers
            ]
        )
        _events_record([subscriber.pk for subscriber in subscribers], newsletter, source, now)
        report.imported += len(subscribers)
        report.active += sum(s.status == SubscriberStatus.ACTIVE for s in subscribers)
        if progress:
            progress("writing", min((done + 1) * WRITE_BATCH, len(rows)), len(rows))
