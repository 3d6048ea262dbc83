"""Tokens in logged paths are redacted (subscribers.logging.TokenPathFilter, wired in LOGGING)."""

import logging

import pytest

from subscribers.emails import preferences_url
from subscribers.logging import TokenPathFilter, token_paths_redact
from subscribers.tokens import unsubscribe_token_make
from tests.factories import SubscriptionFactory

pytestmark = pytest.mark.django_db


def _token_of(path: str) -> str:
    return path.rstrip("/").split("/")[2]


def test_django_request_warnings_do_not_log_a_preferences_token(client, newsletter, caplog):
    subscription = SubscriptionFactory(newsletter=newsletter)
    path = preferences_url(subscriber=subscription.subscriber).removeprefix("http://127.0.0.1:8000")
    token = _token_of(path)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert client.get(path + "data/").status_code == 405
        assert client.get(path + "no-such-page/").status_code == 404
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Method Not Allowed (GET): /preferences/[redacted]/data/" in logged
    assert "/preferences/[redacted]/no-such-page/" in logged
    assert token not in logged
    assert token not in caplog.text


def test_unsubscribe_and_confirm_tokens_are_redacted_in_any_record(newsletter, caplog):
    subscription = SubscriptionFactory(newsletter=newsletter)
    token = unsubscribe_token_make(subscriber=subscription.subscriber, newsletter=newsletter)
    logger = logging.getLogger("tests.subscribers.logging")
    logger.addFilter(TokenPathFilter())
    try:
        with caplog.at_level(logging.INFO, logger="tests.subscribers.logging"):
            logger.warning("Not Found: %s", f"/u/{token}/x/")
            logger.warning("Forbidden: /confirm/%s/ and /subscribe/", "abc:def-123")
    finally:
        logger.filters.clear()
    messages = [record.getMessage() for record in caplog.records]
    assert messages == [
        "Not Found: /u/[redacted]/x/",
        "Forbidden: /confirm/[redacted]/ and /subscribe/",
    ]


def test_redaction_leaves_other_paths_alone():
    assert token_paths_redact("GET /subscribe/the-bell-weekly/ 200") == (
        "GET /subscribe/the-bell-weekly/ 200"
    )
    assert token_paths_redact("/preferences/AbC:1x:Zz/erase/?a=1") == (
        "/preferences/[redacted]/erase/?a=1"
    )


def test_runserver_request_lines_do_not_log_a_token(caplog):
    with caplog.at_level(logging.INFO, logger="django.server"):
        logging.getLogger("django.server").info(
            '"%s" %s %s', "POST /u/AbC:1x:Zz/ HTTP/1.1", "200", "512"
        )
    assert [record.getMessage() for record in caplog.records] == [
        '"POST /u/[redacted]/ HTTP/1.1" 200 512'
    ]
