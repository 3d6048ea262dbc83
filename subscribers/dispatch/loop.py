"""The send loop of a batch task (``dispatch_run``): claim a batch, re-check each subscriber
(an unsubscribe or a suppression since the snapshot skips the row), send the rows in id order
over the process's connection, recording each outcome as soon as the server answers; until
nothing is left or the task's time is up. See the package's docstring for the whole flow."""

import dataclasses
import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone

from issues.models import CorrectionNotice, Issue
from issues.rendering import issue_render, notice_render

from ..addresses import suppression_hash_normalised
from ..models import (
    Delivery,
    DeliveryStatus,
    Dispatch,
    DispatchState,
    Suppression,
    SuppressionReason,
)
from ..services import address_suppress
from .claims import Claimed, batch_release, deliveries_claim, row_settle
from .finish import dispatch_finish_if_done
from .ledger import dispatch_is_live, sending_key, sending_named
from .message import issue_mailing_prepare
from .recording import RowLost, SentRecorder, sent_after_losing_the_row
from .transports import Refused, TransportDown, transport
from .wire import RawIssueMessage

logger = logging.getLogger(__name__)


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.DISPATCH_RETRY_SECONDS * 2 ** (attempts - 1), 3600))


class _Sender:
    """One sending's message (an issue's, or a correction notice's), built once, and the
    process's transport."""

    def __init__(self, issue: Issue | None = None, *, notice: CorrectionNotice | None = None):
        if notice is not None:
            self.name = sending_named({"notice_id": notice.pk})
            self.mailing = issue_mailing_prepare(
                rendered=notice_render(notice=notice),
                issue=notice.story.issue,
                ident=f"notice-{notice.pk}",
            )
        else:
            self.name = sending_named({"issue_id": issue.pk})
            self.mailing = issue_mailing_prepare(rendered=issue_render(issue=issue), issue=issue)
        self.transport = transport()
        self.raw = RawIssueMessage(self.mailing) if self.transport.raw else None

    def send(self, row: Claimed, *, before_final_dot):
        """Send one row's message; ``before_final_dot`` is called at the last moment before
        the message is handed over for good."""
        subscriber = _SubscriberRef(email=row.email, public_id=row.public_id)
        if self.raw is None:
            message = self.mailing.message(subscriber=subscriber)
            before_final_dot()
            return message.extra_headers["Message-ID"], self.transport.send_message(message)
        personal = self.raw.personal(subscriber=subscriber)
        accepted = self.transport.send(
            sender=self.raw.from_address,
            recipient=personal.to,
            wire=self.raw.render(personal),
            before_final_dot=before_final_dot,
        )
        return personal.message_id, accepted


@dataclasses.dataclass(frozen=True)
class _SubscriberRef:
    # What the message needs of a subscriber, read with the claim.
    email: str
    public_id: uuid.UUID


def _skip_unwanted(rows: list[Claimed]) -> list[Claimed]:
    """Skip the rows whose subscriber left since the snapshot; return the others."""
    # Stored addresses are in normal form (every path that writes one normalises it), so the
    # hash needs no second parse.
    hashes = {row.pk: suppression_hash_normalised(row.email) for row in rows if row.email}
    suppressed = set(
        Suppression.objects.filter(address_hash__in=hashes.values()).values_list(
            "address_hash", flat=True
        )
    )
    keep = [row for row in rows if row.still_wanted and hashes[row.pk] not in suppressed]
    skip = {row.pk for row in rows} - {row.pk for row in keep}
    if skip:
        Delivery.objects.filter(pk__in=skip).update(
            status=DeliveryStatus.SKIPPED, claim=None, claimed_until=None
        )
    return keep


def _batch_send(*, sender: _Sender, claim: uuid.UUID, rows: list[Claimed]) -> None:
    """Send a claimed batch in id order, recording each outcome as the server answers."""
    lease = settings.DISPATCH_LEASE_SECONDS
    renew_at = time.monotonic() + lease / 3
    rows = _skip_unwanted(rows)
    recorder = SentRecorder(claim)
    try:
        for index, row in enumerate(rows):
            if time.monotonic() >= renew_at:
                recorder.settle()
                renewed = Delivery.objects.filter(
                    claim=claim, status=DeliveryStatus.CLAIMED
                ).update(claimed_until=timezone.now() + timedelta(seconds=lease))
                if renewed < len(rows) - index:
                    # The lease ran out (this process was stopped for a while) and another
                    # worker took the rest: leave them to it.
                    logger.warning("%s: a batch lost its lease; stopping.", sender.name)
                    return
                renew_at = time.monotonic() + lease / 3
            attempts = row.attempts + 1
            try:
                message_id, accepted = sender.send(row, before_final_dot=recorder.settle)
            except Refused as refusal:
                recorder.settle()
                _refused(row, claim, refusal, attempts=attempts)
                continue
            except TransportDown as down:
                # The previous row recorded (or flagged, if lost) before the rest go back.
                recorder.close()
                batch_release(claim, in_doubt=row.pk if down.in_doubt else None)
                raise
            recorder.record(row, attempts=attempts, message_id=message_id, answer=accepted.answer)
        recorder.settle()
    except RowLost as lost:
        sent_after_losing_the_row(lost.pk)
    finally:
        recorder.close()


