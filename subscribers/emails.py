"""The emails the subscribers app writes itself (confirmation); the issue's headers are in
``subscribers.dispatch.message``."""

from email.utils import formataddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from .models import (
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
)
from .services import address_is_suppressed, address_refuses_signup
from .tokens import confirm_token_make, preferences_token_make, unsubscribe_token_make


def absolute_url(path: str) -> str:
    return settings.BELLCMS_BASE_URL + path


def confirmation_send(*, subscription_id: int) -> bool:
    """Send the confirmation email for a pending subscription; False when it is not needed.

    Checked again here, not only at sign-up: the address may have been suppressed or confirmed
    while the task waited in the queue.
    """
    subscription = (
        Subscription.objects.select_related("subscriber", "newsletter")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:
        return False
    subscriber, newsletter = subscription.subscriber, subscription.newsletter
    already = (
        subscriber.status == SubscriberStatus.ACTIVE
        and subscription.status == SubscriptionStatus.ACTIVE
    )
    if already or address_refuses_signup(email=subscriber.email):
        return False
    signup = (
        SubscriberEvent.objects.filter(
            subscriber=subscriber, newsletter=newsletter, action="subscribe"
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    token = confirm_token_make(
        subscriber=subscriber, newsletter=newsletter, form=signup.detail if signup else ""
    )
    context = {
        "newsletter": newsletter,
        "confirm_url": absolute_url(reverse("subscribers:confirm", args=[token])),
        "max_age_days": settings.SUBSCRIBERS_CONFIRM_MAX_AGE // 86400,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/subscribers/confirm_subject.txt", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string("emails/subscribers/confirm.txt", context),
            from_email=newsletter_sender(newsletter),
            to=[subscriber.email],
        )
        message.attach_alternative(
            render_to_string("emails/subscribers/confirm.html", context), "text/html"
        )
    message.send()
    return True


def preferences_link_send(*, subscriber_id: int) -> bool:
    """Mail a fresh preferences link to the subscriber's own address; False when not sent.

    Asked for from the unsubscribe page. Nothing goes to a suppressed, bounced or complained
    address, nor to a subscriber erased while the task waited.
    """
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        return False
    stopped = subscriber.status in {SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED}
    if stopped or address_is_suppressed(email=subscriber.email):
        return False
    subscription = (
        subscriber.subscriptions.select_related("newsletter").order_by("-created_at").first()
    )
    newsletter = subscription.newsletter if subscription else None
    context = {
        "newsletter": newsletter,
        "preferences_url": preferences_url(subscriber=subscriber),
        "max_age_days": settings.SUBSCRIBERS_PREFERENCES_MAX_AGE // 86400,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("emails/subscribers/preferences_link_subject.txt", context)
        message = EmailMultiAlternatives(
            subject=" ".join(subject.split()),
            body=render_to_string("emails/subscribers/preferences_link.txt", context),
            from_email=newsletter_sender(newsletter) if newsletter else settings.DEFAULT_FROM_EMAIL,
            to=[subscriber.email],
        )
        message.attach_alternative(
            render_to_string("emails/subscribers/preferences_link.html", context), "text/html"
        )
    message.send()
    return True


def newsletter_sender(newsletter) -> str:
    if newsletter.sender_email:
        return formataddr((newsletter.sender_name, newsletter.sender_email))
    return settings.DEFAULT_FROM_EMAIL


def unsubscribe_url(*, subscriber, newsletter) -> str:
    token = unsubscribe_token_make(subscriber=subscriber, newsletter=newsletter)
    return absolute_url(reverse("subscribers:unsubscribe", args=[token]))


def preferences_url(*, subscriber) -> str:
    token = preferences_token_make(subscriber=subscriber)
    return absolute_url(reverse("subscribers:preferences", args=[token]))
