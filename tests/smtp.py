"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping every message it accepts."""

import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from tests.processes import free_port


class Inbox:
    """aiosmtpd handler: stores each accepted message, parsed, with its envelope."""

    def __init__(self):
        self.messages = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.changed:
            self.messages.append((list(envelope.rcpt_tos), message))
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count, *, timeout):
        with self.changed:
            self.changed.wait_for(lambda: len(self.messages) >= count, timeout=timeout)
            return list(self.messages)


def smtp_server_start():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller, inbox
