"""One batch task sending over several SMTP connections at once (``DISPATCH_CONNECTIONS``), to a
real SMTP server (aiosmtpd) and PostgreSQL: everyone once, a failing connection waited out
while the others go on, a dead mail server, and a database cut in the middle: nothing lost, and
at most one message per connection sent twice, each on record as uncertain."""

import collections
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.urls import reverse

from subscribers.dispatch import loop
from subscribers.dispatch.loop import dispatch_run
from subscribers.dispatch.progress import dispatch_progress
from subscribers.dispatch.transports import transport_close
from subscribers.models import Delivery, Dispatch
from tests.dispatching import once_each_but_uncertain
from tests.factories import published_issue as published
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)
S = Delivery.Status


@pytest.fixture(autouse=True)
def postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("several connections need PostgreSQL (each thread has its own session)")


def statuses(issue) -> dict[str, int]:
    return {k: v for k, v in dispatch_progress(issue_id=issue.pk).counts.items() if v}


class RefusedOnce(dict):
    """Recipients whose RCPT gets the given reply the first time only."""

    def __getitem__(self, address):
        return self.pop(address)


def test_eight_connections_send_everyone_the_issue_once(mail_server, newsletter, settings):
    settings.DISPATCH_CONNECTIONS = 8
    issue, subscribers = published(newsletter, 400)

    outcome = dispatch_run(issue_id=issue.pk)

    assert outcome.again_in is None
    received = collections.Counter(mail_server.recipients())
    assert sorted(received) == sorted(s.email for s in subscribers)
    assert set(received.values()) == {1}
    # Eight sessions with the server, each kept for the next task.
    assert len(mail_server.peers) == 8
    assert statuses(issue) == {S.SENT: 400}
    by_address = {message["To"]: message for _, message in mail_server.messages}
    for delivery in Delivery.objects.filter(issue=issue).select_related("subscriber"):
        assert by_address[delivery.subscriber.email]["Message-ID"] == delivery.message_id
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.FINISHED


def test_a_connection_told_to_go_away_waits_while_the_others_go_on(
    mail_server, newsletter, settings, monkeypatch, client, editor, journalist
):
    settings.DISPATCH_CONNECTIONS = 4
    monkeypatch.setattr(loop, "TRANSPORT_BACKOFF_SECONDS", (0.3,))
    issue, subscribers = published(newsletter, 200)
    first = subscribers[0].email
    mail_server.refuse = RefusedOnce({first: f"421 4.7.0 <{first}> too many messages, later"})

    outcome = dispatch_run(issue_id=issue.pk)

    # One task did it all: the connection that got the 421 gave its batch back, waited, and
    # came back; no one got two copies and no one was left out.
    assert outcome.again_in is None
    received = collections.Counter(mail_server.recipients())
    assert sorted(received) == sorted(s.email for s in subscribers)
    assert set(received.values()) == {1}
    assert statuses(issue) == {S.SENT: 200}

    # Each connection's part, and the relay's, for whoever runs BellCMS...
    out = io.StringIO()
    call_command("dispatch_status", issue.pk, "--json", stdout=out)
    report = json.loads(out.getvalue())
    relay = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    assert [(r["relay"], r["connections"], r["sent"], r["failures"]) for r in report["relays"]] == [
        (relay, 4, 200, 1)
    ]
    connections = report["connections"]
    assert len(connections) == 4 and sum(row["sent"] for row in connections) == 200
    (failed,) = [row for row in connections if row["failures"]]
    assert failed["last_error"].startswith("421 4.7.0") and first in failed["last_error"]
    assert all(row["rate"] > 0 for row in connections if row["sent"])
    # ... and on the sending page, the address masked for those who may not see subscribers.
    for person, shown in ((editor, True), (journalist, False)):
        client.force_login(person)
        page = client.get(reverse("subscribers:issue_sending", args=[issue.pk]))
        text = page.content.decode()
        # Finished: no longer "sending now".
        assert f"{relay}: 4 connections; 200 sent, 1 connection failures" in text
        assert "too many messages, later" in text
        assert (first in text) == shown
        data = client.get(reverse("subscribers:issue_sending_progress", args=[issue.pk])).json()
        assert len(data["connections"]) == 4
        assert (first in json.dumps(data["connections"])) == shown


