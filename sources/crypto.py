"""Sealing source identities: AES-256-GCM under a data key of each source's own.

Each field is sealed on its own, with the source's id and the field's name as associated data:
a sealed name copied into another source's row, or into its position, no longer opens. The data
key is kept only wrapped by the master key (``sources.keys``); this module never sees that.
"""

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

DATA_KEY_BYTES = 32
NONCE_BYTES = 12
# The first byte of every sealed value: a later format can be told apart from this one.
FORMAT = b"\x01"


class SealBroken(Exception):
    """A sealed value does not open with this key for this source and field."""


def data_key_new() -> bytes:
    """A fresh random data key for one source."""
    return AESGCM.generate_key(bit_length=DATA_KEY_BYTES * 8)


def _associated(source_id: int, field: str) -> bytes:
    return f"bellcms.sources:{source_id}:{field}".encode()


def field_seal(data_key: bytes, plaintext: str, *, source_id: int, field: str) -> bytes:
    """``plaintext`` sealed for this source and field: format, nonce, ciphertext and tag."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = AESGCM(data_key).encrypt(nonce, plaintext.encode(), _associated(source_id, field))
    return FORMAT + nonce + sealed


def field_open(data_key: bytes, sealed: bytes, *, source_id: int, field: str) -> str:
    """The plaintext of ``field_seal``; ``SealBroken`` for another key, source or field."""
    sealed = bytes(sealed)
    if sealed[:1] != FORMAT or len(sealed) < 1 + NONCE_BYTES + 16:
        raise SealBroken(f"the sealed {field} is not in a format this version reads")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(data_key).decrypt(nonce, body, _associated(source_id, field)).decode()
    except InvalidTag:
        raise SealBroken(f"the sealed {field} does not open with this source's key") from None
