"""The master key that wraps each source's data key, behind one small interface.

``master_keys()`` gives the provider named by ``SOURCE_KEY_PROVIDER``. The default,
``EnvironmentMasterKeys``, holds the key itself: ``SOURCE_MASTER_KEY`` (url-safe base64 of 32
bytes) and, during a rotation, the old one in ``SOURCE_MASTER_KEY_PREVIOUS``. A provider that
keeps the key elsewhere (a KMS, Vault's transit engine) implements the same three methods and
sends the data key there to be wrapped and unwrapped; docs/sources.md shows one.
"""

import base64
import binascii
import hashlib
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.utils.module_loading import import_string

MASTER_KEY_BYTES = 32
KEY_ID_BYTES = 8
NONCE_BYTES = 12
FORMAT = b"\x01"


class KeyUnavailable(Exception):
    """No key can wrap or unwrap a data key now. The message says what to set."""


class MasterKeys:
    """What the sources app needs of a master key: wrap, unwrap, and tell the current one."""

    def wrap(self, data_key: bytes, *, source_id: int) -> bytes:
        """The data key, wrapped under the current master key for this source."""
        raise NotImplementedError

    def unwrap(self, wrapped: bytes, *, source_id: int) -> bytes:
        """The data key; ``KeyUnavailable`` when no key at hand opens it."""
        raise NotImplementedError

    def is_current(self, wrapped: bytes) -> bool:
        """Whether ``wrapped`` is under the current master key (rotation skips those)."""
        raise NotImplementedError


def master_key_decoded(name: str, value: str) -> bytes:
    """The 32 bytes of a key setting, or ``KeyUnavailable`` naming ``name`` and how to make one."""
    try:
        key = base64.urlsafe_b64decode(value.strip() + "=" * (-len(value.strip()) % 4))
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != MASTER_KEY_BYTES:
        raise KeyUnavailable(
            f"{name} is not url-safe base64 of {MASTER_KEY_BYTES} bytes; make one with: "
            "python3 -c 'import secrets, base64; "
            "print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'"
        )
    return key


def _key_id(key: bytes) -> bytes:
    # Names a key without giving anything of it away: which key wrapped a data key.
    return hashlib.sha256(b"bellcms.sources.master-key-id:" + key).digest()[:KEY_ID_BYTES]


def _associated(source_id: int) -> bytes:
    return f"bellcms.sources.data-key:{source_id}".encode()


class EnvironmentMasterKeys(MasterKeys):
    """The master key from the environment (settings ``SOURCE_MASTER_KEY`` and
    ``SOURCE_MASTER_KEY_PREVIOUS``), never derived from ``SECRET_KEY``."""

    def __init__(self, current: str | None = None, previous: str | None = None):
        current = settings.SOURCE_MASTER_KEY if current is None else current
        previous = settings.SOURCE_MASTER_KEY_PREVIOUS if previous is None else previous
        self._current = master_key_decoded("SOURCE_MASTER_KEY", current) if current else None
        self._keys = {}
        if previous:
            key = master_key_decoded("SOURCE_MASTER_KEY_PREVIOUS", previous)
            self._keys[_key_id(key)] = key
        if self._current is not None:
            self._keys[_key_id(self._current)] = self._current

    def _current_key(self) -> bytes:
        if self._current is None:
            raise KeyUnavailable(
                "SOURCE_MASTER_KEY is not set: source identities cannot be sealed or revealed "
                "(everything else works). See docs/sources.md, 'Keys'."
            )
        return self._current

    def wrap(self, data_key: bytes, *, source_id: int) -> bytes:
        key = self._current_key()
        nonce = os.urandom(NONCE_BYTES)
        sealed = AESGCM(key).encrypt(nonce, data_key, _associated(source_id))
        return FORMAT + _key_id(key) + nonce + sealed

    def unwrap(self, wrapped: bytes, *, source_id: int) -> bytes:
        wrapped = bytes(wrapped)
        self._current_key()
        key = self._keys.get(wrapped[1 : 1 + KEY_ID_BYTES]) if wrapped[:1] == FORMAT else None
        if key is None:
            raise KeyUnavailable(
                "This identity was sealed under another master key than SOURCE_MASTER_KEY. "
                "During a rotation, set the old key in SOURCE_MASTER_KEY_PREVIOUS and run "
                "manage.py rotate_source_keys."
            )
        start = 1 + KEY_ID_BYTES
        nonce, body = wrapped[start : start + NONCE_BYTES], wrapped[start + NONCE_BYTES :]
        try:
            return AESGCM(key).decrypt(nonce, body, _associated(source_id))
        except InvalidTag:
            raise KeyUnavailable(
                "This identity's data key does not open: it was altered, or belongs to another "
                "source."
            ) from None

    def is_current(self, wrapped: bytes) -> bool:
        key = self._current_key()
        return bytes(wrapped)[1 : 1 + KEY_ID_BYTES] == _key_id(key)


@cache
def _provider_class(path: str) -> type[MasterKeys]:
    return import_string(path)


def master_keys() -> MasterKeys:
    """The configured provider (``SOURCE_KEY_PROVIDER``), reading its settings now."""
    return _provider_class(settings.SOURCE_KEY_PROVIDER)()
