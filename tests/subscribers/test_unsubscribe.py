"""RFC 8058 one-click unsubscribe: a POST unsubscribes without login or cookies, a GET never."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from subscribers.emails import unsubscribe_url
from subscribers.models import Subscriber, SubscriberEvent
from subscribers.services import (
    SubscriptionRefused,
    address_suppress,
    subscriber_confirm,
    subscriber_erase,
    subscriber_unsubscribe,
)
from subscribers.tokens import TokenInvalid, confirm_token_make, preferences_token_make
from tests.factories import NewsletterFactory, SubscriptionFactory
from tests.subscribers.conftest import links_in

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
    # Preferences only by email to the address: the page itself opens no preferences.
    assert "/preferences/" not in page
    assert path_of(subscription) + "preferences-link/" in page
    assert "Email me a link to my preferences" in page
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


def test_unsubscribe_one_click_answer_carries_no_preferences_link(subscription):
    # The one-click POST comes from the mail provider's servers: its answer stays there.
    response = one_click(path_of(subscription))
    assert response.status_code == 200
    page = response.content.decode()
    assert "/preferences/" not in page
    assert "You are unsubscribed" in page


def ask_for_preferences_link(path):
    client = Client(enforce_csrf_checks=True)
    client.get(path)  # the page sets the CSRF cookie its form needs
    token = client.cookies["csrftoken"].value
    return client.post(path + "preferences-link/", {"csrfmiddlewaretoken": token})


def test_unsubscribe_page_emails_a_preferences_link_to_the_address_only(subscription):
    path = path_of(subscription)
    response = ask_for_preferences_link(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert "/preferences/" not in page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [subscription.subscriber.email]
    (link,) = set(links_in(message.body, "/preferences/"))
    assert Client().get(link.removeprefix("http://127.0.0.1:8000")).status_code == 200
    # Asked again at once: the same answer, no second email.
    again = ask_for_preferences_link(path)
    assert (again.status_code, again.content.decode()) == (200, page)
    assert len(mail.outbox) == 1
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_unsubscribe_preferences_link_answer_is_the_same_for_suppressed_and_erased(subscription):
    path = path_of(subscription)
    other = SubscriptionFactory(newsletter=subscription.newsletter)
    erased_path = path_of(other)
    expected = ask_for_preferences_link(path_of(SubscriptionFactory())).content.decode()
    mail.outbox.clear()
    address_suppress(email=subscription.subscriber.email, reason="manual")
    subscriber_erase(subscriber=other.subscriber)
    for each in (path, erased_path):
        response = ask_for_preferences_link(each)
        assert (response.status_code, response.content.decode()) == (200, expected)
    assert mail.outbox == []


def test_unsubscribe_preferences_link_needs_a_genuine_token_and_csrf(subscription):
    token = path_of(subscription).rstrip("/").rsplit("/", 1)[1]
    forged = reverse("subscribers:preferences_link", args=[token[:-2] + "xx"])
    assert Client().post(forged).status_code == 400
    genuine = reverse("subscribers:preferences_link", args=[token])
    assert Client(enforce_csrf_checks=True).post(genuine).status_code == 403
    assert Client().get(genuine).status_code == 405
    assert mail.outbox == []


def test_confirmation_link_from_before_an_unsubscribe_no_longer_works(subscription):
    subscriber, newsletter = subscription.subscriber, subscription.newsletter
    old_token = confirm_token_make(subscriber=subscriber, newsletter=newsletter)
    subscription.status = "unsubscribed"
    subscription.unsubscribed_at = timezone.now() + timedelta(seconds=2)
    subscription.save()
    with pytest.raises(SubscriptionRefused):
        subscriber_confirm(token=old_token)
    response = Client().post(reverse("subscribers:confirm", args=[old_token]))
    assert response.status_code == 400
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"
    # A link signed after the unsubscribe (the person signed up again) works.
    subscription.unsubscribed_at = timezone.now() - timedelta(seconds=5)
    subscription.save()
    new_token = confirm_token_make(subscriber=subscriber, newsletter=newsletter)
    assert subscriber_confirm(token=new_token).status == "active"
