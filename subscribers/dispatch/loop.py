"""The send loop of a batch task (``dispatch_run``): over each of its connections (one thread
each), claim a batch, re-check each subscriber (an unsubscribe or a suppression since the
snapshot skips the row), send the rows in id order, recording each outcome as soon as the
server answers; until nothing is left or the task's time is up. See the package's docstring
for the whole flow."""

import contextlib
import copy
import dataclasses
import logging
import threading
import time
import uuid
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection as db_connection
from django.db import connections as db_connections
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
from .recording import BatchRecord, RowLost, SentRecorder, batch_record, sent_after_losing_the_row
from .relay import RelaySlot, RelayUnavailable, relay_wait
from .tallies import connection_name, connection_tally
from .transports import (
    Accepted,
    EspCallRefused,
    EspInDoubt,
    Refused,
    TransportDown,
    Uncertain,
    transport,
    transports,
    transports_forget,
)
from .wire import RawIssueMessage

logger = logging.getLogger(__name__)


def _retry_delay(attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.DISPATCH_RETRY_SECONDS * 2 ** (attempts - 1), 3600))


class _Sender:
    """One sending's message (an issue's, or a correction notice's), built once, and the
    transport it goes over (each connection of a task has its own copy)."""

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


@dataclasses.dataclass
class _Tally:
    """What a connection's batch did: messages accepted, messages refused."""

    sent: int = 0
    refused: int = 0


def _batch_send(
    *,
    sender: _Sender,
    claim: uuid.UUID,
    rows: list[Claimed],
    stop: threading.Event | None = None,
    tally: _Tally | None = None,
    slot: RelaySlot | None = None,
) -> None:
    """Send a claimed batch in id order, recording each outcome as the server answers. Once
    ``stop`` is set, the message being sent is abandoned before its final dot (``_Stopped``);
    the batch's rows stay claimed until its lease runs out. The relay ``slot`` the connection
    holds is renewed with the batch's lease."""

    def before_final_dot():
        recorder.settle()
        if stop is not None and stop.is_set():
            raise _Stopped

    tally = tally if tally is not None else _Tally()
    rows = _skip_unwanted(rows)
    if getattr(sender.transport, "batch", False):
        try:
            _esp_batch_send(sender=sender, claim=claim, rows=rows, tally=tally, stop=stop)
        except TransportDown:
            # The rows not on record yet go back for later.
            batch_release(claim, in_doubt=None)
            raise
        return
    lease = settings.DISPATCH_LEASE_SECONDS
    renew_at = time.monotonic() + lease / 3
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
                if slot is not None:
                    # Without Redis the slot runs out by itself; the batch goes on.
                    with contextlib.suppress(RelayUnavailable):
                        slot.take()
            attempts = row.attempts + 1
            try:
                _rate_keep(stop)
                message_id, accepted = sender.send(row, before_final_dot=before_final_dot)
            except Refused as refusal:
                recorder.settle()
                _refused(row, claim, refusal, attempts=attempts)
                tally.refused += 1
                continue
            except TransportDown as down:
                # The previous row recorded (or flagged, if lost) before the rest go back.
                recorder.close()
                batch_release(claim, in_doubt=row.pk if down.in_doubt else None)
                raise
            recorder.record(row, attempts=attempts, message_id=message_id, answer=accepted.answer)
            tally.sent += 1
        recorder.settle()
    except RowLost as lost:
        sent_after_losing_the_row(lost.pk)
    finally:
        recorder.close()


