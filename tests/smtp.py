"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every message it accepts."""

import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from tests.processes import free_port


class Inbox:
    """aiosmtpd handler: stores each accepted message, parsed, with its envelope.

    ``refuse`` maps a recipient address to the reply its RCPT gets instead of 250 (say
    "550 5.1.1 No such user"); ``peers`` holds the client address of every connection that
    sent a message. ``pipelining``: whether EHLO offers PIPELINING (RFC 2920), as Postfix and
    most servers do; aiosmtpd reads pipelined commands either way.
    """

    def __init__(self):
        self.messages = []
        self.refuse = {}
        self.peers = set()
        self.pipelining = True
        self.changed = threading.Condition()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.changed:
            self.messages.append((list(envelope.rcpt_tos), message))
            self.peers.add(session.peer)
            self.changed.notify_all()
        return "250 2.0.0 Message accepted for delivery"

    def recipients(self) -> list[str]:
        with self.changed:
            return [address for rcpt_tos, _ in self.messages for address in rcpt_tos]

    def wait_for(self, count, *, timeout):
        with self.changed:
            self.changed.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


class SmtpServer:
    """An aiosmtpd server on a fixed port that can be stopped and started again (a mail
    server going down and coming back); the same inbox keeps what it accepted throughout."""

    def __init__(self, inbox, *, hostname="127.0.0.1", port=None):
        self.inbox = inbox
        self.hostname = hostname
        self.port = port or free_port()
        self.controller = None

    def start(self):
        # aiosmtpd's controller cannot start twice: each start is a new one.
        self.controller = Controller(self.inbox, hostname=self.hostname, port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def smtp_server_start():
    inbox = Inbox()
    server = SmtpServer(inbox)
    server.start()
    return server, inbox