def _refused(row: Claimed, claim: uuid.UUID, refusal, *, attempts: int) -> None:
    if refusal.temporary and attempts < settings.DISPATCH_MAX_ATTEMPTS:
        row_settle(
            row.pk,
            claim,
            status=DeliveryStatus.PENDING,
            attempts=attempts,
            smtp_response=refusal.answer,
            next_attempt_at=timezone.now() + _retry_delay(attempts),
        )
        return
    failed = row_settle(
        row.pk, claim, status=DeliveryStatus.FAILED, attempts=attempts, smtp_response=refusal.answer
    )
    if failed and refusal.hard_bounce and row.email:
        address_suppress(email=row.email, reason=SuppressionReason.HARD_BOUNCE)


@dataclasses.dataclass(frozen=True)
class RunOutcome:
    """What a batch task does next: run again in ``again_in`` seconds, or stop (None)."""

    again_in: float | None
    transport_failures: int = 0


# After the mail server failed, a task waits 5 s, then 10, 20, 40, then a minute at a time.
TRANSPORT_BACKOFF_SECONDS = (5, 10, 20, 40, 60)


def dispatch_run(
    *,
    issue_id: int | None = None,
    notice_id: int | None = None,
    transport_failures: int = 0,
    seconds: float | None = None,
) -> RunOutcome:
    """One batch task: claim and send batches of the sending (an issue's or a notice's) until
    none is left or the time is up. Returns when to run again."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    deadline = time.monotonic() + (seconds or settings.DISPATCH_TASK_SECONDS)
    sender = None
    while True:
        dispatch = (
            Dispatch.objects.select_related("issue", "notice__story__issue").filter(**key).first()
        )
        if dispatch is None or not dispatch_is_live(dispatch):
            return RunOutcome(None)
        if dispatch.state != DispatchState.RUNNING:
            dispatch_finish_if_done(**key)
            return RunOutcome(None)
        issue = dispatch.issue if issue_id is not None else dispatch.notice.story.issue
        claim, rows = deliveries_claim(newsletter_id=issue.newsletter_id, **key)
        if not rows:
            if dispatch_finish_if_done(**key):
                return RunOutcome(None)
            return RunOutcome(_seconds_until_claimable(key))
        if sender is None:
            sender = _Sender(dispatch.issue, notice=dispatch.notice)
        try:
            _batch_send(sender=sender, claim=claim, rows=rows)
        except TransportDown as down:
            wait = TRANSPORT_BACKOFF_SECONDS[
                min(transport_failures, len(TRANSPORT_BACKOFF_SECONDS) - 1)
            ]
            Dispatch.objects.filter(**key).update(last_error=down.reason)
            logger.warning(
                "%s: the mail server failed (%s); trying again in %d s.",
                sender.name,
                down.reason,
                wait,
            )
            return RunOutcome(wait, transport_failures + 1)
        if transport_failures or dispatch.last_error:
            # A batch went through: whatever trouble the sending had is over.
            transport_failures = 0
            Dispatch.objects.filter(**key).update(last_error="")
            dispatch.last_error = ""
        if time.monotonic() >= deadline:
            return RunOutcome(0)


def _seconds_until_claimable(key: dict) -> float | None:
    """How long until a row of the sending may be claimed (a retry falls due, a lease runs
    out); None when nothing is pending or claimed. At most a minute."""
    soonest = Delivery.objects.filter(
        status__in=[DeliveryStatus.PENDING, DeliveryStatus.CLAIMED], **key
    ).aggregate(
        retry=Min("next_attempt_at", filter=Q(status=DeliveryStatus.PENDING)),
        lease=Min("claimed_until", filter=Q(status=DeliveryStatus.CLAIMED)),
    )
    moments = [moment for moment in soonest.values() if moment is not None]
    if not moments:
        return None
    return max(1.0, min(60.0, (min(moments) - timezone.now()).total_seconds() + 0.5))