def _esp_batch_send(
    *,
    sender: _Sender,
    claim: uuid.UUID,
    rows: list[Claimed],
    tally: _Tally,
    stop: threading.Event | None = None,
):
    """Send a batch through an ESP's batch API (the batch is what one call takes), each
    recipient's outcome recorded from the ESP's answer.

    A call may deliver every message it carries before it answers, so its rows are first
    marked as in flight (committed): should the worker die before the answer is recorded,
    they are recorded as *uncertain* when sent again. A call that may have gone through with
    no answer (a timeout) records its rows as *uncertain* and does not send them again: the
    ESP may have them. A call the ESP refuses for what it carries (400: an address it will not
    take, too many recipients) is split in two: once one half goes through, the refusals are
    about recipients, and halving goes on until each refused address fails on its own; when
    both halves are refused too, the ESP refuses everything (the settings, the sender), and
    the batch goes back to pending as for a server that is down.
    """
    if not rows:
        return
    accepted = []
    try:
        _esp_deliver(
            sender=sender, claim=claim, rows=rows, tally=tally, accepted=accepted, stop=stop
        )
    except EspCallRefused as refused:
        raise TransportDown(refused.reason) from refused


def _esp_deliver(*, sender, claim, rows, tally, accepted: list, stop, depth: int = 0) -> None:
    try:
        _esp_call(sender=sender, claim=claim, rows=rows, tally=tally, stop=stop)
        accepted.append(True)
        return
    except EspCallRefused as refused:
        if len(rows) == 1 and accepted:
            # The ESP takes others: it refuses this address.
            _refused(rows[0], claim, Refused(550, refused.reason), attempts=rows[0].attempts + 1)
            tally.refused += 1
            return
        if len(rows) == 1 or (depth and not accepted):
            raise
    deliver = partial(
        _esp_deliver,
        sender=sender,
        claim=claim,
        tally=tally,
        accepted=accepted,
        stop=stop,
        depth=depth + 1,
    )
    half = (len(rows) + 1) // 2
    refused_parts = []
    for part in (rows[:half], rows[half:]):
        try:
            deliver(rows=part)
        except EspCallRefused as refused:
            refused_parts.append((part, refused))
    if refused_parts and not accepted:
        raise refused_parts[0][1]
    for part, _refusal in refused_parts:
        deliver(rows=part)


def _esp_call(*, sender: _Sender, claim: uuid.UUID, rows: list[Claimed], tally: _Tally, stop):
    """One call for ``rows``, its outcomes recorded; ``EspCallRefused`` (nothing recorded)
    when the ESP refused it for what it carries."""
    transport = sender.transport
    _rate_keep(stop, len(rows))
    by_address = {row.email: row for row in rows}
    message, personals = sender.mailing.batch_message(
        subscribers=[_SubscriberRef(email=row.email, public_id=row.public_id) for row in rows],
        merge_field=transport.batching.merge_field,
    )
    message.merge_metadata = {row.email: {"delivery": str(row.pk)} for row in rows}
    Delivery.objects.filter(pk__in=[row.pk for row in rows], claim=claim).update(
        in_flight_at_crash=True
    )
    in_doubt = None
    try:
        outcomes = transport.send_batch(message)
    except EspInDoubt as down:
        answer = f"no answer, may have been sent: {down.reason}"
        outcomes = {row.email: Uncertain(answer) for row in rows}
        in_doubt = down
    except TransportDown:
        # Nothing went out (send_batch says so of every other error): the rows are as they
        # were. Anything else (the worker stopped mid-call) leaves them marked.
        _in_flight_restore(claim, rows)
        raise
    records, refusals = [], []
    for personal in personals:
        row, outcome = by_address[personal.to], outcomes.get(personal.to)
        if isinstance(outcome, Refused):
            refusals.append((row, outcome))
            continue
        status = (
            DeliveryStatus.SENT
            if isinstance(outcome, Accepted) and not row.in_flight_at_crash
            else DeliveryStatus.UNCERTAIN
        )
        said = outcome.answer if outcome is not None else "no word of this recipient"
        records.append(BatchRecord(row, status, personal.message_id, said))
    for pk in batch_record(claim, records):
        sent_after_losing_the_row(pk)
    _in_flight_restore(claim, [row for row, _refusal in refusals])
    for row, refusal in refusals:
        _refused(row, claim, refusal, attempts=row.attempts + 1)
    tally.sent += len(records)
    tally.refused += len(refusals)
    if in_doubt is not None:
        # Recorded, and not sent again; the ESP may be in trouble: the task stops.
        raise in_doubt


