"""Fixtures of the archive's tests."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from issues.models import Issue
from tests.archive.helpers import PAST


@pytest.fixture
def sample_issue(sample_path):
    """The sample issue, imported and published an hour ago."""
    call_command("import_issue", str(sample_path), stdout=StringIO(), stderr=StringIO())
    issues = Issue.objects.all()
    issues.update(status=Issue.Status.SENT, published_at=timezone.now() - PAST)
    return issues.select_related("newsletter").get()
