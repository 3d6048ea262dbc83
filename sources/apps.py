from django.apps import AppConfig


class SourcesConfig(AppConfig):
    """Anonymous-source records, sealed identities, access grants, citations and their audit."""

    name = "sources"
    verbose_name = "Sources"

    def ready(self):
        from . import history, versioning  # noqa: F401  (registers with django-reversion)

        history.register()
