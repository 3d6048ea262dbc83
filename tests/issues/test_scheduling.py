"""How a schedule reads: in the newsroom's zone, with how far away it is."""

from datetime import UTC, datetime, timedelta

import pytest

from issues.models import Issue
from issues.schedule_words import schedule_describe, schedule_when

NOW = datetime(2025, 1, 27, 2, 0, tzinfo=UTC)  # 04:00 in Riga


@pytest.mark.parametrize(
    ("later", "expected"),
    [
        (timedelta(hours=3), "Mon 27 Jan 07:00 (in 3 h)"),
        (timedelta(minutes=20), "Mon 27 Jan 04:20 (in 20 min)"),
        (timedelta(days=6), "Sun 2 Feb 04:00 (in 6 days)"),
        (timedelta(hours=-2), "Mon 27 Jan 02:00 (2 h ago)"),
        (timedelta(days=365), "Tue 27 Jan 2026 04:00 (in 365 days)"),
    ],
)
def test_schedule_when_reads_in_the_newsroom_zone(settings, later, expected):
    settings.TIME_ZONE = "Europe/Riga"
    assert schedule_when(NOW + later, now=NOW) == expected


def test_schedule_describe_says_scheduled_for(settings):
    settings.TIME_ZONE = "Europe/Riga"
    issue = Issue(status="scheduled", publish_at=NOW + timedelta(hours=3))
    assert schedule_describe(issue, now=NOW) == "Scheduled for Mon 27 Jan 07:00 (in 3 h)"
    assert schedule_describe(Issue(status="draft"), now=NOW) == "Not scheduled"
