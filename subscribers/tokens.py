"""Signed tokens in the links of every email: confirm, unsubscribe, preferences.

Each kind has its own salt, so a token made for one purpose is refused by the others. A token
names the subscriber by ``public_id`` (never the address or the row id) and is signed with
Django's ``SECRET_KEY``; changing one character makes it invalid. Tokens are secrets: they are
never logged, put in task arguments or stored.
"""

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "bellcms.subscribers.confirm"
UNSUBSCRIBE_SALT = "bellcms.subscribers.unsubscribe"
PREFERENCES_SALT = "bellcms.subscribers.preferences"
# A token longer than this is refused before its signature is checked.
TOKEN_MAX_LENGTH = 300


class TokenInvalid(Exception):
    """Forged, altered, truncated or made for another purpose."""


class TokenExpired(TokenInvalid):
    """Genuine but older than its kind allows."""


@dataclass(frozen=True)
class TokenData:
    public_id: uuid.UUID
    newsletter_id: int | None = None
    form: str = ""
    # When the token was signed (whole seconds, UTC): a confirmation link signed before the
    # subscription was last unsubscribed is refused.
    issued_at: datetime.datetime | None = None


def _issued_at(token: str) -> datetime.datetime:
    # signing.dumps writes "payload:timestamp:signature", the timestamp in base 62 seconds.
    timestamp = signing.b62_decode(token.rsplit(":", 2)[-2])
    return datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)


def _dumps(payload, salt: str) -> str:
    return signing.dumps(payload, salt=salt, compress=False)


def _loads(token: str, *, salt: str, max_age: int | None) -> TokenData:
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX_LENGTH:
        raise TokenInvalid
    try:
        payload = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenExpired from None
    except (signing.BadSignature, ValueError, UnicodeError):
        raise TokenInvalid from None
    try:
        if not isinstance(payload, list):
            raise TypeError
        public_id, newsletter_id, form = [*payload, None, ""][:3]
        return TokenData(
            public_id=uuid.UUID(hex=public_id),
            newsletter_id=None if newsletter_id is None else int(newsletter_id),
            form=str(form or ""),
            issued_at=_issued_at(token),
        )
    except (TypeError, ValueError, AttributeError):
        # Signed by us but not in this shape: a bug or an old format, never trusted.
        raise TokenInvalid from None


def confirm_token_make(*, subscriber, newsletter, form: str = "") -> str:
    return _dumps([subscriber.public_id.hex, newsletter.pk, form], CONFIRM_SALT)


def confirm_token_read(token: str) -> TokenData:
    return _loads(token, salt=CONFIRM_SALT, max_age=settings.SUBSCRIBERS_CONFIRM_MAX_AGE)


def unsubscribe_token_make(*, subscriber, newsletter) -> str:
    return _dumps([subscriber.public_id.hex, newsletter.pk], UNSUBSCRIBE_SALT)


def unsubscribe_token_read(token: str) -> TokenData:
    # No expiry: RFC 8058 expects the link in an old email to work as well as in a new one.
    return _loads(token, salt=UNSUBSCRIBE_SALT, max_age=None)


def preferences_token_make(*, subscriber) -> str:
    return _dumps([subscriber.public_id.hex], PREFERENCES_SALT)


def preferences_token_read(token: str) -> TokenData:
    return _loads(token, salt=PREFERENCES_SALT, max_age=settings.SUBSCRIBERS_PREFERENCES_MAX_AGE)
