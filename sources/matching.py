"""Telling that a new source may be a known one, without storing who either is.

A blind index is an HMAC, under a key of its own (``SOURCE_INDEX_KEY``, not the master key: a
rotation of that must not change these), of a normalised name or contact. Equal digests mean
"the same person, probably"; a digest says nothing of the name without the key, and the key
lives in the environment, not in the database.
"""

import hashlib
import hmac
import re
import unicodedata

from django.conf import settings

from .keys import KeyUnavailable

_NOT_WORD = re.compile(r"[\W_]+")
_PHONE = re.compile(r"^\+?[\d\s().\-/]{7,}$")


def name_normalised(name: str) -> str:
    """The name as compared: case, accents, punctuation and spacing set aside, words sorted
    (so "Ivanov, Ivan" and "ivan IVANOV" match)."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(sorted(_NOT_WORD.sub(" ", text).split()))


def contact_normalised(contact: str) -> str:
    """A contact as compared: a phone number as its digits, anything else lower-case and
    without spaces (an address, a handle, a messenger id)."""
    contact = unicodedata.normalize("NFKC", contact).strip()
    if _PHONE.match(contact):
        return "tel:" + re.sub(r"\D", "", contact)
    return re.sub(r"\s+", "", contact.casefold())


def contacts_split(contacts) -> list[str]:
    """Contacts given as text (one per line) or as a list, without blanks."""
    lines = contacts.splitlines() if isinstance(contacts, str) else list(contacts or [])
    return [line.strip() for line in lines if line and line.strip()]


def _index_key() -> bytes:
    key = settings.SOURCE_INDEX_KEY
    if not key:
        raise KeyUnavailable(
            "SOURCE_INDEX_KEY is not set: new identities cannot be compared with known ones, "
            "so none can be sealed. See docs/sources.md, 'Keys'."
        )
    return key.encode()


def blind_digests(identity: dict) -> list[tuple[str, str]]:
    """(kind, digest) for the identity's name and each contact."""
    key = _index_key()
    values = []
    name = name_normalised(identity.get("name") or "")
    if name:
        values.append(("name", name))
    values += [
        ("contact", normalised)
        for normalised in map(contact_normalised, contacts_split(identity.get("contacts")))
        if normalised
    ]
    return [
        (kind, hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest())
        for kind, value in dict.fromkeys(values)
    ]
