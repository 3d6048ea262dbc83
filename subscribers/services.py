"""The subscribers app's services: the only code that changes a subscriber's state.

Each is keyword-only, does its work in one transaction, writes a ``SubscriberEvent`` and hands
mail to Celery once that transaction has committed. Forms, views, the admin, management
commands and webhooks call these.
"""

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from issues.models import Newsletter

from .addresses import email_normalise, name_clean, suppression_hash
from .models import (
    ConsentMethod,
    SignupAttempt,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)
from .ratelimit import ip_rate_key, mailbox_rate_key, rate_limit_hit
from .tokens import confirm_token_read, unsubscribe_token_read


class SubscriptionRefused(Exception):
    """A confirmation that cannot be carried out. The message is for the person who asked."""


def address_is_suppressed(*, email: str) -> bool:
    """Whether the address (in any spelling that normalises alike) is on the suppression list,
    lifted or not: no import, admin form or sending passes it."""
    return Suppression.objects.filter(address_hash=suppression_hash(email)).exists()


def address_refuses_signup(*, email: str) -> bool:
    """Whether the person's own sign-up is refused: suppressed, and not lifted by staff."""
    return Suppression.objects.filter(
        address_hash=suppression_hash(email), lifted_at__isnull=True
    ).exists()


def _suppression_arm(address_hash: str, reason: str) -> Suppression:
    # A new stop re-arms a lifted suppression; an armed one keeps its first reason and time.
    suppression, created = Suppression.objects.select_for_update().get_or_create(
        address_hash=address_hash, defaults={"reason": reason}
    )
    if not created and suppression.lifted_at is not None:
        suppression.reason, suppression.lifted_at = reason, None
        suppression.created_at = timezone.now()
        suppression.save(update_fields=["reason", "lifted_at", "created_at"])
    return suppression


@transaction.atomic
def suppression_lift(*, suppression: Suppression) -> bool:
    """Let the person come back through their own confirmed sign-up (they asked staff).

    Nothing else changes: files, the admin and sending still treat the address as suppressed
    until the person confirms, which removes the entry. Returns False if already lifted.
    """
    changed = Suppression.objects.filter(pk=suppression.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now()
    )
    return bool(changed)


def event_record(
    *, subscriber: Subscriber, action: str, newsletter=None, newsletter_id=None, detail: str = ""
):
    # Details are written by code, never copied from input: no addresses, tokens or names.
    return SubscriberEvent.objects.create(
        subscriber=subscriber,
        action=action,
        newsletter_id=newsletter.pk if newsletter is not None else newsletter_id,
        detail=detail[:300],
    )


