from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    """Subscribers, subscriptions, suppressions, deliveries, dispatch and unsubscribe."""

    name = "subscribers"
    verbose_name = "Subscribers"

    def ready(self):
        # anymail's webhooks must not know this app; the signal connects them.
        from anymail.signals import inbound, tracking

        from .bounces import inbound_received, tracking_received

        tracking.connect(tracking_received, dispatch_uid="subscribers.bounces")
        inbound.connect(inbound_received, dispatch_uid="subscribers.mailto_unsubscribe")
