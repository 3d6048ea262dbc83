from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = "Editorial"

    def ready(self):
        from . import versioning  # noqa: F401  (registers the models with django-reversion)