def test_a_dead_mail_server_stops_every_connection_and_the_task_waits(
    mail_server, newsletter, settings
):
    settings.DISPATCH_CONNECTIONS = 8
    issue, _ = published(newsletter, 100)
    settings.EMAIL_PORT = free_port()

    outcome = dispatch_run(issue_id=issue.pk)

    assert (outcome.again_in, outcome.transport_failures) == (5, 1)
    assert statuses(issue) == {S.PENDING: 100}
    assert "cannot connect" in Dispatch.objects.get(issue=issue).last_error
    transport_close()


def test_a_database_cut_mid_send_loses_nothing_and_each_connection_resends_at_most_one(
    mail_server, newsletter, settings, monkeypatch
):
    import psycopg

    settings.DISPATCH_CONNECTIONS = 8
    issue, subscribers = published(newsletter, 400)
    real_send = loop._Sender.send
    database = connection.settings_dict["NAME"]
    params = connection.get_connection_params()

    cut = threading.Lock()

    def send_and_cut_the_database(self, row, **kwargs):
        accepted = real_send(self, row, **kwargs)
        if len(mail_server.messages) >= 120 and cut.acquire(blocking=False):
            # The database server restarts: every session of this database ends at once.
            with psycopg.connect(**params, autocommit=True) as other:
                other.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [database],
                )
        return accepted

    monkeypatch.setattr(loop._Sender, "send", send_and_cut_the_database)
    with pytest.raises(OperationalError):
        dispatch_run(issue_id=issue.pk)
    connection.close()
    monkeypatch.setattr(loop._Sender, "send", real_send)
    cut_at = len(mail_server.messages)
    assert cut_at < 400

    # The batches' leases run out; the next task sends the rest.
    Delivery.objects.filter(issue=issue, status=S.CLAIMED).update(claimed_until=issue.created_at)
    assert dispatch_run(issue_id=issue.pk).again_in is None

    once_each_but_uncertain(
        issue, mail_server.recipients(), [s.email for s in subscribers], most_uncertain=8
    )


@pytest.fixture
def relay_counters(mail_server, settings):
    """The relay's counters in Redis (the test broker's database), emptied after the test."""
    from subscribers.dispatch import relay

    client = relay._redis()
    yield client, relay._relay()
    client.delete(*client.keys(f"{relay._relay()}:*") or ["-"])


def test_the_relay_ceiling_holds_across_workers(mail_server, newsletter, settings, relay_counters):
    client, key = relay_counters
    settings.DISPATCH_CONNECTIONS = 8
    settings.DISPATCH_MAX_CONNECTIONS = 3
    # Another worker holds two of the relay's three connections.
    far = 4e15  # microseconds: the year 2096
    client.zadd(f"{key}:connections", {"other-worker-1": far, "other-worker-2": far})
    issue, subscribers = published(newsletter, 120)

    assert dispatch_run(issue_id=issue.pk).again_in is None

    # This worker sent over the one connection left, and gave its slot back.
    assert len(mail_server.peers) == 1
    assert sorted(mail_server.recipients()) == sorted(s.email for s in subscribers)
    assert client.zcard(f"{key}:connections") == 2


def test_the_relay_rate_holds(mail_server, newsletter, settings, relay_counters):
    settings.DISPATCH_CONNECTIONS = 4
    settings.DISPATCH_MAX_RATE = 40
    issue, subscribers = published(newsletter, 120)

    assert dispatch_run(issue_id=issue.pk).again_in is None

    assert sorted(mail_server.recipients()) == sorted(s.email for s in subscribers)
    sent = sorted(Delivery.objects.filter(issue=issue).values_list("sent_at", flat=True))
    # 40 a second after a first second's worth: 120 take two seconds at least.
    assert (sent[-1] - sent[0]).total_seconds() >= 1.9
    # In no second did more than a second's worth and the burst go.
    for first, moment in enumerate(sent):
        within = [t for t in sent[first:] if (t - moment).total_seconds() < 1]
        assert len(within) <= 2 * 40 + 1


def test_a_relay_limit_with_nowhere_to_count_it_is_a_clear_error(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.DISPATCH_MAX_RATE = 50
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"
    settings.DISPATCH_LIMITS_REDIS_URL = ""
    with pytest.raises(SystemCheckError, match="DISPATCH_LIMITS_REDIS_URL"):
        call_command("check")
