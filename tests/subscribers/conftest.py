"""Fixtures of the subscribers tests."""

import re

import pytest
from django.core.cache import caches

from tests.factories import NewsletterFactory

URL_PATTERN = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """Rate-limit counters live in the cache: every test starts with none."""
    caches["default"].clear()
    yield
    caches["default"].clear()


@pytest.fixture
def newsletter(db):
    return NewsletterFactory()


def links_in(text: str, path: str) -> list[str]:
    return [url.rstrip(".,>)") for url in URL_PATTERN.findall(text) if path in url]
