"""Sign-up with double opt-in: the same answer for every address, mail only where it may go."""

import logging
import subprocess
import sys
import time

import pytest
import redis
from django.core import mail, signing
from django.test import Client, override_settings
from django.urls import reverse

from subscribers.models import Subscriber, SubscriberEvent, Subscription
from subscribers.services import address_suppress, subscriber_confirm, subscriber_subscribe
from subscribers.tokens import CONFIRM_SALT, TokenExpired, TokenInvalid
from tests.factories import NewsletterFactory, SubscriptionFactory
from tests.processes import ROOT
from tests.subscribers.conftest import links_in

pytestmark = pytest.mark.django_db


def sign_up(client, newsletter, email="anna@example.com", ip="203.0.113.7", **extra):
    data = {"email": email, "name": "Anna", "newsletter": newsletter.slug, **extra}
    url = reverse("subscribers:signup_newsletter", args=[newsletter.slug])
    return client.post(url, data, REMOTE_ADDR=ip)


def confirm_link(message) -> str:
    (link,) = set(links_in(message.body, "/confirm/"))
    return link.removeprefix("http://127.0.0.1:8000")


def test_signup_page_shows_the_form_with_a_hidden_honeypot(client, newsletter):
    response = client.get(reverse("subscribers:signup_newsletter", args=[newsletter.slug]))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="email"' in page and 'type="email"' in page
    assert 'class="hp" aria-hidden="true"' in page and 'tabindex="-1"' in page
    assert "<script" not in page and "https://" not in page


def test_signup_pending_then_confirmed_with_consent_record(
    client, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, newsletter, email="Anna@Example.com")
    assert response.status_code == 302
    assert response["Location"] == reverse("subscribers:check_inbox")
    subscriber = Subscriber.objects.get()
    assert (subscriber.email, subscriber.status) == ("anna@example.com", "pending")
    (message,) = mail.outbox
    assert message.to == ["anna@example.com"]
    assert message.from_email == "The Bell <weekly@thebell.example>"
    assert "Confirm your subscription to The Bell Weekly" in message.subject
    link = confirm_link(message)
    assert link in message.alternatives[0][0]

    # Opening the link (or a mail scanner opening it) only shows a button.
    page = client.get(link)
    assert page.status_code == 200
    assert "Confirm my subscription" in page.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == "pending"

    done = client.post(link)
    assert done.status_code == 200
    assert "You are subscribed" in done.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == "active"
    assert subscriber.consent_method == "double_opt_in"
    assert subscriber.consent_source == f"sign-up: {newsletter.slug}"
    assert subscriber.consent_at is not None
    assert Subscription.objects.get().status == "active"
    assert list(Subscriber.objects.subscribed_to(newsletter)) == [subscriber]
    # A second click changes nothing and still reads well.
    assert client.post(link).status_code == 200
    assert SubscriberEvent.objects.filter(action="confirm").count() == 1