def _in_flight_restore(claim: uuid.UUID, rows: list[Claimed]) -> None:
    """Unmark rows marked as in flight for a call that did not send them."""
    unmark = [row.pk for row in rows if not row.in_flight_at_crash]
    if unmark:
        Delivery.objects.filter(pk__in=unmark, claim=claim).update(in_flight_at_crash=False)


def _rate_keep(stop: threading.Event | None, count: int = 1) -> None:
    """Wait until the relay's ``DISPATCH_MAX_RATE`` lets the next ``count`` messages go.
    Where that cannot be counted (Redis gone), the relay is as good as down."""
    try:
        while (wait := relay_wait(count)) > 0:
            if stop is not None and stop.wait(wait):
                raise _Stopped
            if stop is None:
                time.sleep(wait)
    except RelayUnavailable as error:
        raise TransportDown(error.reason) from error


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
# A connection of a task that failed while the others go on waits the same way.
TRANSPORT_BACKOFF_SECONDS = (5, 10, 20, 40, 60)


def _backoff(failures: int) -> int:
    return TRANSPORT_BACKOFF_SECONDS[min(failures, len(TRANSPORT_BACKOFF_SECONDS) - 1)]


class _Stopped(Exception):
    """The task is stopping: a connection abandons the message it was about to end."""


