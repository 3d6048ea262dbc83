"""Bounces and complaints from the ESP's tracking webhooks (django-anymail), as suppressions.

Anymail normalises every ESP's webhook (SES, Mailgun, Postmark, SendGrid…) into one
``tracking`` signal; ``SubscribersConfig.ready`` connects ``tracking_received`` to it. A hard
bounce or a complaint suppresses the address at once; a soft bounce is counted, a delivery
resets the count, and the third soft bounce in a row suppresses. Addresses are never logged.
"""

import logging
import re

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from .addresses import email_normalise
from .models import Subscriber, SuppressionReason
from .services import address_suppress, event_record, subscriber_unsubscribe_all

logger = logging.getLogger(__name__)

SOFT_BOUNCES_TO_SUPPRESS = 3
# The reply's leading SMTP code and the enhanced status code right after it ("550 5.1.1 …",
# "smtp;421 4.7.0 …"): a 4 in either means "try again later". Nothing later in the text counts:
# an IP address, a message id or an address may hold "4.1.2" or "417".
_LEADING_CODES = re.compile(
    r"\A\s*(?:smtp\s*;\s*)?(?:(?P<reply>[2-5])\d\d(?=[\s-]|\Z)[\s-]*)?"
    r"(?:(?P<enhanced>[2-5])\.\d{1,3}\.\d{1,3}(?=\s|\Z|[^\d.]))?",
    re.IGNORECASE,
)
# How ESPs mark a bounce as temporary when Anymail reports it as "bounced".
_SOFT_ESP_TYPES = {"softbounce", "transient", "dnserror", "temporary", "undetermined"}


def bounce_is_soft(event: AnymailTrackingEvent) -> bool:
    if event.event_type == EventType.DEFERRED:
        return True
    esp = event.esp_event if isinstance(event.esp_event, dict) else {}
    markers = [
        esp.get("Type"),  # Postmark
        (esp.get("bounce") or {}).get("bounceType")
        if isinstance(esp.get("bounce"), dict)
        else None,
        esp.get("severity"),  # Mailgun
        esp.get("bounce_classification"),
    ]
    if any(str(marker).lower() in _SOFT_ESP_TYPES for marker in markers if marker):
        return True
    return smtp_reply_is_temporary(event.mta_response or "")


def smtp_reply_is_temporary(reply: str) -> bool:
    """Whether the leading reply code or the first enhanced status code is 4 (temporary)."""
    codes = _LEADING_CODES.match(reply)
    return "4" in {codes.group("reply"), codes.group("enhanced")}


def tracking_event_apply(*, event: AnymailTrackingEvent, esp_name: str = "") -> str:
    """Apply one tracking event; returns what was done (for tests and counters, never logged
    with the address)."""
    try:
        address = email_normalise(event.recipient or "")
    except ValidationError:
        return "ignored"
    kind = event.event_type
    if kind == EventType.COMPLAINED or (
        kind == EventType.REJECTED and event.reject_reason == RejectReason.SPAM
    ):
        address_suppress(email=address, reason=SuppressionReason.COMPLAINT)
        return "complaint"
    if kind == EventType.UNSUBSCRIBED or (
        kind == EventType.REJECTED and event.reject_reason == RejectReason.UNSUBSCRIBED
    ):
        subscriber = Subscriber.objects.filter(email=address).first()
        if subscriber is not None:
            subscriber_unsubscribe_all(subscriber=subscriber, how=f"esp: {esp_name}")
        return "unsubscribed"
    if kind == EventType.REJECTED and event.reject_reason in {
        RejectReason.BOUNCED,
        RejectReason.INVALID,
        RejectReason.TIMED_OUT,
    }:
        address_suppress(email=address, reason=SuppressionReason.HARD_BOUNCE)
        return "hard_bounce"
    if kind in {EventType.BOUNCED, EventType.DEFERRED}:
        if bounce_is_soft(event):
            return soft_bounce_record(email=address)
        address_suppress(email=address, reason=SuppressionReason.HARD_BOUNCE)
        return "hard_bounce"
    if kind == EventType.DELIVERED:
        Subscriber.objects.filter(email=address, soft_bounces__gt=0).update(soft_bounces=0)
        return "delivered"
    return "ignored"


@transaction.atomic
def soft_bounce_record(*, email: str) -> str:
    """Count a soft bounce; the ``SOFT_BOUNCES_TO_SUPPRESS``-th in a row suppresses."""
    subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
    if subscriber is None:
        return "soft_bounce"
    Subscriber.objects.filter(pk=subscriber.pk).update(soft_bounces=F("soft_bounces") + 1)
    subscriber.refresh_from_db(fields=["soft_bounces"])
    event_record(subscriber=subscriber, action="soft_bounce", detail=str(subscriber.soft_bounces))
    if subscriber.soft_bounces >= SOFT_BOUNCES_TO_SUPPRESS:
        address_suppress(email=email, reason=SuppressionReason.SOFT_BOUNCES)
        return "suppressed_after_soft_bounces"
    return "soft_bounce"


def tracking_received(sender, event, esp_name, **kwargs):
    """Receiver of ``anymail.signals.tracking``."""
    outcome = tracking_event_apply(event=event, esp_name=esp_name)
    logger.info("ESP %s tracking event %s: %s", esp_name, event.event_type, outcome)


_UNSUBSCRIBE_SUBJECT = re.compile(r"\bunsubscribe\s+(\S+)", re.IGNORECASE)


def inbound_received(sender, event, esp_name, **kwargs):
    """Receiver of ``anymail.signals.inbound``: the mailto: of List-Unsubscribe.

    The subject carries the same signed token as the https link; a message without a valid
    one changes nothing. The sender's address is not trusted (it is easily forged).
    """
    from .services import subscriber_unsubscribe
    from .tokens import TokenInvalid

    message = getattr(event, "message", None)
    match = _UNSUBSCRIBE_SUBJECT.search(str(getattr(message, "subject", "") or ""))
    if not match:
        return
    try:
        subscriber_unsubscribe(token=match.group(1))
    except TokenInvalid:
        logger.info("ESP %s inbound unsubscribe with an invalid token", esp_name)
