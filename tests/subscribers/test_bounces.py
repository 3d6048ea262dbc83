"""Bounces and complaints from ESP webhooks (django-anymail) become suppressions."""

import base64
import json

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.test import override_settings

from subscribers.models import Subscriber
from subscribers.services import address_is_suppressed
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db
SECRET = "anymail:s3cret-webhook-pass"


@pytest.fixture
def subscriber(newsletter):
    return SubscriptionFactory(
        newsletter=newsletter, subscriber__email="anna@example.com"
    ).subscriber


def send(event_type, recipient="Anna@Example.com", **kwargs):
    event = AnymailTrackingEvent(event_type=event_type, recipient=recipient, **kwargs)
    tracking.send(sender=object, event=event, esp_name="TestESP")


def test_hard_bounce_suppresses(subscriber):
    send("bounced", mta_response="550 5.1.1 <anna@example.com>: user unknown")
    subscriber.refresh_from_db()
    assert subscriber.status == "bounced"
    assert subscriber.subscriptions.get().status == "unsubscribed"
    assert address_is_suppressed(email="anna@example.com")


def test_complaint_suppresses(subscriber):
    send("complained")
    subscriber.refresh_from_db()
    assert subscriber.status == "complained"
    assert address_is_suppressed(email="anna@example.com")


def test_three_soft_bounces_in_a_row_suppress(subscriber):
    send("deferred", mta_response="451 4.2.0 mailbox busy")
    send("bounced", mta_response="452 4.2.2 mailbox full")
    subscriber.refresh_from_db()
    assert (subscriber.soft_bounces, subscriber.status) == (2, "active")
    send("bounced", esp_event={"Type": "SoftBounce"})
    subscriber.refresh_from_db()
    assert subscriber.status == "bounced"
    assert address_is_suppressed(email="anna@example.com")


def test_a_delivery_resets_the_soft_bounce_count(subscriber):
    send("deferred")
    send("deferred")
    send("delivered")
    send("deferred")
    send("deferred")
    subscriber.refresh_from_db()
    assert (subscriber.soft_bounces, subscriber.status) == (2, "active")
    assert not address_is_suppressed(email="anna@example.com")


def test_esp_unsubscribe_and_unknown_recipients(subscriber):
    send("opened")
    send("bounced", recipient="not an address")
    send("complained", recipient="stranger@example.com")
    assert address_is_suppressed(email="stranger@example.com")
    send("unsubscribed")
    subscriber.refresh_from_db()
    assert subscriber.status == "unsubscribed"


def postmark_bounce(client, kind, auth=SECRET):
    payload = {
        "RecordType": "Bounce",
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Email": "anna@example.com",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account does not exist.",
        "BouncedAt": "2026-11-27T10:00:00Z",
        "Tag": "",
        "Metadata": {},
    }
    headers = {}
    if auth:
        headers["HTTP_AUTHORIZATION"] = "Basic " + base64.b64encode(auth.encode()).decode()
    return client.post(
        "/anymail/postmark/tracking/",
        json.dumps(payload),
        content_type="application/json",
        **headers,
    )


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET})
def test_postmark_webhook_hard_bounce_suppresses(client, subscriber):
    assert postmark_bounce(client, "HardBounce").status_code == 200
    assert address_is_suppressed(email="anna@example.com")
    assert Subscriber.objects.get().status == "bounced"


@override_settings(ANYMAIL={"WEBHOOK_SECRET": SECRET})
def test_postmark_webhook_soft_bounce_is_counted(client, subscriber):
    assert postmark_bounce(client, "SoftBounce").status_code == 200
    subscriber.refresh_from_db()
    assert (subscriber.soft_bounces, subscriber.status) == (1, "active")


def test_webhook_refused_without_the_secret(client, subscriber):
    assert postmark_bounce(client, "HardBounce", auth=None).status_code in {400, 401, 403}
    assert postmark_bounce(client, "HardBounce", auth="anymail:guess").status_code in {
        400,
        401,
        403,
    }
    assert not address_is_suppressed(email="anna@example.com")


def test_mailto_unsubscribe_through_inbound_mail(subscriber, newsletter):
    from urllib.parse import unquote

    from anymail.inbound import AnymailInboundMessage
    from anymail.signals import AnymailInboundEvent, inbound

    from issues.rendering import issue_render
    from subscribers.dispatch.message import issue_message_for_subscriber
    from tests.factories import StoryFactory

    issue = StoryFactory(issue__newsletter=newsletter).issue
    message = issue_message_for_subscriber(
        rendered=issue_render(issue=issue), issue=issue, subscriber=subscriber
    )
    mailto = message.extra_headers["List-Unsubscribe"].split(", <mailto:")[1].rstrip(">")
    subject = unquote(mailto.split("?subject=")[1])

    forged = AnymailInboundMessage.construct(subject="unsubscribe WyJmb3JnZWQiXQ:1x:abc")
    inbound.send(
        sender=object,
        event=AnymailInboundEvent(event_type="inbound", message=forged),
        esp_name="TestESP",
    )
    assert subscriber.subscriptions.get().status == "active"

    genuine = AnymailInboundMessage.construct(subject=subject)
    inbound.send(
        sender=object,
        event=AnymailInboundEvent(event_type="inbound", message=genuine),
        esp_name="TestESP",
    )
    assert subscriber.subscriptions.get().status == "unsubscribed"


@pytest.mark.parametrize(
    ("reply", "soft"),
    [
        ("550 5.7.1 Message rejected from [10.4.1.2] blocked", False),
        ("550 5.1.1 <anna.400@example.com>: user unknown", False),
        ("550 5.1.1 user unknown (id=417)", False),
        ("smtp;550 5.1.1 The email account 4.4.4 does not exist.", False),
        ("550-5.1.1 The email account that you tried to reach does not exist", False),
        ("421 4.7.0 try later", True),
        ("smtp; 452 4.2.2 mailbox full", True),
        ("4.4.1 connection timed out", True),
        ("", False),
    ],
)
def test_only_the_leading_reply_codes_decide_soft_or_hard(reply, soft):
    from subscribers.bounces import smtp_reply_is_temporary

    assert smtp_reply_is_temporary(reply) is soft


@pytest.mark.parametrize(
    "reply",
    [
        "550 5.7.1 Message rejected from [10.4.1.2] blocked",
        "550 5.1.1 <anna.400@example.com>: user unknown",
        "550 5.1.1 user unknown (id=417)",
    ],
)
def test_hard_bounce_with_a_4_later_in_the_reply_suppresses(subscriber, reply):
    send("bounced", mta_response=reply)
    subscriber.refresh_from_db()
    assert subscriber.status == "bounced"
    assert address_is_suppressed(email="anna@example.com")
