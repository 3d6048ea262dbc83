"""Sending through an ESP's batch API (django-anymail's Mailgun backend) to a local mock of it
(bench/mock_esp.py, a real HTTP server): one call per batch of recipients with each one's links
as merge data, each recipient's outcome on record, a timeout recorded as uncertain and never
sent again, a refused call or an ESP that cannot be reached waited out, a worker killed during
a call: nothing lost, its rows on record as uncertain."""

import collections
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import resolve

from bench.mock_esp import MockEsp
from subscribers.dispatch import transports
from subscribers.dispatch.loop import dispatch_run
from subscribers.dispatch.progress import dispatch_progress
from subscribers.dispatch.transports import transport_close
from subscribers.models import Delivery, Dispatch
from tests.dispatching import once_each_but_uncertain
from tests.factories import published_issue as published
from tests.processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)
S = Delivery.Status
MAILGUN = "anymail.backends.mailgun.EmailBackend"


@pytest.fixture
def esp(settings):
    """The mock ESP, and the settings that send to it (at most 10 recipients a call). Set
    through pytest-django's ``settings``, which puts them back after the test."""
    server = MockEsp(most=500).start()
    settings.EMAIL_BACKEND = MAILGUN
    settings.ANYMAIL = settings.ANYMAIL | {
        "MAILGUN_API_KEY": "key-test",
        "MAILGUN_API_URL": server.url,
        "REQUESTS_TIMEOUT": 1.0,
    }
    settings.DISPATCH_ESP_BATCH_SIZE = 10
    yield server
    transport_close()
    server.stop()


def statuses(issue) -> dict[str, int]:
    return {k: v for k, v in dispatch_progress(issue_id=issue.pk).counts.items() if v}


def test_one_call_per_batch_carries_each_subscribers_own_links(esp, newsletter, settings):
    settings.DISPATCH_CONNECTIONS = 1
    issue, subscribers = published(newsletter, 25)

    assert dispatch_run(issue_id=issue.pk).again_in is None

    assert [len(call.to) for call in esp.calls] == [10, 10, 5]
    assert sorted(esp.recipients()) == sorted(s.email for s in subscribers)
    call = esp.calls[0]
    # The body once, with the ESP's merge fields; each recipient's values beside it.
    assert "%recipient.unsubscribe_url%" in call.first("text")
    assert "%recipient.unsubscribe_url%" in call.first("html")
    assert call.first("h:List-Unsubscribe-Post") == "List-Unsubscribe=One-Click"
    deliveries = {
        d.subscriber.email: d
        for d in Delivery.objects.filter(issue=issue).select_related("subscriber")
    }
    for address, values in call.variables.items():
        delivery = deliveries[address]
        assert resolve(urlsplit(values["unsubscribe_url"]).path).url_name == "unsubscribe"
        assert values["unsubscribe_url"] in values["h:List-Unsubscribe"]
        assert values["h:Message-Id"] == delivery.message_id
        assert values["v:delivery"] == str(delivery.pk)
        assert delivery.status == S.SENT and delivery.attempts == 1
        assert delivery.smtp_response.startswith("queued by Mailgun as <")
    # Every link is a different, working one.
    links = [v["unsubscribe_url"] for c in esp.calls for v in c.variables.values()]
    assert len(set(links)) == 25
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.FINISHED


def test_several_connections_share_the_calls(esp, newsletter, settings):
    if connection.vendor != "postgresql":
        pytest.skip("several connections need PostgreSQL")
    settings.DISPATCH_CONNECTIONS = 4
    issue, subscribers = published(newsletter, 95)

    assert dispatch_run(issue_id=issue.pk).again_in is None

    received = collections.Counter(esp.recipients())
    assert sorted(received) == sorted(s.email for s in subscribers)
    assert set(received.values()) == {1}
    assert all(len(call.to) <= 10 for call in esp.calls)
    assert statuses(issue) == {S.SENT: 95}


def test_a_call_with_no_answer_is_uncertain_and_never_sent_again(esp, newsletter, settings):
    settings.DISPATCH_CONNECTIONS = 1
    issue, subscribers = published(newsletter, 30)
    esp.hang = 3.0

    outcome = dispatch_run(issue_id=issue.pk)

    # The first call timed out: its ten rows may have been sent. The task stopped there.
    assert (outcome.again_in, outcome.transport_failures) == (5, 1)
    assert statuses(issue) == {S.UNCERTAIN: 10, S.PENDING: 20}
    uncertain = Delivery.objects.filter(issue=issue, status=S.UNCERTAIN).first()
    assert uncertain.smtp_response.startswith("no answer, may have been sent: Mailgun")
    assert "ReadTimeout" in Dispatch.objects.get(issue=issue).last_error

    esp.hang = 0.0
    assert dispatch_run(issue_id=issue.pk, transport_failures=1).again_in is None

    # The ESP had the first call's ten: no one got two copies.
    received = collections.Counter(esp.recipients())
    assert sorted(received) == sorted(s.email for s in subscribers)
    assert set(received.values()) == {1}
    assert statuses(issue) == {S.SENT: 20, S.UNCERTAIN: 10}
    assert dispatch_progress(issue_id=issue.pk).balanced


