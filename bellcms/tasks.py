"""Project-wide tasks."""

from celery import shared_task

from .health import worker_heartbeat_record


@shared_task(name="bellcms.tasks.record_worker_heartbeat")
def record_worker_heartbeat():
    """Beat sends this every 30 s; a worker running it proves both beat and worker are alive."""
    worker_heartbeat_record()
