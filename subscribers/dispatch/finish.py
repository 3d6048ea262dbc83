"""A sending ends: its issue becomes sent (its notice marked sent) once no delivery is pending
or claimed; the scheduler's pass wakes sendings that went quiet."""

import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from issues.corrections import correction_notice_finish
from issues.models import IssueStatus

from ..models import Delivery, DeliveryStatus, Dispatch, DispatchState
from .ledger import in_flight_flag, pending_due, sending_key
from .start import dispatch_enqueue

logger = logging.getLogger(__name__)


def dispatch_counts(*, issue_id: int | None = None, notice_id: int | None = None) -> dict:
    """Deliveries of a sending by status, every status present (0 when none)."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    found = Counter(
        dict(
            Delivery.objects.filter(**key).order_by().values_list("status").annotate(n=Count("pk"))
        )
    )
    return {status: found.get(status, 0) for status in DeliveryStatus.values}


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(
        f"{counts[status]} {label.lower()}"
        for status, label in DeliveryStatus.choices
        if counts[status]
    )


def _cancelled_leftovers(key: dict) -> None:
    """A cancelled sending's rows that came back after the cancel: put back to pending by a
    batch in flight (a temporary refusal, the mail server lost), or claimed by a worker that
    died (no claim comes to recover them any more). They are cancelled too; of a dead batch,
    the row that may have been in flight keeps that mark."""
    expired = in_flight_flag(
        Delivery.objects.filter(
            status=DeliveryStatus.CLAIMED, claimed_until__lt=timezone.now(), **key
        )
        .order_by("pk")
        .values_list("pk", "claim")
    )
    Delivery.objects.filter(Q(status=DeliveryStatus.PENDING) | Q(pk__in=expired), **key).update(
        status=DeliveryStatus.CANCELLED, claim=None, claimed_until=None, next_attempt_at=None
    )


def dispatch_finish_if_done(*, issue_id: int | None = None, notice_id: int | None = None) -> bool:
    """Make the issue sent (the notice sent) once no delivery is pending or claimed; True if
    this call did."""
    from issues.services import issue_finish

    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    dispatch = Dispatch.objects.filter(**key).select_related("issue", "notice").first()
    if dispatch is None:
        return False
    if dispatch.state == DispatchState.CANCELLED:
        _cancelled_leftovers(key)
    if Delivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.CLAIMED], **key
    ).exists():
        return False
    with transaction.atomic():
        if issue_id is not None:
            summary = _summary(dispatch_counts(issue_id=issue_id))
            finished = issue_finish(issue=dispatch.issue, comment=summary)
        else:
            finished = correction_notice_finish(notice=dispatch.notice)
        if finished:
            # Paused during its last batch, a sending is finished all the same.
            Dispatch.objects.filter(
                state__in=[DispatchState.RUNNING, DispatchState.PAUSED], **key
            ).update(state=DispatchState.FINISHED)
            Dispatch.objects.filter(**key).update(finished_at=timezone.now(), last_error="")
    return finished


def dispatch_wake_quiet(now=None) -> list[int]:
    """The scheduler's safety net: queue tasks for sendings that went quiet with work due
    (their tasks lost with a restarted broker, a killed worker's rows past their lease), and
    finish those with nothing left. Returns the ids of the issues woken (notices are woken
    too, and logged)."""
    now = now or timezone.now()
    woken = []
    live = Q(issue__status=IssueStatus.SENDING) | Q(
        notice__isnull=False, notice__sent_at__isnull=True
    )
    for dispatch in Dispatch.objects.filter(live).select_related("issue", "notice"):
        key = sending_key(issue_id=dispatch.issue_id, notice_id=dispatch.notice_id)
        if dispatch_finish_if_done(**key):
            continue
        if dispatch.state != DispatchState.RUNNING:
            continue
        if dispatch.last_active_at and dispatch.last_active_at > now - timedelta(
            seconds=settings.DISPATCH_QUIET_SECONDS
        ):
            continue
        due = pending_due(now) | Q(status=DeliveryStatus.CLAIMED, claimed_until__lt=now)
        if Delivery.objects.filter(due, **key).exists():
            dispatch_enqueue(**key)
            if dispatch.issue_id is not None:
                woken.append(dispatch.issue_id)
            else:
                logger.info("Correction notice %s: woken.", dispatch.notice_id)
    return woken
