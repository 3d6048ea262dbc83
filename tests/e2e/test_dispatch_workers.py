"""Sending an issue with real processes: Celery workers and beat on Redis, PostgreSQL, an SMTP
server (aiosmtpd). On time, to every subscriber exactly once, through a killed worker sending
over eight connections, a restarted broker and a mail server that is down for half a minute.
"""

import collections
import datetime as dt
import os
import signal
import subprocess
import time

import pytest
from django.utils import timezone

from issues.importing.services import issue_import
from issues.models import Issue, Story
from issues.services import issue_approve, issue_schedule, story_approve, story_submit
from subscribers.dispatch.progress import dispatch_progress
from subscribers.models import Delivery, Subscriber, Subscription
from subscribers.services import address_suppress
from tests.conftest import SAMPLE_PATH
from tests.dispatching import once_each_but_uncertain
from tests.factories import story_sources_cited
from tests.processes import MANAGE, ROOT, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)
S = Delivery.Status


def audience(newsletter, count: int, *, prefix: str) -> list[str]:
    """``count`` active subscribers of the newsletter, made in bulk; their addresses."""
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(
            email=f"{prefix}{n}@mail.example",
            status=Subscriber.Status.ACTIVE,
            consent_at=now,
            consent_method="double_opt_in",
        )
        for n in range(count)
    )
    Subscription.objects.bulk_create(
        Subscription(subscriber=s, newsletter=newsletter, status="active", confirmed_at=now)
        for s in subscribers
    )
    return [s.email for s in subscribers]


def sample_issue_ready(editor) -> Issue:
    """The sample issue, imported, its sources cited, every story approved, the issue approved."""
    issue = issue_import(path=SAMPLE_PATH, authors=[editor])
    for story in issue.stories.all():
        story = story_sources_cited(story, editor)
        if story.status != Story.Status.SUBMITTED:
            story_submit(story=story, acting_user=editor)
        story_approve(story=story, acting_user=editor)
    issue.refresh_from_db()
    issue_approve(issue=issue, acting_user=editor)
    return issue


def scheduled_now(issue) -> None:
    # Due at once: the scheduler's next pass (beat, every few seconds here) publishes it.
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.SCHEDULED, publish_at=timezone.now() - dt.timedelta(seconds=1)
    )


def copies(inbox) -> collections.Counter:
    return collections.Counter(inbox.recipients())


def settled(issue) -> bool:
    issue.refresh_from_db()
    return issue.status == Issue.Status.SENT


def test_scheduled_a_minute_ahead_it_goes_out_on_time_once_to_each(smtp, celery_processes, editor):
    _, inbox = smtp
    issue = sample_issue_ready(editor)
    newsletter = issue.newsletter
    readers = audience(newsletter, 2000, prefix="reader")
    gone = audience(newsletter, 30, prefix="gone")
    Subscription.objects.filter(subscriber__email__in=gone).update(
        status="unsubscribed", unsubscribed_at=timezone.now()
    )
    for address in audience(newsletter, 20, prefix="suppressed"):
        address_suppress(email=address, reason="complaint")
    publish_at = timezone.now() + dt.timedelta(minutes=1)
    issue_schedule(issue=issue, publish_at=publish_at, acting_user=editor)
    celery_processes.worker()
    celery_processes.beat(BELLCMS_SCHEDULER_SECONDS=5)

    wait_for(lambda: settled(issue), timeout=240, interval=1, what="the issue to be sent")

    issue.refresh_from_db()
    assert publish_at <= issue.published_at <= publish_at + dt.timedelta(seconds=20)
    received = copies(inbox)
    assert sorted(received) == sorted(readers)
    assert set(received.values()) == {1}
    progress = dispatch_progress(issue_id=issue.pk)
    assert progress.audience == 2000 and progress.counts[S.SENT] == 2000 and progress.balanced
    assert 0 <= progress.lag_seconds < 25
    _, message = inbox.messages[0]
    assert issue.title in message["Subject"]
    assert "Kremlin" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_worker_killed_mid_send_loses_nothing_and_resends_nothing_silently(
    smtp, celery_processes, editor
):
    _, inbox = smtp
    issue = sample_issue_ready(editor)
    readers = audience(issue.newsletter, 5000, prefix="reader")
    lease = {"DISPATCH_LEASE_SECONDS": 6, "DISPATCH_QUIET_SECONDS": 5, "DISPATCH_CONNECTIONS": 8}
    first = celery_processes.worker(**lease)
    celery_processes.beat(BELLCMS_SCHEDULER_SECONDS=2, **lease)
    scheduled_now(issue)

    wait_for(lambda: len(inbox.recipients()) >= 1500, timeout=120, what="the send to be under way")
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    assert len(inbox.recipients()) < len(readers), "the send finished before the kill"
    # The killed worker's batches, one per connection: claimed, and no one left to send them.
    dead_batches = (
        Delivery.objects.filter(issue=issue, status=S.CLAIMED).values("claim").distinct().count()
    )
    assert dead_batches <= 8
    celery_processes.worker(**lease)

    wait_for(lambda: settled(issue), timeout=240, interval=1, what="the issue to be sent")

    # At most one message per connection may have been in flight: each was sent again and
    # recorded as uncertain.
    once_each_but_uncertain(issue, inbox.recipients(), readers, most_uncertain=8)
    in_flight = Delivery.objects.filter(issue=issue, in_flight_at_crash=True)
    assert in_flight.count() <= dead_batches
    assert set(in_flight.values_list("status", flat=True)) <= {S.UNCERTAIN}


