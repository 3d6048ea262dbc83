"""Review notifications cross the real pieces: committed to PostgreSQL, queued on Redis, sent
by a Celery worker process to an SMTP server."""

import os
import subprocess
import sys

import pytest
import redis
from django.db import connection

from bellcms.celery import app
from issues.services import story_return, story_submit
from tests.factories import StoryFactory
from tests.processes import ROOT, clean_env
from tests.smtp import smtp_server_start

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
    log = (tmp_path / "worker.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "bellcms", "worker", "--pool=solo", "-l", "INFO"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    yield process
    app.conf.task_always_eager = eager
    process.terminate()
    process.wait(timeout=30)


def test_submit_and_return_reach_the_other_side_through_a_real_worker(
    smtp, worker, editor, journalist
):
    _, inbox = smtp
    story = StoryFactory(headline="Sanctions: the “shadow fleet”", authors=[journalist])

    story_submit(story=story, acting_user=journalist)
    story_return(story=story, acting_user=editor, comment="Which tanker? Name it.")

    messages = inbox.wait_for(2, timeout=60)
    assert len(messages) == 2, "the worker did not deliver both notifications"
    by_recipient = {tuple(rcpt): message for rcpt, message in messages}
    for_editor = by_recipient[(editor.email,)]
    for_author = by_recipient[(journalist.email,)]
    # Django 5.2 folds a non-ASCII subject onto a continuation line; a strict parser keeps the
    # folding space in front, mail clients drop it.
    assert for_editor["Subject"].strip() == "For review: Sanctions: the “shadow fleet”"
    assert for_author["Subject"].strip() == "Returned to you: Sanctions: the “shadow fleet”"
    assert "Which tanker? Name it." in for_author.get_content()
