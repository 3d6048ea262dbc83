from django.apps import AppConfig


class ArchiveConfig(AppConfig):
    name = "archive"
    verbose_name = "Public archive"

    def ready(self):
        from . import signals  # noqa: F401  (keeps the archive's stamp and old addresses)
        from .search import signals as search_signals  # noqa: F401  (keeps search rows current)
