"""Sending a published issue, batch by batch, to a real SMTP server (aiosmtpd): every
subscriber once over one connection, outcomes recorded, refusals retried or failed, a dead
mail server waited out, a dead worker's batch recovered, editors' pause / resume / cancel, and
``dispatch_status``. Batch tasks run in this process here; tests/e2e run them in real workers.
"""

import datetime as dt
import io
import json
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from issues.models import Issue, IssueEvent
from issues.services import WorkflowError
from subscribers.dispatch.control import dispatch_cancel, dispatch_pause, dispatch_resume
from subscribers.dispatch.finish import dispatch_wake_quiet
from subscribers.dispatch.loop import deliveries_claim, dispatch_run
from subscribers.dispatch.progress import dispatch_progress
from subscribers.dispatch.transports import transport_close
from subscribers.models import Delivery, Dispatch, Subscriber, Suppression
from subscribers.services import address_suppress, subscriber_erase, subscriber_unsubscribe_all
from tests.factories import BlockFactory
from tests.factories import published_issue as published
from tests.processes import free_port

# Transactional: on PostgreSQL each sent message's record is committed on its own, outside any
# transaction, while the next message goes out.
pytestmark = pytest.mark.django_db(transaction=True)
S = Delivery.Status


def statuses(issue) -> dict[str, int]:
    return {k: v for k, v in dispatch_progress(issue_id=issue.pk).counts.items() if v}


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_every_subscriber_gets_the_issue_once_over_one_connection(
    mail_server, newsletter, pipelining, settings
):
    settings.DISPATCH_CONNECTIONS = 1
    mail_server.pipelining = pipelining
    issue, subscribers = published(newsletter, 130)
    BlockFactory(story=issue.stories.get(), text=".NET readers, a line that starts with a dot.")

    outcome = dispatch_run(issue_id=issue.pk)

    assert outcome.again_in is None
    assert sorted(mail_server.recipients()) == sorted(s.email for s in subscribers)
    assert len(mail_server.peers) == 1
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    finish = IssueEvent.objects.get(issue=issue, action="finish")
    assert finish.comment == "130 sent"
    by_address = {message["To"]: message for _, message in mail_server.messages}
    text = by_address[subscribers[0].email].get_body(("plain",)).get_content()
    assert "\n.NET readers, a line that starts with a dot." in text
    for delivery in Delivery.objects.filter(issue=issue).select_related("subscriber"):
        assert delivery.status == S.SENT and delivery.attempts == 1
        assert delivery.sent_at is not None and delivery.claim is None
        assert delivery.smtp_response == "250 2.0.0 Message accepted for delivery"
        assert by_address[delivery.subscriber.email]["Message-ID"] == delivery.message_id
    progress = dispatch_progress(issue_id=issue.pk)
    assert progress.balanced and progress.percent == 100.0
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.FINISHED


def test_who_leaves_after_the_snapshot_is_skipped(mail_server, newsletter):
    issue, subscribers = published(newsletter, 6)
    left, suppressed, erased, *stay = subscribers
    subscriber_unsubscribe_all(subscriber=left, how="test")
    address_suppress(email=suppressed.email, reason="complaint")
    erased_email = erased.email
    subscriber_erase(subscriber=erased)
    # A suppression with no subscriber change (an entry added by hand to the list) counts too.
    Subscriber.objects.filter(pk=stay[0].pk).update(email="kept@mail.example")
    address_suppress(email="kept@mail.example", reason="manual")
    Subscriber.objects.filter(pk=stay[0].pk).update(status=Subscriber.Status.ACTIVE)
    assert Suppression.objects.count() == 3

    dispatch_run(issue_id=issue.pk)

    assert sorted(mail_server.recipients()) == sorted(s.email for s in stay[1:])
    assert erased_email not in mail_server.recipients()
    assert statuses(issue) == {S.SENT: 2, S.SKIPPED: 4}
    assert dispatch_progress(issue_id=issue.pk).balanced
    assert Delivery.objects.filter(issue=issue, subscriber=None, status=S.SKIPPED).count() == 1


