"""When a consent recorded elsewhere may (re)subscribe someone: one rule for every way in.

A file (the CSV import, the Ghost migration) says that a person agreed to be mailed, and when.
The person may have told us otherwise since: unsubscribed, bounced, complained, been
suppressed or erased. What they told us last wins, and a consent without a date is not later
than anything. The sign-up form and the preferences page never need this rule: their consent
is the person's own click, now, through a link sent to the address.
"""

from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .models import SubscriberStatus

# Nothing this system imports was recorded before email newsletters existed; an older date is
# a typing error or a placeholder (0001-01-01), not a consent.
CONSENT_EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
# A file written on a machine whose clock runs a little ahead is still believed; a date further
# ahead would beat every unsubscribe until then, so it is refused.
CONSENT_CLOCK_SKEW = timedelta(minutes=5)
# Statuses no file can undo: the address bounced, or its owner reported us as spam.
STOPPED = frozenset({SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED})


class UnknownLeaving:
    """An unsubscribe whose time was never recorded: later than any consent a file holds."""

    def __repr__(self):
        return "UNKNOWN_LEAVING"


UNKNOWN_LEAVING = UnknownLeaving()


def consent_latest() -> datetime:
    """The latest date a file may record: now, give or take a clock a little ahead."""
    return timezone.now() + CONSENT_CLOCK_SKEW


def consent_date_parse(
    value: str, *, column: str, latest: datetime | None = None
) -> datetime | None:
    """A date and time from a file, aware, within bounds; None when the cell is blank.

    ``latest`` is ``consent_latest()``, taken once by a caller that parses many.
    Raises ``ValueError`` with a message naming the column for text that is not a date, or a
    date before 1990 or in the future: such a date would be stored, compared with an
    unsubscribe and shown in the newsroom's time zone, and none of that can be trusted.
    """
    value = value.strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"{column} is not a date and time: {value[:40]!r}")
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=UTC)
    try:
        # An offset can carry the value out of datetime's range (0001-01-01T00:00+01:00).
        parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{column} is out of range: {value[:40]!r}") from None
    if parsed < CONSENT_EARLIEST:
        raise ValueError(f"{column} is before 1990: {value[:40]!r}")
    if parsed > (latest or consent_latest()):
        raise ValueError(f"{column} is in the future: {value[:40]!r}")
    return parsed


def consent_refusal(
    *, consent_at: datetime | None, status: str, left_at: datetime | UnknownLeaving | None
) -> str | None:
    """Why a consent a file records may not subscribe a stored subscriber; None if it may.

    ``status`` is the subscriber's; ``left_at`` when they last left the newsletter (or all of
    them), ``UNKNOWN_LEAVING`` if they left at a time nobody recorded, None if they never left.
    Suppressed and erased addresses are refused before this is asked: they have no subscriber
    to compare with. The answer is a reason for the import's report.
    """
    if status in STOPPED:
        return "the address bounced or complained"
    if left_at is None:
        return None
    if consent_at is None:
        return "unsubscribed; the file gives no date for its consent"
    if left_at is UNKNOWN_LEAVING:
        return "unsubscribed; when is not recorded, so only a new sign-up brings them back"
    if consent_at <= left_at:
        return "unsubscribed after the consent the file records"
    return None
