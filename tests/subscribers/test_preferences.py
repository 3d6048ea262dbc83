"""The preferences page from a signed link: choose newsletters, leave all, download, erase."""

import json
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from subscribers.emails import preferences_url
from subscribers.models import Subscriber, Subscription, Suppression
from subscribers.services import address_is_suppressed, subscriber_subscribe
from tests.factories import NewsletterFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def daily(db):
    return NewsletterFactory(slug="the-bell-daily", name="The Bell Daily")


@pytest.fixture
def subscription(newsletter):
    return SubscriptionFactory(newsletter=newsletter, subscriber__email="anna@example.com")


def url_of(subscription, suffix=""):
    base = preferences_url(subscriber=subscription.subscriber).removeprefix("http://127.0.0.1:8000")
    return base + suffix


def test_preferences_page_shows_choices_without_spelling_out_the_address(
    client, subscription, daily
):
    response = client.get(url_of(subscription))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The Bell Daily" in page and "The Bell Weekly" in page
    assert re.search(rf'value="{subscription.newsletter.pk}"[^>]*checked', page)
    assert not re.search(rf'value="{daily.pk}"[^>]*checked', page)
    assert "anna@example.com" not in page
    assert "a•••@example.com" in page


def test_preferences_choose_newsletters(client, subscription, daily):
    response = client.post(url_of(subscription), {"newsletters": [daily.pk], "save": "1"})
    assert response.status_code == 200
    assert "Your choices are saved." in response.content.decode()
    statuses = dict(Subscription.objects.values_list("newsletter__slug", "status"))
    assert statuses == {"the-bell-weekly": "unsubscribed", "the-bell-daily": "active"}
    assert Subscriber.objects.get().status == "active"


def test_preferences_unsubscribe_from_all(client, subscription, daily):
    SubscriptionFactory(subscriber=subscription.subscriber, newsletter=daily)
    response = client.post(url_of(subscription), {"unsubscribe_all": "1"})
    assert "unsubscribed from all" in response.content.decode()
    assert set(Subscription.objects.values_list("status", flat=True)) == {"unsubscribed"}
    assert Subscriber.objects.get().status == "unsubscribed"
    # Choosing again from the same link subscribes again: the link proves the address.
    client.post(url_of(subscription), {"newsletters": [daily.pk], "save": "1"})
    assert Subscriber.objects.get().status == "active"


def test_preferences_bounced_address_cannot_subscribe_again(client, subscription, daily):
    Subscriber.objects.update(status="bounced")
    response = client.post(url_of(subscription), {"newsletters": [daily.pk], "save": "1"})
    assert response.status_code == 400
    assert not Subscription.objects.filter(newsletter=daily).exists()


def test_preferences_download_my_data_as_json(client, subscription):
    response = client.post(url_of(subscription, "data/"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["email"] == "anna@example.com"
    assert data["subscriptions"][0]["newsletter"] == "The Bell Weekly"
    assert data["consent"]["method"] == "double_opt_in"


def test_preferences_download_is_post_only(client, subscription):
    assert client.get(url_of(subscription, "data/")).status_code == 405


def test_preferences_erase_keeps_only_the_suppression(
    client, subscription, newsletter, django_capture_on_commit_callbacks
):
    confirm_page = client.get(url_of(subscription, "erase/"))
    assert confirm_page.status_code == 200
    assert Subscriber.objects.exists()

    response = client.post(url_of(subscription, "erase/"))
    assert response.status_code == 200
    assert "Your data is erased" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert not Subscription.objects.exists()
    assert Suppression.objects.get().reason == "erasure"
    assert address_is_suppressed(email="anna@example.com")
    # The same link now finds nothing, and a new sign-up of the address gets no mail.
    assert client.get(url_of(subscription)).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email="anna@example.com", newsletter=newsletter)
    assert mail.outbox == []


@pytest.mark.parametrize("suffix", ["", "data/", "erase/"])
def test_preferences_forged_token_changes_nothing(client, subscription, suffix):
    token = url_of(subscription).rstrip("/").rsplit("/", 1)[1]
    forged = token[:-3] + "abc"
    url = reverse("subscribers:preferences", args=[forged]) + suffix
    response = client.post(url, {"unsubscribe_all": "1"})
    assert response.status_code == 400
    assert "Nothing was changed" in response.content.decode()
    assert Subscription.objects.get().status == "active"


def test_preferences_forms_are_csrf_protected(subscription):
    client = Client(enforce_csrf_checks=True)
    assert client.post(url_of(subscription), {"unsubscribe_all": "1"}).status_code == 403
    assert client.post(url_of(subscription, "erase/")).status_code == 403
    assert Subscription.objects.get().status == "active"


def test_preferences_refuses_unknown_newsletter_ids(client, subscription):
    response = client.post(url_of(subscription), {"newsletters": ["999999", "x"], "save": "1"})
    assert response.status_code == 400
    assert Subscription.objects.get().status == "active"
