"""The confirmation crosses the real pieces: committed to PostgreSQL, queued on Redis with the
subscription's id only, sent by a Celery worker process to an SMTP server."""

import pytest

from subscribers.services import subscriber_confirm, subscriber_subscribe
from tests.factories import NewsletterFactory
from tests.subscribers.conftest import links_in

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


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
