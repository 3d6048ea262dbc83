from django.apps import AppConfig


class BellCMSConfig(AppConfig):
    name = "bellcms"
    verbose_name = "BellCMS"

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
