"""The ledger's keys: which rows belong to a sending (an issue's or a correction notice's),
which are due, and which one a dead worker may have had in flight."""

from django.db.models import Q

from issues.models import IssueStatus

from ..models import Delivery, DeliveryStatus, Dispatch


def sending_key(*, issue_id: int | None = None, notice_id: int | None = None) -> dict:
    """The filter of one sending's rows (deliveries, dispatch): an issue's or a notice's."""
    if (issue_id is None) == (notice_id is None):
        raise TypeError("a sending is of exactly one of an issue and a notice")
    return {"issue_id": issue_id} if issue_id is not None else {"notice_id": notice_id}


def sending_named(key: dict) -> str:
    """A sending as the logs name it: "Issue 12", "Correction notice 3"."""
    if "issue_id" in key:
        return f"Issue {key['issue_id']}"
    return f"Correction notice {key['notice_id']}"


def pending_due(now) -> Q:
    """Deliveries waiting to be sent whose retry time, if any, has come."""
    return Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )


def in_flight_flag(expired) -> list[int]:
    """Of rows claimed by batches whose worker died, ``(pk, claim)`` in id order, mark each
    batch's lowest: a batch is sent in id order and each row recorded as the server answers,
    so that is the only one that can have been in flight. Returns every pk given."""
    first_of_claim = {}
    for pk, claim in expired:
        first_of_claim.setdefault(claim, pk)
    Delivery.objects.filter(pk__in=first_of_claim.values()).update(in_flight_at_crash=True)
    return [pk for pk, _claim in expired]


def dispatch_is_live(dispatch: Dispatch) -> bool:
    """Whether ``dispatch`` (its issue or notice read along) still has messages to send: its
    issue is sending, its notice not sent yet."""
    if dispatch.issue_id is not None:
        return dispatch.issue.status == IssueStatus.SENDING
    return dispatch.notice.sent_at is None
