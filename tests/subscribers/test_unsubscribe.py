"""RFC 8058 one-click unsubscribe: a POST unsubscribes without login or cookies, a GET never."""

import pytest
from django.test import Client
from django.urls import reverse

from subscribers.emails import unsubscribe_url
from subscribers.models import Subscriber, SubscriberEvent
from subscribers.services import subscriber_erase, subscriber_unsubscribe
from subscribers.tokens import TokenInvalid, preferences_token_make
from tests.factories import NewsletterFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
ONE_CLICK = "List-Unsubscribe=One-Click"


@pytest.fixture
def subscription(newsletter):
    return SubscriptionFactory(newsletter=newsletter)


def path_of(subscription) -> str:
    url = unsubscribe_url(subscriber=subscription.subscriber, newsletter=subscription.newsletter)
    return url.removeprefix("http://127.0.0.1:8000")


def one_click(path, body=ONE_CLICK):
    # A mail provider: no cookies, no CSRF token, the body RFC 8058 prescribes.
    client = Client(enforce_csrf_checks=True)
    return client.post(path, body, content_type="application/x-www-form-urlencoded")


def test_unsubscribe_one_click_post_unsubscribes_at_once(subscription):
    response = one_click(path_of(subscription))
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"
    assert subscription.subscriber.__class__.objects.get().status == "unsubscribed"
    # Again: still 200, nothing more happens.
    assert one_click(path_of(subscription)).status_code == 200
    assert SubscriberEvent.objects.filter(action="unsubscribe").count() == 1


def test_unsubscribe_get_never_unsubscribes_and_offers_a_button_and_preferences(subscription):
    response = Client().get(path_of(subscription))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<button type="submit">Unsubscribe</button>' in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert "/preferences/" in page
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_unsubscribe_button_on_the_page_works_without_csrf_cookie(subscription):
    client = Client(enforce_csrf_checks=True)
    response = client.post(path_of(subscription), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"


def test_unsubscribe_only_the_newsletter_of_the_link(subscription):
    other = SubscriptionFactory(
        subscriber=subscription.subscriber,
        newsletter=NewsletterFactory(slug="daily", name="The Bell Daily"),
    )
    one_click(path_of(subscription))
    other.refresh_from_db()
    assert other.status == "active"
    assert Subscriber.objects.get().status == "active"


@pytest.mark.parametrize("mangle", ["flip-last", "drop-signature", "other-salt", "garbage"])
def test_unsubscribe_forged_or_altered_token_changes_nothing(subscription, mangle):
    token = path_of(subscription).rstrip("/").rsplit("/", 1)[1]
    bad = {
        "flip-last": token[:-1] + ("A" if token[-1] != "A" else "B"),
        "drop-signature": token.rsplit(":", 1)[0],
        "other-salt": preferences_token_make(subscriber=subscription.subscriber),
        "garbage": "x" * 500,
    }[mangle]
    path = reverse("subscribers:unsubscribe", args=[bad])
    for response in (one_click(path), Client().get(path)):
        assert response.status_code == 400
        assert "This link does not work" in response.content.decode()
        assert "Nothing was changed" in response.content.decode()
    with pytest.raises(TokenInvalid):
        subscriber_unsubscribe(token=bad)
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_unsubscribe_post_without_the_one_click_body_changes_nothing(subscription):
    response = one_click(path_of(subscription), body="List-Unsubscribe=Maybe")
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_unsubscribe_after_erasure_answers_alike(subscription):
    path = path_of(subscription)
    subscriber_erase(subscriber=subscription.subscriber)
    assert one_click(path).status_code == 200
    assert Client().get(path).status_code == 200


def test_unsubscribe_refuses_a_huge_body(subscription):
    response = one_click(path_of(subscription), body=ONE_CLICK + "&x=" + "y" * (10 * 1024 * 1024))
    assert response.status_code == 413
    subscription.refresh_from_db()
    assert subscription.status == "active"
