"""How dispatch hands one message to the mail system, and what the answer means.

Over SMTP (Django's SMTP backend configured): ``DISPATCH_CONNECTIONS`` connections per worker
process, each opened by Django's backend (so EMAIL_URL's host, TLS and login apply), used by
one thread at a time and kept for every batch and task the process runs; the message goes
as the bytes ``wire`` built, in the three commands of an SMTP transaction, and the server's
answer to DATA is kept. Any other backend (an ESP through django-anymail, the outbox of the
embedded default, the test backend) gets Django messages, over one connection.

Each send ends in one of:
- an ``Accepted`` (the server's answer);
- ``Refused``: this recipient or this message, permanently (5xx) or for now (4xx);
- ``TransportDown``: the server is unreachable or refuses every message (connection refused or
  lost, a timeout, 421, a sender refused): nothing about the recipient. ``in_doubt`` says
  whether the message may have been accepted anyway (the connection died awaiting the answer
  to its data).
"""

import contextlib
import dataclasses
import smtplib
import socket
import time
from functools import partial

from django.conf import settings
from django.core.mail import get_connection

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
# An idle connection older than this is checked (NOOP) before use: servers drop idle clients.
IDLE_CHECK_SECONDS = 20


@dataclasses.dataclass(frozen=True)
class Accepted:
    answer: str


class Refused(Exception):
    def __init__(self, code: int, answer: str, *, hard_bounce: bool = False):
        super().__init__(code, answer)
        self.code = code
        self.answer = answer
        self.hard_bounce = hard_bounce

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500


