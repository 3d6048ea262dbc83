"""Email addresses: one normal form, validation that never lets a header through, and the
keyed hash the suppression list stores instead of an address.

An address is stored lower-cased with its domain in ASCII (IDNA/UTS 46, so ``пример.рф`` and
``xn--e1afmkfd.xn--p1ai`` are one address). The local part is lower-cased too: mailbox providers
treat it case-insensitively in practice, and two rows for ``Anna@`` and ``anna@`` would mean two
emails per issue for one person.
"""

import hashlib
import hmac
import re

import idna
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

# RFC 5321: a forward path is at most 256 octets including the angle brackets.
EMAIL_MAX_LENGTH = 254
NAME_MAX_LENGTH = 200

_validate = EmailValidator()
# RFC 5322 dot-atom: what a local part is without quotation marks.
_DOT_ATOM = re.compile(r"[-!#$%&'*+/=?^_`{}|~0-9a-z]+(\.[-!#$%&'*+/=?^_`{}|~0-9a-z]+)*\Z", re.I)


class EmailAddressError(ValidationError):
    """An address that cannot be mailed. The message is written for the person who typed it."""


def _has_control_characters(value: str) -> bool:
    return any(ord(char) < 32 or ord(char) == 127 for char in value)


def email_normalise(value: str) -> str:
    """The stored form of an address, or ``EmailAddressError``.

    Surrounding whitespace is dropped; anything that could end a header line (CR, LF, NUL and
    the other control characters) is refused rather than cleaned, because it is never a typo.
    """
    if not isinstance(value, str):
        raise EmailAddressError(_("Enter an email address."), code="invalid")
    value = value.strip()
    if not value:
        raise EmailAddressError(_("Enter an email address."), code="required")
    if _has_control_characters(value) or len(value) > EMAIL_MAX_LENGTH * 2:
        raise EmailAddressError(_("Enter a valid email address."), code="invalid")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain:
        raise EmailAddressError(_("Enter a valid email address."), code="invalid")
    local = _local_unquote(local)
    domain = domain.rstrip(".")
    if domain.isascii():
        # Most domains: the validator below checks the labels; idna would only lower-case.
        ascii_domain = domain
    else:
        try:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError):
            raise EmailAddressError(_("Enter a valid email address."), code="invalid") from None
    address = f"{local.lower()}@{ascii_domain.lower()}"
    if len(address) > EMAIL_MAX_LENGTH:
        raise EmailAddressError(_("This email address is too long."), code="max_length")
    try:
        _validate(address)
    except ValidationError:
        raise EmailAddressError(_("Enter a valid email address."), code="invalid") from None
    return address


def _local_unquote(local: str) -> str:
    """A quoted local part in its plain form, or ``EmailAddressError``.

    ``"anna"@``, ``"a\\nna"@`` (a quoted pair) and ``"\\anna"@`` all deliver to ``anna@``:
    stored quoted, they would be a second spelling that slips past a suppression or the
    per-address limits. A quoted local part whose unquoted form is a plain dot-atom is stored
    unquoted; any other (spaces, ``@``, a partly quoted local part) is refused.
    """
    if '"' not in local and "\\" not in local:
        return local
    refused = EmailAddressError(
        _(
            "Enter the address without quotation marks or backslashes; we cannot send to an "
            "address that needs them."
        ),
        code="quoted",
    )
    if len(local) < 2 or not (local.startswith('"') and local.endswith('"')):
        raise refused
    inner, plain, index = local[1:-1], [], 0
    while index < len(inner):
        char = inner[index]
        if char == "\\":
            index += 1
            if index == len(inner):
                raise refused
            char = inner[index]
        elif char == '"':
            raise refused
        plain.append(char)
        index += 1
    unquoted = "".join(plain)
    if not _DOT_ATOM.match(unquoted):
        raise refused
    return unquoted


def name_clean(value: str) -> str:
    """A person's name as typed, or ``ValidationError``: one line, no control characters."""
    value = (value or "").strip()
    if _has_control_characters(value):
        raise ValidationError(_("A name must be a single line of text."), code="invalid")
    if len(value) > NAME_MAX_LENGTH:
        raise ValidationError(
            _("A name may be at most %(limit)d characters long."),
            code="max_length",
            params={"limit": NAME_MAX_LENGTH},
        )
    return value


def suppression_hash(address: str) -> str:
    """HMAC-SHA256 of the normalised address, keyed by ``SUBSCRIBERS_SUPPRESSION_KEY``.

    A bare hash of an address can be reversed by hashing a list of addresses; a keyed one
    cannot without the key, which lives in the environment, not in the database.
    """
    return suppression_hash_normalised(email_normalise(address))


def suppression_hash_normalised(address: str) -> str:
    """``suppression_hash`` of an address already in normal form (saves a second parse)."""
    key = settings.SUBSCRIBERS_SUPPRESSION_KEY.encode("utf-8")
    return hmac.new(key, address.encode("utf-8"), hashlib.sha256).hexdigest()
