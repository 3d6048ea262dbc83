"""The scheduler's pass: the scheduled issues whose time has come go out (dispatch follows).
How a schedule reads to an editor is ``issues.schedule_words``."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import Issue, IssueStatus
from .services import issue_publish

# Issues published per pass: each snapshots its whole audience in this pass's transaction, so
# a pass stays short; the rest go in the next pass, seconds later.
PUBLISH_MAX_ISSUES_PER_PASS = 10


def publish_due_issues(now: datetime | None = None) -> list[int]:
    """One scheduler pass: publish the scheduled issues due by ``now`` (at most
    ``PUBLISH_MAX_ISSUES_PER_PASS``, oldest first); return the ids of those it published
    (not of those held back by a story's review checks). ``published_at`` is the
    moment each is actually published, whatever ``now`` says.

    Safe to run twice, or in two processes at once: due rows are locked with SKIP LOCKED, so a
    second pass skips what the first holds, and once committed an issue is no longer scheduled.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # order_by() replaces the default ordering, which joins the newsletter; the locking
        # query reads the issue table alone and locks only its rows.
        due = list(
            Issue.objects.due(now)
            .order_by("publish_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))[:PUBLISH_MAX_ISSUES_PER_PASS]
        )
        published = [
            issue.pk
            for issue in due
            if issue_publish(issue=issue).status != IssueStatus.APPROVED  # not held back
        ]
    return published
