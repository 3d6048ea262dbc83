"""Batch tasks of a sending: claim deliveries under a lease, send them, record each outcome.

See ``subscribers.dispatch`` for the whole flow. A batch task (``dispatch_run``) claims up to
``DISPATCH_BATCH_SIZE`` pending rows of an issue at a time (``SKIP LOCKED``, so tasks in other
processes take other rows), re-checks each subscriber (an unsubscribe or a suppression since
the snapshot skips the row) and sends the rows in id order over the process's one connection,
recording each outcome as soon as the server answers. A worker that dies leaves rows claimed;
once their lease has run out the next claim puts them back to pending (``leases_recover``).
"""

import contextlib
import dataclasses
import logging
import select
import time
import uuid
from datetime import timedelta

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Min, OuterRef, Q, Subquery
from django.utils import timezone

from issues.models import CorrectionNotice, Issue

from .addresses import suppression_hash_normalised
from .dispatch import (
    dispatch_finish_if_done,
    dispatch_is_live,
    in_flight_flag,
    pending_due,
    sending_key,
)
from .models import (
    Delivery,
    DeliveryStatus,
    Dispatch,
    DispatchState,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
    SuppressionReason,
)

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Claimed:
    """A claimed delivery, with what sending it needs to know of its subscriber."""

    pk: int
    attempts: int
    in_flight_at_crash: bool
    subscriber_id: int | None
    email: str | None
    public_id: uuid.UUID | None
    subscriber_status: str | None
    subscription_status: str | None

    @property
    def still_wanted(self) -> bool:
        return (
            self.subscriber_id is not None
            and self.subscriber_status == SubscriberStatus.ACTIVE
            and self.subscription_status == SubscriptionStatus.ACTIVE
        )


def leases_recover(*, issue_id: int | None = None, notice_id: int | None = None, now) -> int:
    """Put the rows of dead workers' batches (lease run out) back to pending; return how many.

    A batch is sent in id order and each row is recorded as soon as the server answers, so of
    a dead batch the rows still claimed are the unsent ones, and only the lowest of them can
    have been in flight. That one is marked: sent again, it is recorded as ``uncertain``.
    """
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    expired = list(
        Delivery.objects.filter(status=DeliveryStatus.CLAIMED, claimed_until__lt=now, **key)
        .order_by("pk")
        .select_for_update(skip_locked=True)
        .values_list("pk", "claim")
    )
    if not expired:
        return 0
    Delivery.objects.filter(pk__in=in_flight_flag(expired)).update(
        status=DeliveryStatus.PENDING, claim=None, claimed_until=None
    )
    logger.warning(
        "%s: %d deliveries of %d dead batch(es) back to pending.",
        _named(key),
        len(expired),
        len({claim for _pk, claim in expired}),
    )
    return len(expired)


