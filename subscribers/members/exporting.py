"""Exporting subscribers as CSV with Ghost's columns, safe to open in a spreadsheet."""

import csv
from datetime import UTC, datetime

from issues.models import Newsletter

from ..models import Subscriber, SubscriberStatus, Subscription, SubscriptionStatus, Tier
from .cells import cell_escape
from .reading import GHOST_COLUMNS


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z") if value else ""


def subscribers_export(*, out, newsletter: Newsletter | None = None) -> int:
    """Write subscribers as CSV with Ghost's columns to ``out``; returns the number of rows.

    ``subscribed_to_emails`` is true for active subscribers with an active subscription (to
    ``newsletter``, when given: then only subscribers with a subscription to it, of any status).
    Importing the file gives back the same subscribers, and exporting them again the same file.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GHOST_COLUMNS)
    subscribers = Subscriber.objects.order_by("pk")
    active = Subscription.objects.filter(status=SubscriptionStatus.ACTIVE)
    if newsletter is not None:
        subscribers = subscribers.filter(subscriptions__newsletter=newsletter)
        active = active.filter(newsletter=newsletter)
    subscribed = set(active.values_list("subscriber_id", flat=True))
    count = 0
    for subscriber in subscribers.iterator(chunk_size=2000):
        is_subscribed = subscriber.status == SubscriberStatus.ACTIVE and subscriber.pk in subscribed
        writer.writerow(
            [
                cell_escape(subscriber.email),
                cell_escape(subscriber.name),
                cell_escape(subscriber.note),
                "true" if is_subscribed else "false",
                "true" if subscriber.tier == Tier.COMPLIMENTARY else "false",
                cell_escape(subscriber.stripe_customer_id),
                _iso(subscriber.created_at),
                "",
                cell_escape(subscriber.labels),
                subscriber.tier if subscriber.tier != Tier.FREE else "",
            ]
        )
        count += 1
    return count
