"""Each connection's tally of a sending (``SendingConnection``): added to after every batch and
every failure, one UPDATE (an INSERT the first time), and read back for the sending page and
``dispatch_status`` as per connection and per relay rates."""

import dataclasses
import os
import socket
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from ..models import Dispatch, DispatchState, SendingConnection
from .ledger import sending_key
from .relay import relay_address
from .transports import SMTP_BACKEND

# A connection that reported within this long is counted as sending now.
ACTIVE_SECONDS = 30


def connection_name(lane: int) -> str:
    """``host:pid #n``: this worker process's n-th connection."""
    return f"{socket.gethostname()}:{os.getpid()} #{lane + 1}"


def relay_name() -> str:
    """Where this process sends: the SMTP relay's host and port, or the mail backend."""
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        return relay_address()
    return settings.EMAIL_BACKEND.rsplit(".", 2)[-2]


def connection_tally(
    *,
    key: dict,
    name: str,
    sent: int = 0,
    refused: int = 0,
    seconds: float = 0.0,
    error: str = "",
) -> None:
    """Add a batch's messages (``sent``, ``refused`` in ``seconds``) or a failure (``error``)
    to the connection's row of the sending."""
    now = timezone.now()
    changes = {"updated_at": now, "sent": F("sent") + sent, "refused": F("refused") + refused}
    if error:
        changes |= {"failures": F("failures") + 1, "last_error": error[:500]}
    elif seconds > 0 and sent + refused:
        changes["rate"] = (sent + refused) / seconds
    dispatch = Dispatch.objects.filter(**key).values_list("pk", flat=True)
    rows = SendingConnection.objects.filter(dispatch__in=dispatch, name=name)
    if rows.update(**changes):
        return
    dispatch_id = dispatch.first()
    if dispatch_id is None:
        return
    try:
        with transaction.atomic():
            SendingConnection.objects.create(
                dispatch_id=dispatch_id,
                name=name,
                relay=relay_name(),
                sent=sent,
                refused=refused,
                failures=1 if error else 0,
                rate=changes.get("rate"),
                last_error=error[:500],
                started_at=now,
                updated_at=now,
            )
    except IntegrityError:
        # Made meanwhile by the same name (a process restarted with the same pid): add to it.
        rows.update(**changes)


@dataclasses.dataclass(frozen=True)
class ConnectionRow:
    name: str
    relay: str
    sent: int
    refused: int
    failures: int
    rate: float | None
    last_error: str
    updated_at: datetime
    # Reported within ACTIVE_SECONDS, in a sending still going on.
    active: bool


@dataclasses.dataclass(frozen=True)
class RelayRow:
    """A relay's part in the sending: its connections sending now and their rate together."""

    relay: str
    # The sending is still going on.
    live: bool
    active: int
    connections: int
    sent: int
    failures: int
    rate: float


def connections_report(
    *, issue_id: int | None = None, notice_id: int | None = None, now: datetime | None = None
) -> tuple[list[ConnectionRow], list[RelayRow]]:
    """The sending's connections (those sending now first, busiest first) and its relays."""
    key = sending_key(issue_id=issue_id, notice_id=notice_id)
    since = (now or timezone.now()) - timedelta(seconds=ACTIVE_SECONDS)
    # Only a sending still going on has connections sending now.
    live = Dispatch.objects.filter(state=DispatchState.RUNNING, finished_at=None, **key).exists()
    rows = [
        ConnectionRow(
            name=row.name,
            relay=row.relay,
            sent=row.sent,
            refused=row.refused,
            failures=row.failures,
            rate=row.rate,
            last_error=row.last_error,
            updated_at=row.updated_at,
            active=live and row.updated_at >= since,
        )
        for row in SendingConnection.objects.filter(
            dispatch__in=Dispatch.objects.filter(**key).values("pk")
        ).order_by("name")
    ]
    rows.sort(key=lambda row: (not row.active, -row.sent))
    relays = {}
    for row in rows:
        relays.setdefault(row.relay, []).append(row)
    report = [
        RelayRow(
            relay=relay,
            live=live,
            active=sum(row.active for row in members),
            connections=len(members),
            sent=sum(row.sent for row in members),
            failures=sum(row.failures for row in members),
            rate=sum(row.rate or 0.0 for row in members if row.active),
        )
        for relay, members in sorted(relays.items())
    ]
    return rows, report