def test_signup_does_the_same_work_for_new_active_and_suppressed_addresses(
    client, newsletter, django_capture_on_commit_callbacks, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from subscribers import tasks

    SubscriptionFactory(subscriber__email="known@example.com", newsletter=newsletter)
    address_suppress(email="gone@example.com", reason="complaint")
    queued = []
    for task in (tasks.process_signup, tasks.send_confirmation, tasks.send_preferences_link):
        monkeypatch.setattr(
            task, "delay", lambda *args, name=task.name, **kwargs: queued.append((name, args))
        )
    work = []
    for email in ["new@example.com", "known@example.com", "gone@example.com"]:
        queued.clear()
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = sign_up(client, newsletter, email=email)
        # Read now: the next request resets the connection's query log.
        captured = list(queries.captured_queries)
        statements = [query["sql"].split()[0].upper() for query in captured]
        tables = [query["sql"].split('"')[1] if '"' in query["sql"] else "" for query in captured]
        page = client.get(response["Location"])
        # The task carries only the attempt's id: nothing tells the addresses apart.
        ((name, (attempt_id,)),) = queued
        assert name == tasks.process_signup.name and isinstance(attempt_id, int)
        work.append(
            (
                len(captured),
                statements,
                tables,
                response.status_code,
                response["Location"],
                page.content,
            )
        )
    assert work[0] == work[1] == work[2]
    assert work[0][2].count("subscribers_signupattempt") == 1
    assert "subscribers_subscriber" not in work[0][2]
    assert "subscribers_suppression" not in work[0][2]


def test_signup_worker_mails_only_a_new_address(newsletter, django_capture_on_commit_callbacks):
    from subscribers.models import SignupAttempt

    SubscriptionFactory(subscriber__email="known@example.com", newsletter=newsletter)
    address_suppress(email="gone@example.com", reason="complaint")
    with django_capture_on_commit_callbacks(execute=True):
        for email in ["new@example.com", "known@example.com", "gone@example.com"]:
            subscriber_subscribe(email=email, newsletter=newsletter, name="Stranger")
    # Only the new address gets mail: the known one is subscribed, the other suppressed.
    assert [message.to for message in mail.outbox] == [["new@example.com"]]
    assert not Subscriber.objects.filter(email="gone@example.com").exists()
    assert Subscriber.objects.get(email="known@example.com").name != "Stranger"
    # The worker deletes every attempt once decided: no address waits in it.
    assert not SignupAttempt.objects.exists()


def test_signup_honeypot_pretends_success_and_does_nothing(
    client, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, newsletter, website="http://spam.example")
    assert response.status_code == 302
    assert response["Location"] == reverse("subscribers:check_inbox")
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


@override_settings(SUBSCRIBERS_SIGNUP_LIMIT=3, SUBSCRIBERS_SIGNUP_WINDOW=3600)
def test_signup_rate_limited_per_ip(client, newsletter):
    for number in range(3):
        assert sign_up(client, newsletter, email=f"r{number}@example.com").status_code == 302
    refused = sign_up(client, newsletter, email="r4@example.com")
    assert refused.status_code == 429
    assert "try again later" in refused.content.decode()
    assert not Subscriber.objects.filter(email="r4@example.com").exists()
    # Another client is not held back by the first.
    assert sign_up(client, newsletter, email="r5@example.com", ip="198.51.100.9").status_code == 302


@override_settings(SUBSCRIBERS_PROXY_COUNT=1, SUBSCRIBERS_SIGNUP_LIMIT=1)
def test_signup_rate_limit_behind_a_proxy_reads_the_address_it_appended(client, newsletter):
    url = reverse("subscribers:signup_newsletter", args=[newsletter.slug])
    data = {"email": "a@example.com", "newsletter": newsletter.slug}
    assert client.post(url, data, HTTP_X_FORWARDED_FOR="1.1.1.1, 192.0.2.1").status_code == 302
    # The client may write anything before the proxy's entry; it does not get a new bucket.
    again = client.post(url, data, HTTP_X_FORWARDED_FOR="9.9.9.9, 192.0.2.1")
    assert again.status_code == 429
    assert client.post(url, data, HTTP_X_FORWARDED_FOR="192.0.2.2").status_code == 302


def test_signup_sends_at_most_one_confirmation_per_address_in_a_while(
    newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(3):
            subscriber_subscribe(email="anna@example.com", newsletter=newsletter)
    assert len(mail.outbox) == 1


def test_signup_task_gets_ids_only_and_logs_no_address(
    newsletter, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from subscribers import tasks

    calls = []
    monkeypatch.setattr(tasks.send_confirmation, "delay", lambda *a, **k: calls.append((a, k)))
    caplog.set_level(logging.DEBUG)
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email="secret.reader@example.com", newsletter=newsletter)
    assert calls == [((Subscription.objects.get().pk,), {})]
    tasks.send_confirmation(*calls[0][0])
    assert "secret.reader" not in caplog.text
    assert "/confirm/" not in caplog.text


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"email": "not-an-address"}, "Enter a valid email address."),
        ({"email": "a@example.com\r\nBcc: b@example.com"}, "Enter a valid email address."),
        ({"email": "a@example.com", "name": "Anna\nBcc: b@example.com"}, "single line"),
        ({"email": ""}, "This field is required."),
        ({"email": "a@example.com", "newsletter": "no-such"}, "Choose one of the newsletters"),
    ],
)
def test_signup_bad_input_gets_a_clear_error_and_writes_nothing(client, newsletter, data, error):
    data = {"newsletter": newsletter.slug, **data}
    response = client.post(reverse("subscribers:signup"), data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Subscriber.objects.exists()


def test_signup_refuses_a_huge_body_before_reading_it(newsletter):
    body = "email=a%40example.com&name=" + "x" * (10 * 1024 * 1024)
    response = Client(enforce_csrf_checks=True).post(
        reverse("subscribers:signup"), body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert "Nothing was saved" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_signup_page_lists_newsletters_when_there_are_several(client):
    NewsletterFactory()
    NewsletterFactory(slug="the-bell-daily", name="The Bell Daily")
    page = client.get(reverse("subscribers:signup")).content.decode()
    assert 'type="radio"' in page and "The Bell Daily" in page
    assert "<h1>Subscribe</h1>" in page


def test_signup_page_names_the_only_newsletter(client, newsletter):
    for url in (
        reverse("subscribers:signup"),
        reverse("subscribers:signup_newsletter", args=[newsletter.slug]),
    ):
        page = client.get(url).content.decode()
        assert f"<title>Subscribe to {newsletter.name}" in page
        assert f"<h1>Subscribe to {newsletter.name}</h1>" in page


def test_confirm_refuses_altered_expired_and_foreign_tokens(
    client, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email="anna@example.com", newsletter=newsletter)
    link = confirm_link(mail.outbox[0])
    token = link.rstrip("/").rsplit("/", 1)[1]
    altered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in [altered, "nonsense", token.split(":")[0]]:
        response = client.post(reverse("subscribers:confirm", args=[bad]))
        assert response.status_code == 400
        assert "Nothing was changed" in response.content.decode()
        with pytest.raises(TokenInvalid):
            subscriber_confirm(token=bad)
    assert Subscriber.objects.get().status == "pending"

    with override_settings(SUBSCRIBERS_CONFIRM_MAX_AGE=-1):
        response = client.get(link)
        assert response.status_code == 400
        assert "expired" in response.content.decode()
        with pytest.raises(TokenExpired):
            subscriber_confirm(token=token)
    # A token signed for another purpose is refused, even with the right payload.
    payload = signing.loads(token, salt=CONFIRM_SALT)
    foreign = signing.dumps(payload, salt="bellcms.subscribers.unsubscribe")
    assert client.post(reverse("subscribers:confirm", args=[foreign])).status_code == 400


def test_confirm_refused_after_the_address_is_suppressed(
    client, newsletter, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email="anna@example.com", newsletter=newsletter)
    link = confirm_link(mail.outbox[0])
    address_suppress(email="anna@example.com", reason="manual")
    assert client.post(link).status_code == 400
    assert Subscriber.objects.get().status != "active"


RATE_LIMIT_SCRIPT = """
import django, os, sys
os.environ["DJANGO_SETTINGS_MODULE"] = "bellcms.settings.test"
django.setup()
from django.test import Client, override_settings
from subscribers.ratelimit import rate_limit_hit
caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                      "LOCATION": sys.argv[1]}}
with override_settings(CACHES=caches):
    allowed = sum(
        not rate_limit_hit(scope="signup", key="198.51.100.1", limit=25, window=3600)
        for _ in range(20)
    )
print(allowed)
"""


def test_rate_limit_holds_across_processes_sharing_redis():
    url = "redis://127.0.0.1:6379/14"
    try:
        client = redis.Redis.from_url(url)
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    client.flushdb()
    started = time.monotonic()
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RATE_LIMIT_SCRIPT, url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    allowed = [int(process.communicate(timeout=120)[0].strip()) for process in processes]
    client.flushdb()
    assert time.monotonic() - started < 3600  # one window, so one count
    # 60 attempts from three processes against one limit of 25: exactly 25 pass.
    assert sum(allowed) == 25


@override_settings(SUBSCRIBERS_SIGNUP_LIMIT=2, SUBSCRIBERS_SIGNUP_WINDOW=3600)
def test_signup_ip_limit_counts_an_ipv6_64_as_one_client_and_ipv4_per_address(client, newsletter):
    assert (
        sign_up(client, newsletter, email="a1@example.com", ip="2001:db8:1:2::1").status_code == 302
    )
    assert (
        sign_up(client, newsletter, email="a2@example.com", ip="2001:db8:1:2::2").status_code == 302
    )
    # Another address in the same /64 is the same client.
    refused = sign_up(client, newsletter, email="a3@example.com", ip="2001:db8:1:2:ffff::3")
    assert refused.status_code == 429
    # Another /64 and other IPv4 addresses are other clients.
    assert (
        sign_up(client, newsletter, email="a4@example.com", ip="2001:db8:1:3::1").status_code == 302
    )
    for number in range(2):
        ip = f"203.0.113.{number + 1}"
        assert sign_up(client, newsletter, email=f"b{number}@example.com", ip=ip).status_code == 302
    assert sign_up(client, newsletter, email="b2@example.com", ip="203.0.113.1").status_code == 302
    assert sign_up(client, newsletter, email="b3@example.com", ip="203.0.113.1").status_code == 429


def test_signup_sends_one_confirmation_per_mailbox_whatever_the_tag_or_gmail_dots(
    newsletter, django_capture_on_commit_callbacks
):
    spellings = [
        "victim@gmail.com",
        "victim+1@gmail.com",
        "v.i.c.t.i.m+2@gmail.com",
        "Victim+3@googlemail.com",
        "anna+a@example.com",
        "anna+b@example.com",
        "anna@example.com",
        "an.na@example.com",  # dots matter outside Gmail: another mailbox
    ]
    with django_capture_on_commit_callbacks(execute=True):
        for email in spellings:
            subscriber_subscribe(email=email, newsletter=newsletter)
    assert [message.to for message in mail.outbox] == [
        ["victim@gmail.com"],
        ["anna+a@example.com"],
        ["an.na@example.com"],
    ]
    # The addresses are stored as typed (normalised), only the limit's key is the mailbox.
    assert set(Subscriber.objects.values_list("email", flat=True)) == {
        "victim@gmail.com",
        "victim+1@gmail.com",
        "v.i.c.t.i.m+2@gmail.com",
        "victim+3@googlemail.com",
        "anna+a@example.com",
        "anna+b@example.com",
        "anna@example.com",
        "an.na@example.com",
    }


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("not an address", "not an address"),
    ],
)
def test_ip_rate_key_is_the_ipv4_address_or_the_ipv6_64(ip, key):
    from subscribers.ratelimit import ip_rate_key

    assert ip_rate_key(ip) == key


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("v.i.c.t.i.m+news@googlemail.com", "victim@gmail.com"),
        ("anna+x+y@example.com", "anna@example.com"),
        ("an.na@example.com", "an.na@example.com"),
        ("+tag@example.com", "+tag@example.com"),
    ],
)
def test_mailbox_rate_key_drops_tags_and_gmail_dots(address, key):
    from subscribers.ratelimit import mailbox_rate_key

    assert mailbox_rate_key(address) == key


def test_lost_signup_attempts_expire_on_the_hourly_beat(newsletter, settings):
    from datetime import timedelta

    from django.utils import timezone

    from subscribers.models import SignupAttempt
    from subscribers.tasks import expire_signup_attempts

    fresh = SignupAttempt.objects.create(email="fresh@example.com", newsletter=newsletter)
    lost = SignupAttempt.objects.create(email="lost@example.com", newsletter=newsletter)
    SignupAttempt.objects.filter(pk=lost.pk).update(
        created_at=timezone.now() - timedelta(days=1, minutes=1)
    )

    assert expire_signup_attempts.delay().get() == 1

    assert list(SignupAttempt.objects.values_list("pk", flat=True)) == [fresh.pk]
    entry = settings.CELERY_BEAT_SCHEDULE["expire-signup-attempts"]
    assert entry["task"] == expire_signup_attempts.name
