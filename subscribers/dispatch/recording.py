"""Recording each sent message in its own committed UPDATE, with at most one message sent and
not recorded at any moment (``SentRecorder``)."""

import contextlib
import dataclasses
import select
import uuid

import psycopg
from django.db import connection, transaction
from django.utils import timezone

from ..models import Delivery, DeliveryStatus
from .claims import Claimed


class RowLost(Exception):
    """A sent message's row was no longer this batch's when its outcome was recorded."""

    def __init__(self, pk: int):
        super().__init__(pk)
        self.pk = pk


class SentRecorder:
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
        """Record ``row`` as sent (raising ``RowLost`` at once or at the next ``settle``)."""
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
                raise RowLost(row.pk)

    def settle(self) -> None:
        """Wait until the last recorded row is committed; ``RowLost`` if it could not be."""
        if self.pending is None:
            return
        try:
            with connection.wrap_database_errors:
                result = pgconn_result(connection.connection.pgconn)
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
            raise RowLost(pk)

    def close(self) -> None:
        """Settle the last record: the batch is over, so a row lost meanwhile is flagged here."""
        try:
            self.settle()
        except RowLost as lost:
            sent_after_losing_the_row(lost.pk)


@dataclasses.dataclass(frozen=True)
class BatchRecord:
    """One row's outcome in an ESP batch call."""

    row: Claimed
    status: str
    message_id: str
    answer: str


def batch_record(claim: uuid.UUID, records: list[BatchRecord]) -> list[int]:
    """Record a batch call's outcomes at once, for the rows still this batch's: one locked
    read, then one UPDATE per row sent together (psycopg pipelines ``executemany``). Returns
    the rows another worker took meanwhile (not recorded)."""
    if not records:
        return []
    quote = connection.ops.quote_name
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    sql = (
        f"UPDATE {quote(Delivery._meta.db_table)} SET status = %s, attempts = %s, "  # noqa: S608
        "message_id = %s, smtp_response = %s, sent_at = %s, in_flight_at_crash = %s, "
        "next_attempt_at = NULL, claim = NULL, claimed_until = NULL WHERE id = %s"
    )
    with transaction.atomic():
        mine = set(
            Delivery.objects.filter(pk__in=[record.row.pk for record in records], claim=claim)
            .order_by("pk")
            .select_for_update()
            .values_list("pk", flat=True)
        )
        params = [
            (
                record.status,
                record.row.attempts + 1,
                record.message_id,
                record.answer[:500],
                now,
                record.row.in_flight_at_crash or record.status == DeliveryStatus.UNCERTAIN,
                record.row.pk,
            )
            for record in records
            if record.row.pk in mine
        ]
        if params:
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)
    return [record.row.pk for record in records if record.row.pk not in mine]


def pgconn_result(pgconn):
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


def sent_after_losing_the_row(pk: int) -> None:
    # This process stalled past its lease (stopped, or a very slow server) and another worker
    # took the row, which it sends again or already has: whatever it records, two copies may
    # be out, so the row says so.
    Delivery.objects.filter(pk=pk).update(in_flight_at_crash=True)
    Delivery.objects.filter(pk=pk, status=DeliveryStatus.SENT).update(
        status=DeliveryStatus.UNCERTAIN
    )