def test_a_refused_call_and_an_unreachable_esp_are_waited_out(esp, newsletter, settings):
    settings.DISPATCH_CONNECTIONS = 1
    issue, subscribers = published(newsletter, 12)
    esp.fail = (401, "Invalid private key")

    assert dispatch_run(issue_id=issue.pk).again_in == 5
    assert statuses(issue) == {S.PENDING: 12}
    assert "401" in Dispatch.objects.get(issue=issue).last_error
    assert not Delivery.objects.filter(issue=issue, in_flight_at_crash=True).exists()

    transport_close()
    with override_settings(
        ANYMAIL=settings.ANYMAIL | {"MAILGUN_API_URL": f"http://127.0.0.1:{free_port()}/v3"}
    ):
        assert dispatch_run(issue_id=issue.pk, transport_failures=1).again_in == 10
    assert statuses(issue) == {S.PENDING: 12}
    assert not Delivery.objects.filter(issue=issue, in_flight_at_crash=True).exists()
    transport_close()

    esp.fail = None
    assert dispatch_run(issue_id=issue.pk, transport_failures=2).again_in is None
    assert sorted(esp.recipients()) == sorted(s.email for s in subscribers)
    assert statuses(issue) == {S.SENT: 12}
    assert Dispatch.objects.get(issue=issue).last_error == ""


def test_an_address_the_esp_refuses_fails_alone(esp, newsletter, settings):
    settings.DISPATCH_CONNECTIONS = 1
    issue, subscribers = published(newsletter, 10)
    bad = subscribers[6].email
    esp.invalid = {bad}

    assert dispatch_run(issue_id=issue.pk).again_in is None

    # Halved until the address stood alone: the nine others went out once each.
    received = collections.Counter(esp.recipients())
    assert sorted(received) == sorted(s.email for s in subscribers if s.email != bad)
    assert set(received.values()) == {1}
    failed = Delivery.objects.get(issue=issue, subscriber=subscribers[6])
    assert failed.status == S.FAILED
    assert "400" in failed.smtp_response and "not valid" in failed.smtp_response
    assert not failed.in_flight_at_crash
    assert statuses(issue) == {S.SENT: 9, S.FAILED: 1}
    assert esp.refused_calls <= 5


def test_an_esp_that_refuses_every_call_is_waited_out_not_failed(esp, newsletter, settings):
    settings.DISPATCH_CONNECTIONS = 1
    issue, subscribers = published(newsletter, 10)
    esp.fail = (400, "'from' parameter is missing")

    assert dispatch_run(issue_id=issue.pk).again_in == 5

    # Three calls (the batch, then its two halves) told it is not about the recipients.
    assert statuses(issue) == {S.PENDING: 10}
    assert "400" in Dispatch.objects.get(issue=issue).last_error
    assert not Delivery.objects.filter(issue=issue, in_flight_at_crash=True).exists()
    esp.fail = None
    transport_close()
    assert dispatch_run(issue_id=issue.pk, transport_failures=1).again_in is None
    assert sorted(esp.recipients()) == sorted(s.email for s in subscribers)


class Killed(BaseException):
    """The worker process dies (kill -9) while a call is out."""


def test_a_worker_killed_during_a_call_loses_nothing_and_its_rows_are_uncertain(
    esp, newsletter, settings, monkeypatch
):
    settings.DISPATCH_CONNECTIONS = 1
    issue, subscribers = published(newsletter, 15)
    real_send = transports.EspBatchTransport.send_batch

    def send_then_die(self, message):
        real_send(self, message)
        raise Killed

    monkeypatch.setattr(transports.EspBatchTransport, "send_batch", send_then_die)
    with pytest.raises(Killed):
        dispatch_run(issue_id=issue.pk)
    monkeypatch.setattr(transports.EspBatchTransport, "send_batch", real_send)
    transport_close()
    assert statuses(issue) == {S.CLAIMED: 10, S.PENDING: 5}

    # Its lease runs out; the next task sends everything, the dead call's rows again.
    Delivery.objects.filter(issue=issue, status=S.CLAIMED).update(claimed_until=issue.created_at)
    assert dispatch_run(issue_id=issue.pk).again_in is None

    twice = once_each_but_uncertain(
        issue, esp.recipients(), [s.email for s in subscribers], most_uncertain=10
    )
    assert len(twice) == 10
    assert statuses(issue) == {S.SENT: 5, S.UNCERTAIN: 10}
