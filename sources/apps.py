from django.apps import AppConfig


class SourcesConfig(AppConfig):
    """Anonymous-source records, sealed identities, access grants, citations and their audit."""

    name = "sources"
    verbose_name = "Sources"

    def ready(self):
        from . import versioning  # noqa: F401  (registers the models with django-reversion)
