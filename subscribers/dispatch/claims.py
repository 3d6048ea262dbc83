"""Claims: a batch task takes up to ``DISPATCH_BATCH_SIZE`` pending rows under a lease
(``SKIP LOCKED``, so tasks in other processes take other rows); rows of a dead worker's batch,
lease run out, go back to pending; a batch's rows are settled or released."""

import dataclasses
import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from ..models import (
    Delivery,
    DeliveryStatus,
    Dispatch,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)
from .ledger import in_flight_flag, pending_due, sending_key, sending_named

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Claimed:
    """A claimed delivery, with what sending it needs to know of its subscriber."""

    pk: int
    attempts: int
    in_flight_at_crash: bool
    subscriber_id: int | None
    email: str | None
    public_id: uuid.UUID | None
    subscriber_status: str | None
    subscription_status: str | None

    @property
    def still_wanted(self) -> bool:
        return (
            self.subscriber_id is not None
            and self.subscriber_status == SubscriberStatus.ACTIVE
            and self.subscription_status == SubscriptionStatus.ACTIVE
        )


def leases_recover(*, issue_id: int | None = None, notice_id: int | None = None, now) -> int:
    """Put the rows of dead workers' batches (lease run out) back to pending; return how many.

    A batch is sent in id order and each row is recorded as soon as the server answers, so of
    a dead batch the rows still claimed are the unsent ones, and only the lowest of them can
    have been in flight. That one is marked: sent again, it is recorded as ``uncertain``.
    """
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    expired = list(
        Delivery.objects.filter(status=DeliveryStatus.CLAIMED, claimed_until__lt=now, **key)
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", "claim")
    )
    if not expired:
        return 0
    Delivery.objects.filter(pk__in=in_flight_flag(expired)).update(
        status=DeliveryStatus.PENDING, claim=None, claimed_until=None
    )
    logger.warning(
        "%s: %d deliveries of %d dead batch(es) back to pending.",
        sending_named(key),
        len(expired),
        len({claim for _pk, claim in expired}),
    )
    return len(expired)


def deliveries_claim(
    *,
    issue_id: int | None = None,
    notice_id: int | None = None,
    newsletter_id: int,
    size: int | None = None,
) -> tuple[uuid.UUID, list[Claimed]]:
    """Claim up to ``size`` due pending deliveries of a sending under a fresh lease."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    now = timezone.now()
    claim = uuid.uuid4()
    with transaction.atomic():
        leases_recover(now=now, **key)
        pks = list(
            Delivery.objects.filter(pending_due(now), **key)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: size or settings.DISPATCH_BATCH_SIZE]
        )
        if not pks:
            return claim, []
        # The status condition again: on SQLite (no row locks) a second claimer finds the rows
        # taken here and updates none of them.
        Delivery.objects.filter(pk__in=pks, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CLAIMED,
            claim=claim,
            claimed_until=now + timedelta(seconds=settings.DISPATCH_LEASE_SECONDS),
        )
    # After the rows' locks are gone: a cancel locks the Dispatch row, then the rows.
    Dispatch.objects.filter(**key).update(last_active_at=now)
    # Unordered (the model's default order would join two more tables): a subscriber has one
    # subscription per newsletter.
    subscription = (
        Subscription.objects.filter(subscriber=OuterRef("subscriber"), newsletter_id=newsletter_id)
        .order_by()
        .values("status")[:1]
    )
    rows = (
        Delivery.objects.filter(claim=claim, status=DeliveryStatus.CLAIMED)
        .order_by("pk")
        .values_list(
            "pk",
            "attempts",
            "in_flight_at_crash",
            "subscriber_id",
            "subscriber__email",
            "subscriber__public_id",
            "subscriber__status",
        )
        .annotate(subscription_status=Subquery(subscription))
    )
    return claim, [Claimed(*row) for row in rows]


def row_settle(pk: int, claim: uuid.UUID, **fields) -> bool:
    """Record a row's outcome if the row is still this batch's; False if another worker took
    it (this batch's lease ran out while the message was going out). One UPDATE in
    autocommit: committed before the next message is handed over."""
    return bool(
        Delivery.objects.filter(pk=pk, claim=claim).update(claim=None, claimed_until=None, **fields)
    )


def batch_release(claim: uuid.UUID, *, in_doubt: int | None) -> None:
    """Give a batch's unsent rows back (the mail server is down); the one whose data may have
    reached the server before the connection died is marked like a crash's."""
    if in_doubt is not None:
        Delivery.objects.filter(pk=in_doubt).update(in_flight_at_crash=True)
    Delivery.objects.filter(claim=claim, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.PENDING, claim=None, claimed_until=None
    )
