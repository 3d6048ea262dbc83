"""The API against its own OpenAPI schema: schemathesis fuzzes every operation in-process (WSGI)
with published and unpublished rows in the database. No answer may be a server error, use a
status code the schema does not list, or differ from the schema's shape."""

import datetime as dt

import pytest
import schemathesis
from django.core.cache import cache
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from rest_framework.throttling import AnonRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from issues.models import Block, Issue
from tests.factories import BlockFactory, IssueFactory, NewsletterFactory, StoryFactory, UserFactory

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Enough to reach every parameter of every operation, few enough to take seconds.
FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def archive_rows(db):
    """Two newsletters: published issues with stories, authors and blocks, and unpublished ones."""
    now = timezone.now()
    weekly = NewsletterFactory(mirror_urls="https://mirror.example")
    russian = NewsletterFactory(name="Белл", slug="bell-ru", kicker="БЕЛЛ", language="ru")
    named = UserFactory(username="named", first_name="Jane", last_name="Doe")
    nameless = UserFactory(username="nameless")
    rows = {"issues": [], "stories": [], "authors": [named]}
    for number, (newsletter, status, published_at) in enumerate(
        [
            (weekly, Issue.Status.SENT, now - dt.timedelta(days=3)),
            (weekly, Issue.Status.CORRECTED, now - dt.timedelta(days=2)),
            (russian, Issue.Status.SENT, now - dt.timedelta(days=1)),
            (weekly, Issue.Status.DRAFT, None),
            (weekly, Issue.Status.SENT, now + dt.timedelta(days=1)),
        ],
        start=1,
    ):
        issue = IssueFactory(
            newsletter=newsletter,
            number=number,
            status=status,
            published_at=published_at,
            intro="Hello! *This* week.\n\nSecond [paragraph](https://x.example).",
        )
        rows["issues"].append(issue)
        for position, headline in enumerate(["Kremlin view", "Нефть и газ"], start=1):
            story = StoryFactory(
                issue=issue, position=position, headline=headline, authors=[named, nameless]
            )
            rows["stories"].append(story)
            for kind in Block.Kind.values:
                BlockFactory(story=story, kind=kind, text=f"A {kind} with **bold** text.")
    return rows


@pytest.fixture
def api_client_side(monkeypatch):
    """Requests go to Django's WSGI application as the test client sends them: a request must
    not close the test's database connection (and with it the transaction holding the rows)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    # The fuzz sends far more requests a minute than a reader may.
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", {"anon": "100000/minute"})
    cache.clear()
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Read from the application itself (no database needed for that). Not through
# schemathesis.pytest.from_fixture: its lazy loader sets Node._nodeid, which pytest 9.2 removed.
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", get_wsgi_application())
schema.config.generation.update(modes=list(schemathesis.GenerationMode))


@schema.parametrize()
@FUZZ
def test_api_conforms_to_its_schema(case, archive_rows, api_client_side):
    case.call_and_validate(checks=CHECKS)


def test_api_conforms_to_its_schema_for_every_row(archive_rows, api_client_side):
    """Fuzzing seldom guesses an id that exists: every row, public or not, is asked for."""
    operations = {
        "/api/v1/issues/{id}/": [issue.pk for issue in archive_rows["issues"]],
        "/api/v1/stories/{id}/": [story.pk for story in archive_rows["stories"]],
    }
    statuses = []
    for path, ids in operations.items():
        operation = schema[path]["GET"]
        for pk in ids:
            response = operation.Case(path_parameters={"id": pk}).call_and_validate(checks=CHECKS)
            statuses.append(response.status_code)
    # Three of five issues are public, with two stories each.
    assert statuses == [200, 200, 200, 404, 404] + [200] * 6 + [404] * 4
    author = archive_rows["authors"][0].pk
    for query in ({"author": author}, {"newsletter": "bell-ru", "number": 3}, {"q": "нефть"}):
        case = schema["/api/v1/stories/"]["GET"].Case(query=query)
        assert case.call_and_validate(checks=CHECKS).status_code == 200
    newsletter = schema["/api/v1/newsletters/{slug}/"]["GET"]
    for slug in ("the-bell-weekly", "bell-ru"):
        response = newsletter.Case(path_parameters={"slug": slug}).call_and_validate(checks=CHECKS)
        assert response.status_code == 200


def test_api_schema_is_valid_without_warnings():
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