@pytest.mark.parametrize("pipelining", [True, False], ids=["pipelined", "one-by-one"])
def test_refusals_permanent_fail_and_suppress_temporary_retry(mail_server, newsletter, pipelining):
    mail_server.pipelining = pipelining
    issue, (unknown, greylisted, *others) = published(newsletter, 5)
    mail_server.refuse[unknown.email] = "550 5.1.1 No such user"
    mail_server.refuse[greylisted.email] = "451 4.7.1 Greylisted, try again later"

    outcome = dispatch_run(issue_id=issue.pk)

    failed = Delivery.objects.get(issue=issue, subscriber=unknown)
    assert failed.status == S.FAILED and failed.smtp_response == "550 5.1.1 No such user"
    unknown.refresh_from_db()
    assert unknown.status == Subscriber.Status.BOUNCED
    waiting = Delivery.objects.get(issue=issue, subscriber=greylisted)
    assert waiting.status == S.PENDING and waiting.attempts == 1
    assert waiting.smtp_response.startswith("451 4.7.1")
    assert waiting.next_attempt_at > timezone.now() + dt.timedelta(minutes=4)
    assert 1 <= outcome.again_in <= 60
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING

    # Later the server takes it: the retry, once due, is sent.
    del mail_server.refuse[greylisted.email]
    Delivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now())
    assert dispatch_run(issue_id=issue.pk).again_in is None
    waiting.refresh_from_db()
    assert waiting.status == S.SENT and waiting.attempts == 2
    assert sorted(mail_server.recipients()) == sorted(s.email for s in [greylisted, *others])
    assert statuses(issue) == {S.SENT: 4, S.FAILED: 1}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


@override_settings(DISPATCH_MAX_ATTEMPTS=2)
def test_a_temporary_refusal_that_lasts_ends_as_failed(mail_server, newsletter):
    issue, (greylisted,) = published(newsletter, 1)
    mail_server.refuse[greylisted.email] = "452 4.2.2 Mailbox full"
    for _attempt in range(2):
        Delivery.objects.filter(issue=issue).update(next_attempt_at=None)
        dispatch_run(issue_id=issue.pk)
    delivery = Delivery.objects.get(issue=issue)
    assert (delivery.status, delivery.attempts) == (S.FAILED, 2)
    assert delivery.smtp_response == "452 4.2.2 Mailbox full"
    greylisted.refresh_from_db()
    assert greylisted.status == Subscriber.Status.ACTIVE  # full today, not gone


def test_a_dead_mail_server_is_waited_out(mail_server, newsletter):
    issue, subscribers = published(newsletter, 50)
    with override_settings(EMAIL_PORT=free_port()):
        outcome = dispatch_run(issue_id=issue.pk)
        assert (outcome.again_in, outcome.transport_failures) == (5, 1)
        assert dispatch_run(issue_id=issue.pk, transport_failures=1).again_in == 10
    assert statuses(issue) == {S.PENDING: 50}
    assert "cannot connect" in Dispatch.objects.get(issue=issue).last_error
    transport_close()

    assert dispatch_run(issue_id=issue.pk, transport_failures=2).again_in is None
    assert sorted(mail_server.recipients()) == sorted(s.email for s in subscribers)
    assert statuses(issue) == {S.SENT: 50}
    assert Dispatch.objects.get(issue=issue).last_error == ""