class _Run:
    """One batch task's state, shared by its connections (each in its own thread, with its
    own database connection and its own claimed batches).

    A connection the mail server failed (lost, 421, refused to connect) gives its batch back
    and waits its own backoff while the others go on; when every connection still working is
    down at once, the task stops and is queued again later, as with one connection.
    """

    def __init__(self, key: dict, *, deadline: float, transport_failures: int):
        self.key = key
        self.deadline = deadline
        self.transport_failures = transport_failures
        # Set: each connection ends after its batch (nothing left to do, the sending paused,
        # every connection down, an error). ``stop``: each abandons the message it is on.
        self.ending = threading.Event()
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.sender: _Sender | None = None
        # Connections of this task, and those still sending.
        self.lanes: set[int] = set()
        self.working: set[int] = set()
        self.down: dict[int, TransportDown] = {}
        self.all_down: TransportDown | None = None
        self.error: BaseException | None = None
        self.not_running = False

    def dispatch_running(self) -> Dispatch | None:
        """The sending, if it is still to be sent; None (and the run stops) if not."""
        dispatch = (
            Dispatch.objects.select_related("issue", "notice__story__issue")
            .filter(**self.key)
            .first()
        )
        if (
            dispatch is None
            or not dispatch_is_live(dispatch)
            or dispatch.state != DispatchState.RUNNING
        ):
            self.not_running = True
            self.ending.set()
            return None
        return dispatch

    def sender_for(self, dispatch: Dispatch, connection) -> "_Sender":
        """The message, built once per task, sent over this connection."""
        with self.lock:
            if self.sender is None:
                self.sender = _Sender(dispatch.issue, notice=dispatch.notice)
            sender = copy.copy(self.sender)
        sender.transport = connection
        return sender

    def connection_down(self, lane: int, down: TransportDown) -> bool:
        """Note a failed connection; True if every working connection is down (the task
        stops)."""
        with self.lock:
            self.down[lane] = down
            return self._check_all_down()

    def connection_up(self, lane: int, dispatch: Dispatch) -> None:
        with self.lock:
            self.down.pop(lane, None)
            trouble = not self.down and (self.transport_failures or dispatch.last_error)
            if trouble:
                # A batch went through and no connection is failing: the trouble is over.
                self.transport_failures = 0
        if trouble:
            Dispatch.objects.filter(**self.key).update(last_error="")
            dispatch.last_error = ""

    def give_up(self, down: TransportDown) -> None:
        """Stop every connection after its batch, and wait as for a server that is down."""
        with self.lock:
            self.all_down = self.all_down or down
            self.ending.set()

    def connection_retry(self, lane: int) -> None:
        with self.lock:
            self.down.pop(lane, None)

    def lane_idle(self, lane: int, idle: bool) -> None:
        """A connection waiting for a relay slot is not counted among those sending: when
        those are all down, the task waits."""
        with self.lock:
            if idle:
                self.working.discard(lane)
                self._check_all_down()
            else:
                self.working.add(lane)

    def lane_start(self, lane: int) -> None:
        with self.lock:
            self.lanes.add(lane)
            self.working.add(lane)

    def lane_end(self, lane: int) -> None:
        with self.lock:
            self.working.discard(lane)
            self.down.pop(lane, None)
            self._check_all_down()

    def _check_all_down(self) -> bool:
        if self.working and set(self.down) >= self.working:
            self.all_down = self.down[min(self.down)]
            self.ending.set()
            return True
        return False

    def batch_size(self, dispatch: Dispatch, connection) -> int:
        """``DISPATCH_BATCH_SIZE``, or less for a small audience: enough batches that every
        connection of every task gets about two, so that they all send and end together. For
        an ESP's batch API, what one call takes."""
        if getattr(connection, "batch", False):
            return connection.limit
        shares = 2 * settings.DISPATCH_TASKS_PER_ISSUE * len(self.lanes)
        return max(10, min(settings.DISPATCH_BATCH_SIZE, -(-dispatch.audience // shares)))

    def time_left(self) -> float:
        return self.deadline - time.monotonic()


def _lane(run: _Run, lane: int, connection) -> None:
    """One connection's part of a task: claim a batch, send it, until nothing is left, the
    time is up or the task ends."""
    failures = 0
    slot = RelaySlot()
    name = connection_name(lane)
    try:
        # Each connection sends at least one batch, however short the task's time.
        while not run.ending.is_set():
            tally, started = _Tally(), time.monotonic()
            try:
                if not _slot_take(slot):
                    # Every connection the relay allows is in use: this one waits, closed.
                    connection.close()
                    run.lane_idle(lane, True)
                    run.ending.wait(max(min(SLOT_WAIT_SECONDS, run.time_left()), 0))
                    if run.time_left() <= 0:
                        return
                    continue
                run.lane_idle(lane, False)
                dispatch = run.dispatch_running()
                if dispatch is None:
                    return
                issue = (
                    dispatch.issue if dispatch.issue_id is not None else dispatch.notice.story.issue
                )
                size = run.batch_size(dispatch, connection)
                claim, rows = deliveries_claim(
                    newsletter_id=issue.newsletter_id, size=size, **run.key
                )
                if not rows:
                    return
                sender = run.sender_for(dispatch, connection)
                _batch_send(
                    sender=sender, claim=claim, rows=rows, stop=run.stop, tally=tally, slot=slot
                )
            except TransportDown as down:
                Dispatch.objects.filter(**run.key).update(last_error=down.reason)
                if isinstance(down, EspInDoubt):
                    # The ESP took a call without answering: the whole task waits.
                    run.give_up(down)
                connection_tally(
                    key=run.key,
                    name=name,
                    sent=tally.sent,
                    refused=tally.refused,
                    error=down.reason,
                )
                if run.connection_down(lane, down):
                    return
                wait = _backoff(failures)
                failures += 1
                logger.warning(
                    "%s: connection %d: the mail server failed (%s); trying it again in %d s.",
                    sending_named(run.key),
                    lane + 1,
                    down.reason,
                    wait,
                )
                run.ending.wait(max(min(wait, run.time_left()), 0))
                if run.time_left() <= 0:
                    return
                # Trying again: no longer counted as down meanwhile.
                run.connection_retry(lane)
                continue
            failures = 0
            connection_tally(
                key=run.key,
                name=name,
                sent=tally.sent,
                refused=tally.refused,
                seconds=time.monotonic() - started,
            )
            run.connection_up(lane, dispatch)
            if run.time_left() <= 0:
                return
    finally:
        if slot.held:
            # Given back closed: an idle connection still counts at the relay.
            connection.close()
            slot.give_back()


def _slot_take(slot: RelaySlot) -> bool:
    try:
        return slot.take()
    except RelayUnavailable as error:
        raise TransportDown(error.reason) from error


# A connection without a relay slot asks again this often.
SLOT_WAIT_SECONDS = 1.0


def _lane_thread(run: _Run, lane: int, connection) -> None:
    try:
        _lane(run, lane, connection)
    except _Stopped:
        pass
    except BaseException as error:
        logger.exception("%s: connection %d failed.", sending_named(run.key), lane + 1)
        with run.lock:
            run.error = run.error or error
        run.ending.set()
    finally:
        run.lane_end(lane)
        # This thread's own database connection.
        db_connections.close_all()


def dispatch_connections() -> int:
    """How many connections a task may send over at once: ``DISPATCH_CONNECTIONS`` on
    PostgreSQL outside a transaction (each connection's thread has its own database session,
    which sees only what is committed); otherwise one. ``transports`` gives one whatever is
    asked where the backend sends one message a call."""
    if db_connection.vendor != "postgresql" or db_connection.in_atomic_block:
        return 1
    return max(1, settings.DISPATCH_CONNECTIONS)


def dispatch_run(
    *,
    issue_id: int | None = None,
    notice_id: int | None = None,
    transport_failures: int = 0,
    seconds: float | None = None,
) -> RunOutcome:
    """One batch task: claim and send batches of the sending (an issue's or a notice's) over
    ``dispatch_connections()`` connections at once, until none is left or the time is up.
    Returns when to run again."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    run = _Run(
        key,
        deadline=time.monotonic() + (seconds or settings.DISPATCH_TASK_SECONDS),
        transport_failures=transport_failures,
    )
    connections = transports(dispatch_connections())
    if len(connections) == 1:
        run.lane_start(0)
        try:
            _lane(run, 0, connections[0])
        finally:
            run.lane_end(0)
    else:
        _lanes_run(run, connections)
    if run.error is not None:
        raise run.error
    if run.all_down is not None:
        wait = _backoff(run.transport_failures)
        logger.warning(
            "%s: the mail server failed (%s); trying again in %d s.",
            sending_named(key),
            run.all_down.reason,
            wait,
        )
        return RunOutcome(wait, run.transport_failures + 1)
    if run.not_running:
        dispatch_finish_if_done(**key)
        return RunOutcome(None)
    if run.time_left() <= 0:
        return RunOutcome(0, run.transport_failures)
    if dispatch_finish_if_done(**key):
        return RunOutcome(None)
    return RunOutcome(_seconds_until_claimable(key), run.transport_failures)


# How long a task told to stop waits for its connections to end the messages they are on.
STOP_GRACE_SECONDS = 1.0


def _lanes_run(run: _Run, connections: list) -> None:
    threads = []
    for lane, connection in enumerate(connections):
        run.lane_start(lane)
        thread = threading.Thread(
            target=_lane_thread,
            args=(run, lane, connection),
            name=f"dispatch-{lane + 1}",
            daemon=True,
        )
        threads.append(thread)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    except BaseException:
        # Told to stop (a worker's shutdown raises here): each connection abandons the
        # message it is about to end, and its batch is recovered like a dead worker's.
        run.stop.set()
        run.ending.set()
        for thread in threads:
            thread.join(STOP_GRACE_SECONDS / len(threads))
        if any(thread.is_alive() for thread in threads):
            # A connection still in use by its thread is not handed to the next task.
            transports_forget()
        raise


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