class TransportDown(Exception):
    def __init__(self, reason: str, *, in_doubt: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.in_doubt = in_doubt


def _answer(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else str(message)
    # A database text column holds no NUL, whatever a server sends.
    return f"{code} {' '.join(text.replace(chr(0), ' ').split())}"[:500]


class SmtpTransport:
    """Raw messages over one long-lived SMTP connection."""

    raw = True

    def __init__(self):
        self.backend = None
        self.used_at = 0.0

    def _connection(self) -> smtplib.SMTP:
        if self.backend is not None and time.monotonic() - self.used_at > IDLE_CHECK_SECONDS:
            try:
                alive = self.backend.connection.noop()[0] == 250
            except (smtplib.SMTPException, OSError):
                alive = False
            if not alive:
                self.close()
        if self.backend is None:
            self.backend = get_connection(SMTP_BACKEND, fail_silently=False)
            try:
                self.backend.open()
                # A message's data and its final "." go in two writes: without this, the
                # second would wait for the server's delayed ACK of the first (Nagle).
                self.backend.connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.backend.connection.ehlo_or_helo_if_needed()
            except (smtplib.SMTPException, OSError) as error:
                self.close()
                raise TransportDown(f"cannot connect: {error!r}"[:500]) from error
        self.used_at = time.monotonic()
        return self.backend.connection

    def close(self) -> None:
        if self.backend is not None:
            # A dead connection may fail to close; it is gone either way.
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.backend.close()
            self.backend = None

    def abandon(self) -> None:
        """Drop the connection in the middle of a message: the server discards what it has of
        it. No QUIT: the server, reading the message's data, would not answer it."""
        if self.backend is not None:
            with contextlib.suppress(OSError):
                self.backend.connection.close()
            self.backend.connection = None
            self.backend = None

    def send(self, *, sender: str, recipient: str, wire: bytes, before_final_dot) -> Accepted:
        """One SMTP transaction. ``wire`` is the message dot-stuffed, ending in CRLF.

        ``before_final_dot`` is called after the message's data is sent and before the "."
        line that ends it: until then the server keeps nothing. If it raises, the transaction
        is abandoned (the connection dropped, so the server discards the message).

        When the server offers PIPELINING (RFC 2920; Postfix and most others do), MAIL, RCPT
        and DATA go in one write and their three replies are read together: one round trip
        instead of three. Otherwise each command waits for its reply.
        """
        connection = self._connection()
        # Both addresses are plain addr-specs (stored normalised, validated): no parsing needed
        # to put them in angle brackets, as smtplib.quoteaddr would for each message.
        envelope = (f"MAIL FROM:<{sender}>", f"RCPT TO:<{recipient}>", "DATA")
        stage = "envelope"
        try:
            if connection.has_extn("pipelining"):
                connection.send("".join(f"{command}\r\n" for command in envelope))
                replies = [connection.getreply() for _command in envelope]
            else:
                replies = []
                for command in envelope:
                    connection.putcmd(command)
                    replies.append(connection.getreply())
                    if replies[-1][0] >= 400:
                        break
            self._check_envelope(connection, replies)
            connection.send(wire)
            try:
                before_final_dot()
            except BaseException:
                self.abandon()
                raise
            stage = "end"
            connection.send(b".\r\n")
            code, message = connection.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as error:
            self.close()
            # Lost after the final ".": the server may have kept the message.
            raise TransportDown(
                f"connection lost: {error!r}"[:500], in_doubt=stage == "end"
            ) from error
        if code != 250:
            # The server refused the message itself; the transaction is over either way.
            self._refuse(code, message)
        return Accepted(_answer(code, message))

    def _check_envelope(self, connection: smtplib.SMTP, replies) -> None:
        """Raise for a refused MAIL, RCPT or DATA, leaving the connection ready for the next
        message."""
        (mail, mail_answer), *rest = replies
        rcpt, rcpt_answer = rest[0] if rest else (0, b"")
        data, data_answer = rest[1] if len(rest) > 1 else (0, b"")
        if mail == 250 and rcpt in (250, 251) and data == 354:
            return
        if data == 354:
            # Pipelined: the server took DATA although MAIL or RCPT failed (it should not).
            # An empty message ends it; RSET then discards it.
            connection.send(b".\r\n")
            connection.getreply()
        self._reset(connection)
        if mail != 250:
            if mail == 421:
                self._refuse(mail, mail_answer)
            # The server refuses our sender: true of every message, not of this recipient.
            raise TransportDown(f"sender refused: {_answer(mail, mail_answer)}")
        if rcpt not in (250, 251):
            self._refuse(rcpt, rcpt_answer, hard_bounce=rcpt >= 500)
        self._refuse(data, data_answer)

    def _refuse(self, code: int, message, *, hard_bounce: bool = False):
        if code == 421:
            # "Service not available, closing transmission channel".
            self.close()
            raise TransportDown(_answer(code, message))
        raise Refused(code, _answer(code, message), hard_bounce=hard_bounce)

    def _reset(self, connection: smtplib.SMTP) -> None:
        try:
            connection.rset()
        except (smtplib.SMTPException, OSError):
            self.close()


class BackendTransport:
    """Django messages through the configured backend (an ESP, a file outbox, tests)."""

    raw = False

    def __init__(self):
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _connection(self):
        if self.connection is None:
            self.connection = get_connection(fail_silently=False)
        return self.connection

    def send_message(self, message) -> Accepted:
        from anymail.exceptions import AnymailRecipientsRefused

        connection = self._connection()
        try:
            sent = connection.send_messages([message])
        except AnymailRecipientsRefused as error:
            raise Refused(550, str(error)[:500], hard_bounce=True) from error
        except Exception as error:
            self.close()
            raise TransportDown(f"{type(error).__name__}: {error}"[:500]) from error
        if not sent:
            raise TransportDown("the mail backend sent nothing")
        status = getattr(message, "anymail_status", None)
        return Accepted(
            f"accepted by {type(self.connection).__name__}"
            + (f" as {status.message_id}" if status is not None and status.message_id else "")
        )


@dataclasses.dataclass(frozen=True)
class EspBatching:
    """How one ESP's batch send takes a message: ``merge_field`` is where a recipient's value
    goes in the body (``{}``: the field's name); ``limit``, the most recipients a call takes."""

    name: str
    merge_field: str
    limit: int


# The ESPs (django-anymail backends) whose batch API merges each recipient's values into the
# message's own body, without a template stored at the ESP. Another ESP's backend gets one call
# per message (``BackendTransport``).
ESP_BATCHES = {
    "anymail.backends.mailgun.EmailBackend": EspBatching("Mailgun", "%recipient.{}%", 1000),
}

# What anymail's per-recipient status means for a delivery.
_ESP_SENT = {"sent", "queued", "scheduled"}
_ESP_REFUSED = {"rejected", "invalid"}


@dataclasses.dataclass(frozen=True)
class Uncertain:
    """The ESP accepted the call but said nothing of this recipient."""

    answer: str


class EspBatchTransport(BackendTransport):
    """One API call per batch of recipients, through django-anymail's batch send."""

    batch = True

    def __init__(self, batching: EspBatching):
        super().__init__()
        self.batching = batching

    @property
    def limit(self) -> int:
        return min(self.batching.limit, settings.DISPATCH_ESP_BATCH_SIZE or self.batching.limit)

    def send_batch(self, message) -> dict:
        """Send ``message`` (``IssueMailing.batch_message``) in one call; each recipient's
        ``Accepted``, ``Refused`` or ``Uncertain``, by address.

        Raises ``EspInDoubt`` when the call may have gone through (no answer in time, the
        connection lost after the request went out, a 500, 502 or 504, a 2xx anymail cannot
        read); ``EspCallRefused`` when the ESP refused what the call carries (400, an invalid
        address); ``TransportDown`` when nothing went out (the ESP unreachable, a 401, 429 or
        503, the settings).
        """
        import requests
        from anymail.exceptions import (
            AnymailAPIError,
            AnymailInvalidAddress,
            AnymailRecipientsRefused,
        )

        esp = self.batching.name
        try:
            self._connection().send_messages([message])
        except AnymailRecipientsRefused:
            pass  # each recipient's status is read below
        except AnymailInvalidAddress as error:
            raise EspCallRefused(f"{esp}: {_said(error)}"[:500]) from error
        except (requests.RequestException, AnymailAPIError) as error:
            self.close()
            response = getattr(error, "response", None)
            if response is not None:
                status = response.status_code
                reason = f"{esp} answered {status}: {_said(error)}"[:500]
                if 200 <= status < 300 or status in (500, 502, 504):
                    # Taken (an answer anymail could not read), or perhaps taken.
                    raise EspInDoubt(reason) from error
                if status == 400:
                    raise EspCallRefused(reason) from error
                raise TransportDown(reason) from error
            reason = f"{esp}: {type(error).__name__}: {_said(error)}"[:500]
            if _may_have_gone(error):
                raise EspInDoubt(reason) from error
            raise TransportDown(reason) from error
        except Exception as error:
            # Before any request (settings, building the call): nothing went out.
            self.close()
            raise TransportDown(f"{esp}: {type(error).__name__}: {_said(error)}"[:500]) from error
        statuses = message.anymail_status.recipients
        outcomes = {}
        for address in message.to:
            status = statuses.get(address)
            if status is None:
                outcomes[address] = Uncertain(f"no word from {esp} of this recipient")
                continue
            said = f"{status.status} by {esp}"
            if status.message_id:
                said += f" as {status.message_id}"
            if status.status in _ESP_SENT:
                outcomes[address] = Accepted(said)
            elif status.status in _ESP_REFUSED:
                outcomes[address] = Refused(550, said, hard_bounce=status.status == "invalid")
            elif status.status == "failed":
                outcomes[address] = Refused(450, said)
            else:
                outcomes[address] = Uncertain(said)
        return outcomes


class EspInDoubt(TransportDown):
    """An ESP call that may have gone through: no answer, or one that cannot be read."""

    def __init__(self, reason: str):
        super().__init__(reason, in_doubt=True)


class EspCallRefused(TransportDown):
    """The ESP refused the call for what it carries (400, an address it cannot take)."""


def _said(error) -> str:
    return " ".join(str(error).split())


def _may_have_gone(error) -> bool:
    """Whether a request that failed may still have reached the ESP: after a read timeout, or
    a connection lost once made; not when none was made (refused, unknown host, the connect
    timed out, TLS failed) or the request could not be built."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(error, requests.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return True
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.SSLError):
        return False
    if not isinstance(error, requests.ConnectionError):
        return False
    seen, causes = set(), [error]
    while causes:
        cause = causes.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, NewConnectionError | ConnectionRefusedError):
            return False
        causes += [cause.__cause__, cause.__context__, getattr(cause, "reason", None)]
        causes += [arg for arg in cause.args if isinstance(arg, BaseException)]
    return True


# This process's connections, created on first use and kept for the next batches and tasks.
_transports: list = []


def transports(count: int) -> list:
    """``count`` of this process's transports (over SMTP, one connection each; otherwise one),
    created on first use and kept for the next task."""
    global _transports
    batching = ESP_BATCHES.get(settings.EMAIL_BACKEND)
    if settings.EMAIL_BACKEND == SMTP_BACKEND:
        kind, make = SmtpTransport, SmtpTransport
    elif batching is not None:
        kind, make = EspBatchTransport, partial(EspBatchTransport, batching)
    else:
        kind, make = BackendTransport, BackendTransport
        count = 1
    if any(type(kept) is not kind for kept in _transports):
        transport_close()
    while len(_transports) < count:
        _transports.append(make())
    return _transports[:count]


def transport() -> SmtpTransport | BackendTransport:
    """This process's first transport."""
    return transports(1)[0]


def transports_forget() -> None:
    """Let go of this process's connections without closing them: threads still use them
    (a task told to stop while they wait); the next task opens its own."""
    global _transports
    _transports = []


def transport_close() -> None:
    """Close this process's connections (a worker shutting down; tests)."""
    global _transports
    closing, _transports = _transports, []
    for kept in closing:
        kept.close()
