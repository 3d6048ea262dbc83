"""The confirmation crosses the real pieces: committed to PostgreSQL, queued on Redis with the
subscription's id only, sent by a Celery worker process to an SMTP server."""

import os
import subprocess
import sys

import pytest
import redis
from django.db import connection

from bellcms.celery import app
from subscribers.services import subscriber_confirm, subscriber_subscribe
from tests.factories import NewsletterFactory
from tests.processes import ROOT, clean_env
from tests.smtp import smtp_server_start
from tests.subscribers.conftest import links_in

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]
BROKER = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")


def database_url():
    db = connection.settings_dict
    return (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def smtp():
    controller, inbox = smtp_server_start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def worker(smtp, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("a worker process shares the test database only on PostgreSQL")
    try:
        redis.Redis.from_url(BROKER).ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {BROKER}")
    controller, _ = smtp
    env = clean_env(
        DJANGO_SETTINGS_MODULE="bellcms.settings.test",
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=BROKER,
        BELLCMS_TEST_QUEUE=app.conf.task_default_queue,
        EMAIL_URL=f"smtp://{controller.hostname}:{controller.port}",
        BELLCMS_VAR_DIR=tmp_path,
    )
    log_path = tmp_path / "worker.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bellcms",
                "worker",
                "--pool=solo",
                "-l",
                "DEBUG",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield log_path
    app.conf.task_always_eager = eager
    process.terminate()
    process.wait(timeout=30)


def test_confirmation_sent_by_a_worker_and_followed(smtp, worker):
    _, inbox = smtp
    newsletter = NewsletterFactory()

    subscriber_subscribe(email="secret.reader@example.com", newsletter=newsletter)

    messages = inbox.wait_for(1, timeout=60)
    assert len(messages) == 1, "the worker did not deliver the confirmation"
    recipients, message = messages[0]
    assert recipients == ["secret.reader@example.com"]
    (link,) = set(links_in(message.get_body(preferencelist=("plain",)).get_content(), "/confirm/"))
    token = link.rstrip("/").rsplit("/", 1)[1]
    subscription = subscriber_confirm(token=token)
    assert subscription.status == "active"
    # The worker's own log (task arguments included, at DEBUG) never names the address or token.
    log = worker.read_text()
    assert "send_confirmation" in log
    assert "secret.reader" not in log and token not in log