def test_a_dead_workers_batch_is_sent_and_its_message_in_flight_marked(mail_server, newsletter):
    issue, subscribers = published(newsletter, 8)
    # A worker claimed five, had sent two when it was killed: its lease runs out.
    claim, rows = deliveries_claim(issue_id=issue.pk, newsletter_id=newsletter.pk, size=5)
    for row in rows[:2]:
        Delivery.objects.filter(pk=row.pk).update(
            status=S.SENT, claim=None, claimed_until=None, sent_at=timezone.now()
        )
    assert dispatch_run(issue_id=issue.pk).again_in is not None  # its rows are still leased
    assert Delivery.objects.filter(claim=claim).count() == 3
    Delivery.objects.filter(claim=claim).update(claimed_until=timezone.now())

    assert dispatch_run(issue_id=issue.pk).again_in is None

    in_flight = Delivery.objects.get(pk=rows[2].pk)
    assert in_flight.status == S.UNCERTAIN and in_flight.sent_at is not None
    assert statuses(issue) == {S.SENT: 7, S.UNCERTAIN: 1}
    sent_before = {Delivery.objects.get(pk=row.pk).subscriber.email for row in rows[:2]}
    assert sorted(mail_server.recipients()) == sorted(
        s.email for s in subscribers if s.email not in sent_before
    )


def test_editors_pause_resume_and_cancel(mail_server, newsletter, editor, journalist):
    issue, _ = published(newsletter, 120)
    with pytest.raises(WorkflowError) as refused:
        dispatch_pause(issue=issue, acting_user=journalist)
    assert refused.value.code == "forbidden"

    dispatch_pause(issue=issue, acting_user=editor)
    assert dispatch_run(issue_id=issue.pk).again_in is None
    assert mail_server.recipients() == []
    with pytest.raises(WorkflowError, match="only a running sending can be paused"):
        dispatch_pause(issue=issue, acting_user=editor)

    with mock.patch("subscribers.dispatch.control.dispatch_enqueue") as enqueue:
        dispatch_resume(issue=issue, acting_user=editor)
    enqueue.assert_called_once_with(issue_id=issue.pk)
    # One batch a connection goes out (the task's time is up after it), then the editor
    # cancels.
    assert dispatch_run(issue_id=issue.pk, seconds=0.001).again_in == 0
    sent = len(mail_server.recipients())
    assert 0 < sent < 120
    dispatch_cancel(issue=issue, acting_user=editor)

    assert dispatch_run(issue_id=issue.pk).again_in is None
    assert len(mail_server.recipients()) == sent
    assert statuses(issue) == {S.SENT: sent, S.CANCELLED: 120 - sent}
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    log = IssueEvent.objects.filter(issue=issue).order_by("pk").values_list("action", flat=True)
    assert list(log)[-4:] == ["pause_sending", "resume_sending", "cancel_sending", "finish"]
    with pytest.raises(WorkflowError, match="is not being sent"):
        dispatch_resume(issue=issue, acting_user=editor)


