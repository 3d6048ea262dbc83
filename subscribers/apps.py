from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    """Subscribers, subscriptions, suppressions, deliveries, dispatch and unsubscribe."""

    name = "subscribers"
    verbose_name = "Subscribers"

    def ready(self):
        # anymail's webhooks must not know this app; the signal connects them.
        from anymail.signals import inbound, tracking
        from django.core.checks import register

        from issues.signals import correction_notice_created, issue_published

        from .bounces import inbound_received, tracking_received
        from .dispatch.relay import check_relay_limits
        from .dispatch.start import correction_notice_received, issue_published_received

        register(check_relay_limits)

        tracking.connect(tracking_received, dispatch_uid="subscribers.bounces")
        inbound.connect(inbound_received, dispatch_uid="subscribers.mailto_unsubscribe")
        # The editorial app publishes without knowing who reads it; this takes the snapshot.
        issue_published.connect(issue_published_received, dispatch_uid="subscribers.dispatch")
        # A correction notice goes to the readers of the story's issue, by the same dispatch.
        correction_notice_created.connect(
            correction_notice_received, dispatch_uid="subscribers.dispatch.notices"
        )
