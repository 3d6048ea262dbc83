"""An issue email as bytes: built once per batch, personalised by substitution.

Building a MIME message per recipient (Django's ``EmailMultiAlternatives``, or the standard
library's) costs about three times what sending it over SMTP costs. So dispatch builds the
message once, with placeholders where a subscriber's links and identifiers go, and for each
recipient only fills in those parts:

- the headers that differ (Date, To, Message-ID, List-Unsubscribe) are written as text;
- each body is split into lines; the lines without a placeholder are quoted-printable encoded
  once, and only the few lines with a personal link are encoded for each recipient.

Quoted-printable encodes each line on its own (a soft line break never crosses a hard one), so
the per-line result is byte for byte what encoding the whole body would give. The message reads
exactly like ``IssueMailing.message`` for the same subscriber; a test compares the two.
"""

import binascii
import email.policy
import re
import secrets
from email.message import EmailMessage
from email.utils import formatdate

from django.conf import settings
from django.utils.html import escape

from .message import (
    ONE_CLICK,
    PREFERENCES_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    IssueMailing,
    Personal,
)

CRLF = b"\r\n"


def _qp(line: bytes) -> bytes:
    """One line, quoted-printable and dot-stuffed as on the wire.

    No line break in it: trailing spaces become =20, a long line gets soft breaks ("=" and a
    newline, which binascii writes as LF when it has seen no CRLF). Every physical line that
    starts with a dot gets a second one (RFC 5321 4.5.2; the server removes it).
    """
    encoded = binascii.b2a_qp(line, istext=True, header=False).replace(b"=\n", b"=\r\n")
    return _LEADING_DOT.sub(b"..", encoded)


_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


def wire_unstuff(wire: bytes) -> bytes:
    """The message a server stores from ``wire`` (for previews and tests)."""
    return _LEADING_DOT.sub(b"", wire)


class _Body:
    """One text part, its static lines encoded once."""

    def __init__(self, text: str, *, html: bool):
        self.html = html
        lines = text.replace("\r\n", "\n").split("\n")
        # Runs of static lines, encoded and joined once, and the personal lines as text.
        self.chunks: list[bytes | str] = []
        static: list[bytes] = []
        for line in lines:
            if UNSUBSCRIBE_PLACEHOLDER in line or PREFERENCES_PLACEHOLDER in line:
                if static:
                    self.chunks.append(CRLF.join(static))
                    static = []
                self.chunks.append(line)
            else:
                static.append(_qp(line.encode("utf-8")))
        if static:
            self.chunks.append(CRLF.join(static))

    def encode(self, personal: Personal) -> bytes:
        unsubscribe, preferences = personal.unsubscribe_url, personal.preferences_url
        if self.html:
            unsubscribe, preferences = escape(unsubscribe), escape(preferences)
        return CRLF.join(
            chunk
            if isinstance(chunk, bytes)
            else _qp(
                chunk.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe)
                .replace(PREFERENCES_PLACEHOLDER, preferences)
                .encode("utf-8")
            )
            for chunk in self.chunks
        )


class RawIssueMessage:
    """The issue's email for any subscriber, as the bytes that follow SMTP's DATA command."""

    def __init__(self, mailing: IssueMailing):
        self.mailing = mailing
        rendered = mailing.rendered
        boundary = "=_bellcms_" + secrets.token_hex(12)
        # The standard library folds and encodes the fixed headers (a non-ASCII subject or
        # sender name as RFC 2047 words, without the leading space some parsers trip on).
        head = EmailMessage(policy=email.policy.SMTP)
        head["From"] = rendered.from_email
        head["Subject"] = rendered.subject
        head["List-Id"] = mailing.list_id
        head["List-Unsubscribe-Post"] = ONE_CLICK
        head["MIME-Version"] = "1.0"
        head["Content-Type"] = f'multipart/alternative; boundary="{boundary}"'
        # Only the header block: with no payload, the generator would add an empty multipart.
        self.head = head.as_bytes().partition(CRLF + CRLF)[0] + CRLF + CRLF
        self.text = _Body(rendered.text, html=False)
        self.html = _Body(rendered.html, html=True)
        delimiter = f"--{boundary}".encode()
        part_head = b'Content-Type: text/%s; charset="utf-8"\r\n'
        encoding = b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        self.text_head = delimiter + CRLF + part_head % b"plain" + encoding
        self.html_head = CRLF + delimiter + CRLF + part_head % b"html" + encoding
        self.tail = CRLF + delimiter + b"--" + CRLF
        self.from_address = head["From"].addresses[0].addr_spec

    def personal(self, *, subscriber) -> Personal:
        return self.mailing.personal(subscriber=subscriber)

    def render(self, personal: Personal) -> bytes:
        """The whole message for one subscriber, dot-stuffed, ending in CRLF: what goes after
        DATA (followed by the final "." line). ``wire_unstuff`` gives the stored message."""
        date = formatdate(localtime=settings.EMAIL_USE_LOCALTIME)
        # Header values here are ASCII: addresses are stored with an ASCII domain and a
        # dot-atom local part, and the links are URLs. List-Unsubscribe folds after its comma.
        list_unsubscribe = personal.list_unsubscribe.replace(", ", ",\r\n ")
        personal_head = (
            f"Date: {date}\r\nTo: {personal.to}\r\nMessage-ID: {personal.message_id}\r\n"
            f"List-Unsubscribe: {list_unsubscribe}\r\n"
        ).encode("ascii")
        return b"".join(
            (
                personal_head,
                self.head,
                self.text_head,
                self.text.encode(personal),
                self.html_head,
                self.html.encode(personal),
                self.tail,
            )
        )