def redis_start(port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            "redis-server",
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    import redis

    wait_for(lambda: _pings(redis.Redis(port=port)), timeout=15, what=f"Redis on port {port}")
    return process


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.ConnectionError:
        return False


def test_a_restarted_broker_and_a_mail_server_down_for_30_s_delay_but_lose_nothing(
    smtp, celery_processes, editor
):
    controller, inbox = smtp
    issue = sample_issue_ready(editor)
    readers = audience(issue.newsletter, 3000, prefix="reader")
    port = free_port()
    broker = redis_start(port)
    env = {
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{port}/0",
        "DISPATCH_QUIET_SECONDS": 5,
        "DISPATCH_LEASE_SECONDS": 10,
        "DISPATCH_CONNECTIONS": 8,
    }
    try:
        celery_processes.worker(**env)
        celery_processes.beat(BELLCMS_SCHEDULER_SECONDS=2, **env)
        scheduled_now(issue)

        wait_for(lambda: len(inbox.recipients()) >= 500, timeout=120, what="the send under way")
        broker.terminate()
        broker.wait(timeout=10)
        time.sleep(3)
        broker = redis_start(port)

        wait_for(lambda: len(inbox.recipients()) >= 1500, timeout=120, what="the send to go on")
        controller.stop()
        down_at = len(inbox.recipients())
        time.sleep(30)
        assert len(inbox.recipients()) == down_at
        controller.start()  # the same server, on the same port, back

        wait_for(lambda: settled(issue), timeout=240, interval=1, what="the issue to be sent")
    finally:
        broker.terminate()
        broker.wait(timeout=10)

    # A message in flight when the server went away may have arrived: at most one a
    # connection, each recorded.
    once_each_but_uncertain(issue, inbox.recipients(), readers, most_uncertain=8)


def test_two_scheduler_passes_at_once_send_each_message_once(smtp, celery_processes, editor):
    _, inbox = smtp
    issue = sample_issue_ready(editor)
    readers = audience(issue.newsletter, 300, prefix="reader")
    scheduled_now(issue)
    celery_processes.worker()
    passes = [
        subprocess.Popen(
            [*MANAGE, "publish_due"],
            env=celery_processes.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in passes]
    assert [p.returncode for p in passes] == [0, 0]
    assert sum("Published" in output for output in outputs) == 1

    wait_for(lambda: settled(issue), timeout=120, interval=1, what="the issue to be sent")
    received = copies(inbox)
    assert sorted(received) == sorted(readers) and set(received.values()) == {1}
