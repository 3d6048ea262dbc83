"""The subscribers admin: addresses normalised, states changed only through the services."""

import pytest
from django.urls import reverse

from subscribers.models import Subscriber, Suppression
from subscribers.services import address_is_suppressed
from tests.factories import SubscriberFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="admin", is_superuser=True))
    return client


def test_admin_add_normalises_and_starts_pending(admin_client):
    response = admin_client.post(
        reverse("admin:subscribers_subscriber_add"),
        {"email": " Anna@Пример.рф ", "name": "Anna", "tier": "free"},
    )
    assert response.status_code == 302, response.content
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "anna@xn--e1afmkfd.xn--p1ai"
    assert subscriber.status == "pending"


def test_admin_add_refuses_header_injection_in_name(admin_client):
    response = admin_client.post(
        reverse("admin:subscribers_subscriber_add"),
        {"email": "anna@example.com", "name": "Anna\r\nBcc: x@example.com", "tier": "free"},
    )
    assert response.status_code == 200
    assert "single line" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_admin_suppression_add_stores_only_a_hash(admin_client):
    response = admin_client.post(
        reverse("admin:subscribers_suppression_add"),
        {"email": "Anna@Example.com", "reason": "manual"},
    )
    assert response.status_code == 302, response.content
    assert address_is_suppressed(email="anna@example.com")
    assert "anna" not in str(list(Suppression.objects.values()))


def test_admin_erase_action_keeps_only_the_suppression(admin_client):
    subscriber = SubscriberFactory(email="anna@example.com")
    response = admin_client.post(
        reverse("admin:subscribers_subscriber_changelist"),
        {"action": "erase", "_selected_action": [subscriber.pk]},
    )
    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert address_is_suppressed(email="anna@example.com")


def test_admin_changelist_and_change_pages_render(admin_client):
    subscriber = SubscriberFactory()
    assert admin_client.get(reverse("admin:subscribers_subscriber_changelist")).status_code == 200
    change = reverse("admin:subscribers_subscriber_change", args=[subscriber.pk])
    assert admin_client.get(change).status_code == 200
    assert admin_client.get(reverse("admin:subscribers_suppression_changelist")).status_code == 200


def test_admin_suppression_search_finds_an_address_by_its_hash(admin_client):
    admin_client.post(
        reverse("admin:subscribers_suppression_add"),
        {"email": "anna@example.com", "reason": "manual"},
    )
    url = reverse("admin:subscribers_suppression_changelist")
    assert admin_client.get(url, {"q": "Anna@Example.com"}).context["cl"].result_count == 1
    assert admin_client.get(url, {"q": "boris@example.com"}).context["cl"].result_count == 0


def test_admin_erase_leaves_no_admin_history_naming_the_address(admin_client):
    from django.contrib.admin.models import CHANGE, LogEntry

    for email in ("anna@example.com", "boris@example.com"):
        admin_client.post(
            reverse("admin:subscribers_subscriber_add"),
            {"email": email, "name": "", "tier": "free"},
        )
    subscriber = Subscriber.objects.get(email="anna@example.com")
    other = Subscriber.objects.get(email="boris@example.com")
    LogEntry.objects.log_actions(
        user_id=LogEntry.objects.get(object_id=str(subscriber.pk)).user_id,
        queryset=[subscriber],
        action_flag=CHANGE,
        change_message="Was anna@example.com, wrote from anna@example.com",
    )
    assert LogEntry.objects.filter(object_id=str(subscriber.pk)).count() == 2
    assert "anna@example.com" in str(list(LogEntry.objects.values()))

    admin_client.post(
        reverse("admin:subscribers_subscriber_changelist"),
        {"action": "erase", "_selected_action": [subscriber.pk]},
    )
    assert "anna" not in str(list(LogEntry.objects.values())).lower()
    assert LogEntry.objects.filter(object_id=str(other.pk)).exists()


@pytest.mark.parametrize("how", ["delete page", "delete selected"])
def test_admin_delete_erases_keeping_only_the_suppression(admin_client, how):
    from django.contrib.admin.models import LogEntry

    admin_client.post(
        reverse("admin:subscribers_subscriber_add"),
        {"email": "anna@example.com", "name": "Anna", "tier": "free"},
    )
    subscriber = Subscriber.objects.get(email="anna@example.com")

    if how == "delete page":
        url = reverse("admin:subscribers_subscriber_delete", args=[subscriber.pk])
        response = admin_client.post(url, {"post": "yes"})
    else:
        response = admin_client.post(
            reverse("admin:subscribers_subscriber_changelist"),
            {"action": "delete_selected", "_selected_action": [subscriber.pk], "post": "yes"},
        )

    assert response.status_code == 302
    assert not Subscriber.objects.exists()
    assert address_is_suppressed(email="anna@example.com")
    assert "anna" not in str(list(LogEntry.objects.values())).lower()


def test_admin_pages_survive_a_date_out_of_range_stored_before_imports_checked_them(
    admin_client, newsletter
):
    from datetime import UTC, datetime

    from tests.factories import SubscriptionFactory

    far = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)  # past year 9999 in the newsroom's zone
    subscriber = SubscriptionFactory(
        newsletter=newsletter,
        subscriber__email="far@example.org",
        subscriber__created_at=far,
        subscriber__consent_at=far,
        confirmed_at=far,
    ).subscriber
    SubscriberFactory(email="near@example.org")
    changelist = reverse("admin:subscribers_subscriber_changelist")

    for url in (
        changelist,
        f"{changelist}?q=far",
        f"{changelist}?o=5",  # sorted by the date
        reverse("admin:subscribers_subscriber_change", args=[subscriber.pk]),
    ):
        response = admin_client.get(url)
        page = response.content.decode()
        assert response.status_code == 200, url
        assert "far@example.org" in page
        assert "9999-12-31 23:59:59 UTC (out of range)" in page, url
