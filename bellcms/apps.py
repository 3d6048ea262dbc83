from django.apps import AppConfig


class BellCMSConfig(AppConfig):
    name = "bellcms"
    verbose_name = "BellCMS"
