"""The Celery app. Settings come from Django settings under the ``CELERY_`` prefix."""

import os

from celery import Celery
from celery.signals import beat_init, worker_init

# As for the WSGI entry point: a worker started bare runs with production settings, which
# refuse to start without their variables rather than fall back to development defaults.
# `manage.py serve` passes the local settings on to the worker and beat it starts.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bellcms.settings.production")

app = Celery("bellcms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def _refuse_weak_settings(server: str) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from bellcms.checks import weak_settings_refuse

    try:
        weak_settings_refuse(server)
    except ImproperlyConfigured as error:
        # Celery logs and swallows an exception a signal handler raises; SystemExit stops it.
        raise SystemExit(str(error)) from None


@worker_init.connect
def _worker_refuses_weak_settings(**kwargs):
    _refuse_weak_settings("The Celery worker")


@beat_init.connect
def _beat_refuses_weak_settings(**kwargs):
    _refuse_weak_settings("Celery beat")