def test_dispatch_status_prints_the_counts_and_the_invariant(mail_server, newsletter):
    issue, (unknown, *_rest) = published(newsletter, 4)
    mail_server.refuse[unknown.email] = "550 5.1.1 No such user"
    dispatch_run(issue_id=issue.pk)
    out = io.StringIO()
    call_command("dispatch_status", str(issue.pk), stdout=out)
    text = out.getvalue()
    assert "sent, sending finished" in text
    assert "3  sent — accepted by the mail server\n" in text
    assert "1  failed — refused by the mail server for good" in text
    assert "4  in all = audience" in text
    assert f"{unknown.email}: 550 5.1.1 No such user" in text

    out = io.StringIO()
    call_command("dispatch_status", str(issue.pk), "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["counts"]["sent"] == 3 and data["counts"]["failed"] == 1
    assert data["balanced"] is True and data["audience"] == 4
    assert data["lag_seconds"] > 0


def test_the_scheduler_wakes_a_quiet_sending_and_finishes_a_done_one(newsletter):
    issue, _ = published(newsletter, 3)
    Dispatch.objects.filter(issue=issue).update(
        last_active_at=timezone.now() - dt.timedelta(minutes=5)
    )
    # Eager tasks in tests: waking it sends it (locmem backend) and finishes it.
    assert dispatch_wake_quiet() == [issue.pk]
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert dispatch_wake_quiet() == []


def test_a_database_lost_mid_batch_stops_it_and_its_unrecorded_message_is_marked(
    mail_server, newsletter, monkeypatch
):
    import psycopg
    from django.db import OperationalError, connection

    from subscribers.dispatch import loop

    if connection.vendor != "postgresql":
        pytest.skip("the record overlapping the next message is PostgreSQL's (SQLite is local)")
    issue, subscribers = published(newsletter, 6)
    real_send = loop._Sender.send
    sent = []

    def send_and_lose_the_database_after_the_third(self, row, **kwargs):
        accepted = real_send(self, row, **kwargs)
        sent.append(row.pk)
        if len(sent) == 3:
            # The server goes away (restarted, failed over) with this message's record unsent.
            pid = connection.connection.info.backend_pid
            with psycopg.connect(**connection.get_connection_params()) as other:
                other.execute("SELECT pg_terminate_backend(%s)", [pid])
        return accepted

    monkeypatch.setattr(loop._Sender, "send", send_and_lose_the_database_after_the_third)
    with pytest.raises(OperationalError):
        dispatch_run(issue_id=issue.pk)
    connection.close()
    monkeypatch.setattr(loop._Sender, "send", real_send)

    # Two recorded; the third went out unrecorded and nothing after it.
    assert len(mail_server.recipients()) == 3
    assert statuses(issue) == {S.SENT: 2, S.CLAIMED: 4}
    # The batch's lease runs out; the next task sends the rest, the third again, marked.
    Delivery.objects.filter(issue=issue, status=S.CLAIMED).update(claimed_until=timezone.now())
    assert dispatch_run(issue_id=issue.pk).again_in is None
    assert statuses(issue) == {S.SENT: 5, S.UNCERTAIN: 1}
    assert Delivery.objects.get(pk=sent[2]).status == S.UNCERTAIN
    assert sorted(mail_server.recipients()) == sorted(
        [s.email for s in subscribers] + [Delivery.objects.get(pk=sent[2]).subscriber.email]
    )


def test_an_answer_with_a_nul_byte_is_kept_without_it(mail_server, newsletter):
    issue, (odd, *others) = published(newsletter, 3)
    # PostgreSQL text holds no NUL: stored as is, the answer would fail the batch instead.
    mail_server.refuse[odd.email] = "550 5.1.1 No\x00such user"

    assert dispatch_run(issue_id=issue.pk).again_in is None

    failed = Delivery.objects.get(issue=issue, subscriber=odd)
    assert failed.status == S.FAILED and failed.smtp_response == "550 5.1.1 No such user"
    assert sorted(mail_server.recipients()) == sorted(s.email for s in others)


def test_a_worker_told_to_stop_while_the_database_hangs_stops_at_once(
    mail_server, newsletter, monkeypatch
):
    import signal
    import time

    import psycopg
    from django.db import connection

    from subscribers.dispatch import loop

    if connection.vendor != "postgresql":
        pytest.skip("the record overlapping the next message is PostgreSQL's (SQLite is local)")
    issue, subscribers = published(newsletter, 4)
    first = Delivery.objects.filter(issue=issue).order_by("pk").first()
    other = psycopg.connect(**connection.get_connection_params())
    real_send = loop._Sender.send

    def send_then_hang_the_database(self, row, **kwargs):
        accepted = real_send(self, row, **kwargs)
        if row.pk == first.pk:
            # Another session holds the first row: its record waits, and so does the second
            # message's final dot.
            other.execute("SELECT 1 FROM subscribers_delivery WHERE id = %s FOR UPDATE", [row.pk])
        return accepted

    class Stop(BaseException):
        pass

    def stop(signum, frame):
        raise Stop

    monkeypatch.setattr(loop._Sender, "send", send_then_hang_the_database)
    # Should the worker not stop, the lock goes after a while (the server ends that session):
    # the test fails instead of hanging.
    other.execute("SET idle_in_transaction_session_timeout = '8s'")
    previous = signal.signal(signal.SIGALRM, stop)
    started = time.monotonic()
    try:
        # The worker is told to stop (Celery's cold shutdown raises in the task) a second in.
        signal.setitimer(signal.ITIMER_REAL, 1.0)
        with pytest.raises(Stop):
            dispatch_run(issue_id=issue.pk)
        stopped_after = time.monotonic() - started
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        other.close()
    monkeypatch.setattr(loop._Sender, "send", real_send)
    assert stopped_after < 5

    # Only the first message went out; once the lock is gone its record lands.
    assert mail_server.recipients() == [first.subscriber.email]
    deadline = time.monotonic() + 10
    while Delivery.objects.get(pk=first.pk).status != S.SENT and time.monotonic() < deadline:
        time.sleep(0.05)
    assert statuses(issue) == {S.SENT: 1, S.CLAIMED: 3}
    # The rest are sent once the batch's lease runs out; the second (its data sent, not its
    # final dot) is resent marked, as any message that may have been in flight.
    Delivery.objects.filter(issue=issue, status=S.CLAIMED).update(claimed_until=timezone.now())
    assert dispatch_run(issue_id=issue.pk).again_in is None
    assert statuses(issue) == {S.SENT: 3, S.UNCERTAIN: 1}
    assert sorted(mail_server.recipients()) == sorted(s.email for s in subscribers)


def test_a_worker_that_stalled_past_its_lease_stops_and_flags_the_row(
    mail_server, newsletter, monkeypatch
):
    import uuid

    from subscribers.dispatch import loop

    issue, _ = published(newsletter, 5)
    real_send = loop._Sender.send

    def send_then_lose_the_batch(self, row, **kwargs):
        sent = real_send(self, row, **kwargs)
        # Meanwhile the lease ran out and another worker took this batch over.
        Delivery.objects.filter(claim__isnull=False).update(claim=uuid.uuid4())
        return sent

    monkeypatch.setattr(loop._Sender, "send", send_then_lose_the_batch)
    claim, rows = deliveries_claim(issue_id=issue.pk, newsletter_id=newsletter.pk, size=3)
    sender = loop._Sender(issue)
    loop._batch_send(sender=sender, claim=claim, rows=rows)

    # One message went out; the batch stopped; the row it could not record says two copies
    # may exist, and the other worker's claim on the rest is untouched.
    assert len(mail_server.recipients()) == 1
    first = Delivery.objects.get(pk=rows[0].pk)
    assert first.in_flight_at_crash and first.status == S.CLAIMED
    assert Delivery.objects.filter(issue=issue, status=S.CLAIMED).count() == 3


def test_a_cancelled_sending_finishes_despite_rows_that_came_back(newsletter, editor):
    issue, _ = published(newsletter, 6)
    # A worker holds a batch of three when the editor cancels; then it dies, and a retry of
    # the batch's first row had already put it back to pending.
    claim, rows = deliveries_claim(issue_id=issue.pk, newsletter_id=newsletter.pk, size=3)
    dispatch_cancel(issue=issue, acting_user=editor)
    Delivery.objects.filter(pk=rows[0].pk).update(status=S.PENDING, claim=None)
    Delivery.objects.filter(claim=claim).update(claimed_until=timezone.now())

    assert dispatch_wake_quiet() == []

    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert statuses(issue) == {S.CANCELLED: 6}
    assert Delivery.objects.get(pk=rows[1].pk).in_flight_at_crash


def test_paused_in_its_last_batch_a_sending_ends_finished_and_clears_its_trouble(
    newsletter, editor
):
    issue, _ = published(newsletter, 2)
    Dispatch.objects.filter(issue=issue).update(last_error="cannot connect: refused")
    dispatch_pause(issue=issue, acting_user=editor)
    Delivery.objects.filter(issue=issue).update(status=S.SENT, sent_at=timezone.now())

    assert dispatch_wake_quiet() == []

    dispatch = Dispatch.objects.get(issue=issue)
    assert (dispatch.state, dispatch.last_error) == (Dispatch.State.FINISHED, "")
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
