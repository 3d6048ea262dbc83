"""The database holds the rules it can: one row per address, consent before activity."""

import pytest
from django.db import IntegrityError, transaction

from subscribers.models import Subscriber, Subscription, Suppression
from subscribers.services import address_is_suppressed, address_suppress, subscriber_erase
from tests.factories import NewsletterFactory, SubscriberFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_subscriber_address_unique():
    SubscriberFactory(email="anna@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriberFactory(email="anna@example.com")


def test_subscriber_active_requires_consent_record():
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriberFactory(status="active", consent_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriberFactory(status="active", consent_method="")


def test_subscriber_status_and_tier_must_be_known():
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriberFactory(status="sleeping")
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriberFactory(tier="platinum")


def test_subscriber_address_stored_lower_case_only():
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriberFactory(email="Anna@example.com")


def test_subscription_one_per_newsletter():
    subscription = SubscriptionFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Subscription.objects.create(
            subscriber=subscription.subscriber, newsletter=subscription.newsletter
        )


def test_subscription_unsubscribed_needs_a_time():
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(status="unsubscribed", unsubscribed_at=None)


def test_subscribed_to_lists_only_active_people_with_active_subscriptions():
    newsletter = NewsletterFactory()
    reader = SubscriptionFactory(newsletter=newsletter).subscriber
    SubscriptionFactory(newsletter=newsletter, subscriber__status="pending")
    SubscriptionFactory(newsletter=newsletter, status="pending")
    SubscriptionFactory(newsletter=NewsletterFactory(slug="other", name="Other"))
    assert list(Subscriber.objects.subscribed_to(newsletter)) == [reader]


def test_address_suppress_stops_the_subscriber_and_survives_erasure():
    subscription = SubscriptionFactory(subscriber__email="anna@example.com")
    address_suppress(email="ANNA@example.com", reason="complaint")
    subscriber = Subscriber.objects.get()
    assert subscriber.status == "complained"
    assert subscriber.subscriptions.get().status == "unsubscribed"

    subscriber_erase(subscriber=subscription.subscriber)

    assert not Subscriber.objects.exists()
    assert address_is_suppressed(email="anna@example.com")
    # Only a keyed hash is kept: nothing in the table reads like the address.
    assert "anna" not in str(list(Suppression.objects.values()))
