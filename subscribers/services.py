"""The subscribers app's services: the only code that changes a subscriber's state.

Each is keyword-only, does its work in one transaction, writes a ``SubscriberEvent`` and hands
mail to Celery once that transaction has committed. Forms, views, the admin, management
commands and webhooks call these.
"""

from django.db import transaction
from django.utils import timezone

from .addresses import email_normalise, suppression_hash
from .models import (
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)


def address_is_suppressed(*, email: str) -> bool:
    """Whether the address (in any spelling that normalises alike) is on the suppression list."""
    return Suppression.objects.filter(address_hash=suppression_hash(email)).exists()


def event_record(*, subscriber: Subscriber, action: str, newsletter=None, detail: str = ""):
    # Details are written by code, never copied from input: no addresses, tokens or names.
    return SubscriberEvent.objects.create(
        subscriber=subscriber, action=action, newsletter=newsletter, detail=detail[:300]
    )


@transaction.atomic
def address_suppress(*, email: str, reason: str) -> Suppression:
    """Put an address on the suppression list and stop mail to its subscriber, if there is one.

    Idempotent: a second call keeps the first reason and time.
    """
    address = email_normalise(email)
    suppression, _ = Suppression.objects.get_or_create(
        address_hash=suppression_hash(address), defaults={"reason": reason}
    )
    subscriber = Subscriber.objects.select_for_update().filter(email=address).first()
    if subscriber is not None:
        _subscriber_stop(subscriber, reason=reason)
    return suppression


def _subscriber_stop(subscriber: Subscriber, *, reason: str) -> None:
    status = {
        SuppressionReason.COMPLAINT: SubscriberStatus.COMPLAINED,
        SuppressionReason.HARD_BOUNCE: SubscriberStatus.BOUNCED,
        SuppressionReason.SOFT_BOUNCES: SubscriberStatus.BOUNCED,
    }.get(reason, SubscriberStatus.UNSUBSCRIBED)
    now = timezone.now()
    subscriber.subscriptions.exclude(status=SubscriptionStatus.UNSUBSCRIBED).update(
        status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=now
    )
    if subscriber.status != status:
        subscriber.status = status
        subscriber.save(update_fields=["status", "updated_at"])
    event_record(subscriber=subscriber, action="suppress", detail=reason)


@transaction.atomic
def subscriber_unsubscribe_all(*, subscriber: Subscriber, how: str) -> bool:
    """Unsubscribe from every newsletter. Returns False when there was nothing to do."""
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    changed = subscriber.subscriptions.exclude(status=SubscriptionStatus.UNSUBSCRIBED).update(
        status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    if subscriber.status in {SubscriberStatus.ACTIVE, SubscriberStatus.PENDING}:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.save(update_fields=["status", "updated_at"])
        changed += 1
    if changed:
        event_record(subscriber=subscriber, action="unsubscribe_all", detail=how)
    return bool(changed)


def subscription_get(*, subscriber: Subscriber, newsletter) -> Subscription | None:
    return Subscription.objects.filter(subscriber=subscriber, newsletter=newsletter).first()


@transaction.atomic
def subscriber_erase(*, subscriber: Subscriber) -> Suppression:
    """Delete everything about a subscriber but a suppression entry (a keyed hash).

    The entry keeps a later import or a stranger's sign-up from mailing the address again.
    """
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    suppression, _ = Suppression.objects.get_or_create(
        address_hash=suppression_hash(subscriber.email),
        defaults={"reason": SuppressionReason.ERASURE},
    )
    subscriber.delete()
    return suppression