@transaction.atomic
def address_suppress(*, email: str, reason: str) -> Suppression:
    """Put an address on the suppression list and stop mail to its subscriber, if there is one.

    Idempotent: a second call keeps the first reason and time.
    """
    address = email_normalise(email)
    suppression = _suppression_arm(suppression_hash(address), reason)
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

    The admin's history of the subscriber (``LogEntry`` rows, which name the address) goes too.
    The suppression entry keeps a later import or a stranger's sign-up from mailing the address
    again.
    """
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    suppression = _suppression_arm(suppression_hash(subscriber.email), SuppressionReason.ERASURE)
    # The admin's history names the subscriber by address (object_repr, change_message).
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Subscriber),
        object_id=str(subscriber.pk),
    ).delete()
    SignupAttempt.objects.filter(email=subscriber.email).delete()
    subscriber.delete()
    return suppression


def subscriber_subscribe(
    *, email: str, name: str = "", newsletter: Newsletter, form: str = ""
) -> None:
    """Sign an address up for a newsletter, pending confirmation by email (double opt-in).

    Returns nothing on purpose, and does the same work whatever the address: it validates the
    address and name, stores a ``SignupAttempt`` and, after commit, queues
    ``subscribers.tasks.process_signup(attempt_id)``. Whether the address is new, known, active
    or suppressed is looked at only by the worker (``signup_attempt_process``), so neither the
    answer nor its timing tells. Raises ``ValidationError`` for a malformed address or name.
    ``form`` names the form the person used (kept as the consent record).
    """
    address = email_normalise(email)
    name = name_clean(name)
    attempt = SignupAttempt.objects.create(
        email=address, name=name, newsletter=newsletter, form=form[:200]
    )
    from .tasks import process_signup

    attempt_id = attempt.pk
    transaction.on_commit(lambda: process_signup.delay(attempt_id))


# A sign-up attempt whose task was lost is deleted after this long (it holds an address).
SIGNUP_ATTEMPT_MAX_AGE = timezone.timedelta(days=1)


def signup_attempts_expire() -> int:
    """Delete sign-up attempts whose task was lost: each holds an address nobody confirmed.
    Beat runs this every hour; returns how many went."""
    expired, _ = SignupAttempt.objects.filter(
        created_at__lt=timezone.now() - SIGNUP_ATTEMPT_MAX_AGE
    ).delete()
    return expired


def signup_attempt_process(*, attempt_id: int) -> bool:
    """The worker's half of ``subscriber_subscribe``: decide, then queue the confirmation.

    Creates a pending subscriber and subscription (or reuses them) and, after commit, queues
    ``send_confirmation(subscription_id)`` unless the address is suppressed, already subscribed,
    or was sent one within ``SUBSCRIBERS_CONFIRM_RESEND_SECONDS``. The attempt row is deleted
    either way. Returns whether a confirmation was queued.
    """
    with transaction.atomic():
        signup_attempts_expire()
        attempt = (
            SignupAttempt.objects.select_for_update()
            .select_related("newsletter")
            .filter(pk=attempt_id)
            .first()
        )
        if attempt is None:
            return False
        attempt.delete()
        address, newsletter, form = attempt.email, attempt.newsletter, attempt.form
        if address_refuses_signup(email=address):
            return False
        subscriber, _ = Subscriber.objects.get_or_create(
            email=address, defaults={"name": attempt.name}
        )
        subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
        subscription, _ = Subscription.objects.get_or_create(
            subscriber=subscriber, newsletter=newsletter
        )
        if (
            subscriber.status == SubscriberStatus.ACTIVE
            and subscription.status == SubscriptionStatus.ACTIVE
        ):
            return False
        event_record(subscriber=subscriber, action="subscribe", newsletter=newsletter, detail=form)
        if rate_limit_hit(
            scope="confirm-mail",
            key=mailbox_rate_key(address),
            limit=1,
            window=settings.SUBSCRIBERS_CONFIRM_RESEND_SECONDS,
        ):
            return False
        from .tasks import send_confirmation

        subscription_id = subscription.pk
        transaction.on_commit(lambda: send_confirmation.delay(subscription_id))
        return True


@transaction.atomic
def subscriber_confirm(*, token: str) -> Subscription:
    """Activate the subscription a confirmation link names, recording consent.

    Idempotent: a second click changes nothing. Raises ``TokenInvalid`` (or ``TokenExpired``)
    for a link that is not ours or too old, ``SubscriptionRefused`` when the address has since
    been suppressed or erased, or the subscription unsubscribed after the link was signed.
    """
    data = confirm_token_read(token)
    subscription = (
        Subscription.objects.select_for_update()
        .select_related("subscriber", "newsletter")
        .filter(subscriber__public_id=data.public_id, newsletter_id=data.newsletter_id)
        .first()
    )
    if subscription is None:
        raise SubscriptionRefused("gone")
    subscriber = subscription.subscriber
    if address_refuses_signup(email=subscriber.email):
        raise SubscriptionRefused("suppressed")
    unsubscribed_at = subscription.unsubscribed_at
    if unsubscribed_at is not None and data.issued_at < unsubscribed_at.replace(microsecond=0):
        # A link from before the person left must not subscribe them again.
        raise SubscriptionRefused("unsubscribed since")
    now = timezone.now()
    if subscriber.status != SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.ACTIVE
        subscriber.consent_at = now
        subscriber.consent_method = ConsentMethod.DOUBLE_OPT_IN
        subscriber.consent_source = f"sign-up: {data.form or subscription.newsletter.slug}"[:200]
        subscriber.soft_bounces = 0
        subscriber.save()
    # The person's own click ends a suppression staff lifted at their request.
    Suppression.objects.filter(
        address_hash=suppression_hash(subscriber.email), lifted_at__isnull=False
    ).delete()
    if subscription.status != SubscriptionStatus.ACTIVE:
        subscription.status = SubscriptionStatus.ACTIVE
        subscription.confirmed_at = now
        subscription.save(update_fields=["status", "confirmed_at"])
        event_record(
            subscriber=subscriber,
            action="confirm",
            newsletter=subscription.newsletter,
            detail=data.form,
        )
    return subscription


@transaction.atomic
def subscriber_unsubscribe(*, token: str) -> Subscriber | None:
    """Unsubscribe from the newsletter an unsubscribe link names (RFC 8058 one-click).

    Idempotent, and quiet about erased subscribers: a valid token whose subscriber is gone
    returns None, since there is nothing left to mail. Raises ``TokenInvalid`` for a forged or
    altered token, before anything is read or written.
    """
    data = unsubscribe_token_read(token)
    subscriber = Subscriber.objects.select_for_update().filter(public_id=data.public_id).first()
    if subscriber is None:
        return None
    subscriptions = subscriber.subscriptions.exclude(status=SubscriptionStatus.UNSUBSCRIBED)
    if data.newsletter_id is not None:
        subscriptions = subscriptions.filter(newsletter_id=data.newsletter_id)
    changed = subscriptions.update(
        status=SubscriptionStatus.UNSUBSCRIBED, unsubscribed_at=timezone.now()
    )
    if changed:
        event_record(
            subscriber=subscriber,
            action="unsubscribe",
            newsletter_id=data.newsletter_id,
            detail="one-click link",
        )
    _status_follow_subscriptions(subscriber)
    return subscriber


def _status_follow_subscriptions(subscriber: Subscriber) -> None:
    # Someone with no active subscription left is unsubscribed; bounced and complained stay.
    remaining = subscriber.subscriptions.filter(status=SubscriptionStatus.ACTIVE).exists()
    if not remaining and subscriber.status in {SubscriberStatus.ACTIVE, SubscriberStatus.PENDING}:
        subscriber.status = SubscriberStatus.UNSUBSCRIBED
        subscriber.save(update_fields=["status", "updated_at"])


class PreferencesRefused(Exception):
    """The address may not be mailed (bounced, complained or suppressed)."""


@transaction.atomic
def subscriber_preferences_set(*, subscriber: Subscriber, newsletters) -> None:
    """Receive exactly these newsletters (from the signed preferences link).

    The link came by email to the address, so choosing a newsletter there needs no further
    confirmation. An empty choice unsubscribes from all.
    """
    subscriber = Subscriber.objects.select_for_update().get(pk=subscriber.pk)
    wanted = {newsletter.pk: newsletter for newsletter in newsletters}
    stopped = subscriber.status in {SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED}
    if wanted and (stopped or address_is_suppressed(email=subscriber.email)):
        raise PreferencesRefused
    now = timezone.now()
    current = {s.newsletter_id: s for s in subscriber.subscriptions.all()}
    for newsletter_id, subscription in current.items():
        if newsletter_id not in wanted and subscription.status != SubscriptionStatus.UNSUBSCRIBED:
            subscription.status = SubscriptionStatus.UNSUBSCRIBED
            subscription.unsubscribed_at = now
            subscription.save(update_fields=["status", "unsubscribed_at"])
            event_record(
                subscriber=subscriber,
                action="unsubscribe",
                newsletter_id=newsletter_id,
                detail="preferences",
            )
    for newsletter_id, newsletter in wanted.items():
        subscription = current.get(newsletter_id) or Subscription(
            subscriber=subscriber, newsletter=newsletter
        )
        if subscription.status != SubscriptionStatus.ACTIVE:
            subscription.status = SubscriptionStatus.ACTIVE
            subscription.confirmed_at = now
            subscription.save()
            event_record(
                subscriber=subscriber,
                action="subscribe",
                newsletter=newsletter,
                detail="preferences",
            )
    if wanted and subscriber.status != SubscriberStatus.ACTIVE:
        subscriber.status = SubscriberStatus.ACTIVE
        if subscriber.consent_at is None:
            subscriber.consent_at = now
            subscriber.consent_method = ConsentMethod.DOUBLE_OPT_IN
            subscriber.consent_source = "preferences page"
        subscriber.save()
    _status_follow_subscriptions(subscriber)


def subscriber_data(*, subscriber: Subscriber) -> dict:
    """Everything stored about a subscriber, for the person to download (GDPR art. 15, 20)."""
    subscriber = Subscriber.objects.get(pk=subscriber.pk)
    return {
        "email": subscriber.email,
        "name": subscriber.name,
        "status": subscriber.status,
        "tier": subscriber.tier,
        "consent": {
            "at": subscriber.consent_at.isoformat() if subscriber.consent_at else None,
            "method": subscriber.consent_method,
            "source": subscriber.consent_source,
        },
        "note": subscriber.note,
        "labels": subscriber.labels,
        "stripe_customer_id": subscriber.stripe_customer_id,
        "soft_bounces_in_a_row": subscriber.soft_bounces,
        "created_at": subscriber.created_at.isoformat(),
        "subscriptions": [
            {
                "newsletter": s.newsletter.name,
                "status": s.status,
                "created_at": s.created_at.isoformat(),
                "confirmed_at": s.confirmed_at.isoformat() if s.confirmed_at else None,
                "unsubscribed_at": s.unsubscribed_at.isoformat() if s.unsubscribed_at else None,
            }
            for s in subscriber.subscriptions.select_related("newsletter")
        ],
        "events": [
            {
                "at": e.created_at.isoformat(),
                "action": e.action,
                "newsletter": e.newsletter.name if e.newsletter else None,
                "detail": e.detail,
            }
            for e in subscriber.events.select_related("newsletter")
        ],
    }


def preferences_link_request(*, token: str, ip: str) -> None:
    """Email a fresh preferences link to the subscriber an unsubscribe link names.

    The link goes to the subscriber's own address, never to the page: an unsubscribe link
    travels through mail providers' servers and must not open the preferences. Returns nothing
    on purpose, so that the page answers alike whether a mail was sent, rate-limited, suppressed
    or the subscriber erased. Raises ``TokenInvalid`` for a forged or altered token.
    """
    data = unsubscribe_token_read(token)
    over_ip = rate_limit_hit(
        scope="preferences-link-ip",
        key=ip_rate_key(ip),
        limit=settings.SUBSCRIBERS_SIGNUP_LIMIT,
        window=settings.SUBSCRIBERS_SIGNUP_WINDOW,
    )
    over_subscriber = rate_limit_hit(
        scope="preferences-link",
        key=data.public_id.hex,
        limit=1,
        window=settings.SUBSCRIBERS_CONFIRM_RESEND_SECONDS,
    )
    if over_ip or over_subscriber:
        return
    subscriber_id = (
        Subscriber.objects.filter(public_id=data.public_id).values_list("pk", flat=True).first()
    )
    if subscriber_id is None:
        return
    from .tasks import send_preferences_link

    send_preferences_link.delay(subscriber_id)