def deliveries_claim(
    *,
    issue_id: int | None = None,
    notice_id: int | None = None,
    newsletter_id: int,
    size: int | None = None,
) -> tuple[uuid.UUID, list[Claimed]]:
    """Claim up to ``size`` due pending deliveries of a sending under a fresh lease."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    now = timezone.now()
    claim = uuid.uuid4()
    with transaction.atomic():
        leases_recover(now=now, **key)
        pks = list(
            Delivery.objects.filter(pending_due(now), **key)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[: size or settings.DISPATCH_BATCH_SIZE]
        )
        if not pks:
            return claim, []
        # The status condition again: on SQLite (no row locks) a second claimer finds the rows
        # taken here and updates none of them.
        Delivery.objects.filter(pk__in=pks, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.CLAIMED,
            claim=claim,
            claimed_until=now + timedelta(seconds=settings.DISPATCH_LEASE_SECONDS),
        )
        Dispatch.objects.filter(**key).update(last_active_at=now)
    # Unordered (the model's default order would join two more tables): a subscriber has one
    # subscription per newsletter.
    subscription = (
        Subscription.objects.filter(subscriber=OuterRef("subscriber"), newsletter_id=newsletter_id)
        .order_by()
        .values("status")[:1]
    )
    rows = (
        Delivery.objects.filter(claim=claim, status=DeliveryStatus.CLAIMED)
        .order_by("pk")
        .values_list(
            "pk",
            "attempts",
            "in_flight_at_crash",
            "subscriber_id",
            "subscriber__email",
            "subscriber__public_id",
            "subscriber__status",
        )
        .annotate(subscription_status=Subquery(subscription))
    )
    return claim, [Claimed(*row) for row in rows]


def _settle(pk: int, claim: uuid.UUID, **fields) -> bool:
    """Record a row's outcome if the row is still this batch's; False if another worker took
    it (this batch's lease ran out while the message was going out). One UPDATE in
    autocommit: committed before the next message is handed over."""
    return bool(
        Delivery.objects.filter(pk=pk, claim=claim).update(claim=None, claimed_until=None, **fields)
    )


class _RowLost(Exception):
    """A sent message's row was no longer this batch's when its outcome was recorded."""

    def __init__(self, pk: int):
        super().__init__(pk)
        self.pk = pk


class _SentRecorder:
    """Records each sent message in its own committed UPDATE, without making the next message
    wait for it, and still with at most one message sent and not recorded at any moment.

    On PostgreSQL the UPDATE goes out on the connection without waiting for its answer (libpq's
    asynchronous query; in autocommit the server commits it on its own) while the next
    message's envelope and body go to the mail server; only that message's final "." (the
    moment the server takes responsibility for it) waits for the answer: ``settle``. One
    thread, one connection: nothing else may use the connection until ``settle``, which every
    path of a batch calls first. On SQLite (no network, one writer) each UPDATE runs at once.
    The statement is written in SQL once: it is the one dispatch runs per message, and
    building the ORM's UPDATE would cost about as much as running it.
    """

    COLUMNS = ["status", "attempts", "message_id", "smtp_response", "sent_at"]

    def __init__(self, claim: uuid.UUID):
        quote = connection.ops.quote_name
        # Outside any transaction only: there, the server commits each statement by itself.
        self.overlapped = (
            connection.vendor == "postgresql"
            and not connection.in_atomic_block
            and connection.get_autocommit()
        )

        def sql(placeholder):
            assignments = ", ".join(
                f"{column} = {placeholder(number)}" for number, column in enumerate(self.COLUMNS, 1)
            )
            return (
                f"UPDATE {quote(Delivery._meta.db_table)} SET {assignments}, "  # noqa: S608
                "next_attempt_at = NULL, claim = NULL, claimed_until = NULL "
                f"WHERE id = {placeholder(len(self.COLUMNS) + 1)} "
                f"AND claim = {placeholder(len(self.COLUMNS) + 2)}"
            )

        if self.overlapped:
            # libpq's own placeholders and text parameters: the server infers each one's type
            # from its column.
            self.sql = sql(lambda number: f"${number}").encode()
            self.claim = str(claim)
        else:
            self.sql = sql(lambda _number: "%s")
            self.claim = Delivery._meta.get_field("claim").get_db_prep_value(claim, connection)
        self.pending = None

    def record(self, row: Claimed, *, attempts: int, message_id: str, answer: str) -> None:
        """Record ``row`` as sent (raising ``_RowLost`` at once or at the next ``settle``)."""
        status = DeliveryStatus.UNCERTAIN if row.in_flight_at_crash else DeliveryStatus.SENT
        now = timezone.now()
        if self.overlapped:
            params = (status, attempts, message_id, answer, now.isoformat(), row.pk, self.claim)
            connection.ensure_connection()
            pgconn = connection.connection.pgconn
            # Pending before it is sent: interrupted in between, the connection is not reused.
            self.pending = row.pk
            with connection.wrap_database_errors:
                pgconn.send_query_params(self.sql, [str(param).encode() for param in params])
                pgconn.flush()
            return
        now = connection.ops.adapt_datetimefield_value(now)
        with connection.cursor() as cursor:
            cursor.execute(
                self.sql, [status, attempts, message_id, answer, now, row.pk, self.claim]
            )
            if cursor.rowcount != 1:
                raise _RowLost(row.pk)

    def settle(self) -> None:
        """Wait until the last recorded row is committed; ``_RowLost`` if it could not be."""
        if self.pending is None:
            return
        try:
            with connection.wrap_database_errors:
                result = _result(connection.connection.pgconn)
        except BaseException:
            # The connection failed, the statement did, or the wait was interrupted (a worker
            # shutting down): whether the row was recorded is the server's to say, and the
            # connection may still have the statement in flight, so it is not used again. The
            # row is either recorded or still claimed, and then recovered like a dead batch's.
            self.pending = None
            with contextlib.suppress(Exception):
                connection.close()
            raise
        pk, self.pending = self.pending, None
        if result.command_tuples != 1:
            raise _RowLost(pk)

    def close(self) -> None:
        """Settle the last record: the batch is over, so a row lost meanwhile is flagged here."""
        try:
            self.settle()
        except _RowLost as lost:
            _sent_after_losing_the_row(lost.pk)


def _result(pgconn):
    """The result of the asynchronous query in flight on ``pgconn``, waited for in ``select``
    (which lets a signal in: a worker told to stop is not stuck on a silent server); a psycopg
    error if the statement or the connection failed."""
    while pgconn.flush():
        select.select([], [pgconn.socket], [])
    results = []
    while True:
        if pgconn.is_busy():
            select.select([pgconn.socket], [], [])
            pgconn.consume_input()
            continue
        result = pgconn.get_result()
        if result is None:
            break
        results.append(result)
    # One result, or an error (a lost connection adds a second one).
    for result in results:
        if result.status != psycopg.pq.ExecStatus.COMMAND_OK:
            sqlstate = (result.error_field(psycopg.pq.DiagnosticField.SQLSTATE) or b"").decode()
            try:
                kind = psycopg.errors.lookup(sqlstate)
            except KeyError:
                kind = psycopg.DatabaseError
            raise kind(result.get_error_message(), info=result)
    if not results:
        raise psycopg.OperationalError(pgconn.get_error_message())
    return results[0]


def _sent_after_losing_the_row(pk: int) -> None:
    # This process stalled past its lease (stopped, or a very slow server) and another worker
    # took the row, which it sends again or already has: whatever it records, two copies may
    # be out, so the row says so.
    Delivery.objects.filter(pk=pk).update(in_flight_at_crash=True)
    Delivery.objects.filter(pk=pk, status=DeliveryStatus.SENT).update(
        status=DeliveryStatus.UNCERTAIN
    )


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.DISPATCH_RETRY_SECONDS * 2 ** (attempts - 1), 3600))


def _named(key: dict) -> str:
    """A sending as the logs name it: "Issue 12", "Correction notice 3"."""
    if "issue_id" in key:
        return f"Issue {key['issue_id']}"
    return f"Correction notice {key['notice_id']}"


class _Sender:
    """One sending's message (an issue's, or a correction notice's), built once, and the
    process's transport."""

    def __init__(self, issue: Issue | None = None, *, notice: CorrectionNotice | None = None):
        from issues.rendering import issue_render, notice_render

        from .issue_email import issue_mailing_prepare
        from .raw_message import RawIssueMessage
        from .sending import transport

        if notice is not None:
            self.name = _named({"notice_id": notice.pk})
            self.mailing = issue_mailing_prepare(
                rendered=notice_render(notice=notice),
                issue=notice.story.issue,
                ident=f"notice-{notice.pk}",
            )
        else:
            self.name = _named({"issue_id": issue.pk})
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
    from .sending import Refused, TransportDown

    lease = settings.DISPATCH_LEASE_SECONDS
    renew_at = time.monotonic() + lease / 3
    rows = _skip_unwanted(rows)
    recorder = _SentRecorder(claim)
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
                _release(claim, in_doubt=row.pk if down.in_doubt else None)
                raise
            recorder.record(row, attempts=attempts, message_id=message_id, answer=accepted.answer)
        recorder.settle()
    except _RowLost as lost:
        _sent_after_losing_the_row(lost.pk)
    finally:
        recorder.close()


def _refused(row: Claimed, claim: uuid.UUID, refusal, *, attempts: int) -> None:
    from .services import address_suppress

    if refusal.temporary and attempts < settings.DISPATCH_MAX_ATTEMPTS:
        _settle(
            row.pk,
            claim,
            status=DeliveryStatus.PENDING,
            attempts=attempts,
            smtp_response=refusal.answer,
            next_attempt_at=timezone.now() + _retry_delay(attempts),
        )
        return
    failed = _settle(
        row.pk, claim, status=DeliveryStatus.FAILED, attempts=attempts, smtp_response=refusal.answer
    )
    if failed and refusal.hard_bounce and row.email:
        address_suppress(email=row.email, reason=SuppressionReason.HARD_BOUNCE)


def _release(claim: uuid.UUID, *, in_doubt: int | None) -> None:
    """Give a batch's unsent rows back (the mail server is down); the one whose data may have
    reached the server before the connection died is marked like a crash's."""
    if in_doubt is not None:
        Delivery.objects.filter(pk=in_doubt).update(in_flight_at_crash=True)
    Delivery.objects.filter(claim=claim, status=DeliveryStatus.CLAIMED).update(
        status=DeliveryStatus.PENDING, claim=None, claimed_until=None
    )


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
    from .sending import TransportDown

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
