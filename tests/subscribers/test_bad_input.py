"""Bad input anywhere on the public pages gets a clear 4xx page; nothing is written and no
exception reaches the reader."""

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from subscribers.emails import preferences_url, unsubscribe_url
from subscribers.models import Subscriber, Subscription
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db
TEN_MB = 10 * 1024 * 1024
BAD_TOKENS = [
    "☃:abc:def",
    "a" * 299,
    ":::",
    "WyJ4Il0:1abc:",
    "%00",
    "eyJhbGciOiJub25lIn0..",
    "' OR 1=1 --",
]


@pytest.fixture
def subscription(newsletter):
    return SubscriptionFactory(newsletter=newsletter)


@pytest.mark.parametrize("token", BAD_TOKENS)
@pytest.mark.parametrize(
    "name",
    [
        "subscribers:confirm",
        "subscribers:unsubscribe",
        "subscribers:preferences",
        "subscribers:preferences_data",
        "subscribers:preferences_erase",
    ],
)
def test_bad_tokens_get_a_clear_400_everywhere(subscription, name, token):
    client = Client(raise_request_exception=True)
    url = reverse(name, args=[token])
    for response in (
        client.get(url),
        client.post(
            url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
        ),
    ):
        assert response.status_code in {400, 403, 405}
        if response.status_code == 400:
            assert "This link does not work" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert Subscriber.objects.count() == 1


def test_ten_megabyte_posts_are_refused_everywhere(subscription):
    # With CSRF checks on, as in production: CsrfViewMiddleware would read the body first.
    client = Client(enforce_csrf_checks=True)
    subscriber, newsletter = subscription.subscriber, subscription.newsletter
    urls = [
        reverse("subscribers:signup"),
        unsubscribe_url(subscriber=subscriber, newsletter=newsletter),
        unsubscribe_url(subscriber=subscriber, newsletter=newsletter) + "preferences-link/",
        preferences_url(subscriber=subscriber),
        preferences_url(subscriber=subscriber) + "erase/",
        preferences_url(subscriber=subscriber) + "data/",
        "/confirm/whatever/",
        "/anymail/amazon_ses/tracking/",
        "/anymail/postmark/inbound/",
    ]
    body = "List-Unsubscribe=One-Click&unsubscribe_all=1&x=" + "y" * TEN_MB
    for url in urls:
        response = client.post(
            url.removeprefix("http://127.0.0.1:8000"),
            body,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 413, url
        assert "Nothing was saved" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "active"
    assert Subscriber.objects.count() == 1


def test_ten_megabyte_multipart_upload_to_signup_is_refused(newsletter):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.bin", b"\0" * TEN_MB)
    response = Client(enforce_csrf_checks=True).post(
        reverse("subscribers:signup"), {"email": "a@example.com", "file": upload}
    )
    assert response.status_code == 413
    assert not Subscriber.objects.exists()


@pytest.mark.parametrize(
    "path", ["/subscribe/", "/u/token/", "/confirm/token/", "/anymail/mailgun/tracking/"]
)
def test_oversized_bodies_are_refused_from_content_length_without_being_read(
    newsletter, monkeypatch, path
):
    # A 50 MB multipart upload announced: neither CSRF nor the view may parse (or spool) it.
    from django.http import HttpRequest

    def never(self):
        raise AssertionError("the body was read")

    monkeypatch.setattr(HttpRequest, "_load_post_and_files", never)
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path,
        b"--x\r\n",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )
    assert response.status_code == 413
    assert "Nothing was saved" in response.content.decode()
    # A Content-Length that is not a number is refused alike.
    response = client.post(path, b"", content_type="text/plain", CONTENT_LENGTH="lots")
    assert response.status_code == 413


def test_body_limit_leaves_other_pages_alone(client):
    # The admin's forms are limited by DATA_UPLOAD_MAX_MEMORY_SIZE, not by the public limit.
    response = client.post(
        "/admin/login/", {"username": "x", "password": "y" * 100_000}, follow=False
    )
    assert response.status_code == 200


def test_signup_body_in_a_broken_encoding_is_an_ordinary_form_error(client, newsletter):
    response = client.post(
        reverse("subscribers:signup"),
        b"email=anna%FF%FE%40example.com&name=%C3%28",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "Enter a valid email address." in response.content.decode()
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    "name",
    [
        "Anna\r\nBcc: everyone@example.com",
        "Anna\u0000",
        "A" * 5000,
    ],
)
def test_signup_name_attacks_are_refused_and_nothing_is_written(client, newsletter, name):
    response = client.post(
        reverse("subscribers:signup"),
        {"email": "anna@example.com", "name": name, "newsletter": newsletter.slug},
    )
    assert response.status_code == 400
    assert not Subscriber.objects.exists()
    assert not Subscription.objects.exists()


def test_unknown_newsletter_page_is_a_404(client, newsletter):
    assert client.get("/subscribe/no-such-newsletter/").status_code == 404


def test_methods_other_than_get_and_post_are_refused(client, subscription):
    url = unsubscribe_url(subscriber=subscription.subscriber, newsletter=subscription.newsletter)
    assert client.put(url.removeprefix("http://127.0.0.1:8000")).status_code == 405
    assert client.delete(reverse("subscribers:signup")).status_code == 405
