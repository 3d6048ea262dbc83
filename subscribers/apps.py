from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    """Subscribers, subscriptions, suppressions, deliveries, dispatch and unsubscribe."""

    name = "subscribers"
    verbose_name = "Subscribers"
