"""When issues go out: how a schedule reads to an editor, and (with dispatch) the due pass."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import Issue, IssueStatus
from .services import issue_publish


def _relative(delta_seconds: float) -> str:
    seconds = abs(delta_seconds)
    if seconds < 60:
        return _("now")
    if seconds < 3600:
        amount, unit = round(seconds / 60), "min"
    elif seconds < 48 * 3600:
        amount, unit = round(seconds / 3600), "h"
    else:
        amount, unit = round(seconds / 86400), "d"
    span = {
        "min": ngettext("%(n)d min", "%(n)d min", amount),
        "h": ngettext("%(n)d h", "%(n)d h", amount),
        "d": ngettext("%(n)d day", "%(n)d days", amount),
    }[unit] % {"n": amount}
    if delta_seconds > 0:
        return _("in %(span)s") % {"span": span}
    return _("%(span)s ago") % {"span": span}


def schedule_when(moment: datetime, *, now: datetime | None = None) -> str:
    """“Mon 27 Jan 07:00 (in 3 h)”, in the newsroom's time zone; the year when it is not
    this one."""
    now = now or timezone.now()
    local = timezone.localtime(moment)
    same_year = local.year == timezone.localtime(now).year
    text = date_format(local, "D j M H:i" if same_year else "D j M Y H:i")
    return f"{text} ({_relative((moment - now).total_seconds())})"


def schedule_describe(issue, *, now: datetime | None = None) -> str:
    """One line on when an issue goes out, or went out: what the admin shows beside it."""
    if issue.status == "scheduled" and issue.publish_at:
        return _("Scheduled for %(when)s") % {"when": schedule_when(issue.publish_at, now=now)}
    if issue.published_at:
        return _("Published %(when)s") % {"when": schedule_when(issue.published_at, now=now)}
    return _("Not scheduled")


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
            Issue.objects.filter(status=IssueStatus.SCHEDULED, publish_at__lte=now)
            .order_by("publish_at", "pk")
            .select_for_update(skip_locked=True, of=("self",))[:PUBLISH_MAX_ISSUES_PER_PASS]
        )
        published = [
            issue.pk
            for issue in due
            if issue_publish(issue=issue).status != IssueStatus.APPROVED  # not held back
        ]
    return published
