"""Who else has a story or an issue open: “Also open by Elena Editor”.

Every open change page reports itself every ``POLL_SECONDS`` to a small endpoint, which records
the person in the shared cache (one entry per page: user id → name and when last seen) and
answers with the others seen within ``SEEN_FOR_SECONDS``. Nothing goes to the database. Two
reports at the same moment may overwrite each other's entry; the next poll puts it back, so a
name can be missing for one interval at worst. Presence only warns: the revision check is what
prevents lost updates.
"""

import time

from django.core.cache import cache
from django.utils.translation import gettext as _

from ..people import person_name

# Often enough for a colleague to show up soon after opening the page, rarely enough not to load
# the server: one small request per open page every 20 s.
POLL_SECONDS = 20
# Three missed polls: the page was closed (or the laptop went to sleep).
SEEN_FOR_SECONDS = 3 * POLL_SECONDS


def _now() -> float:
    return time.time()


def _key(obj) -> str:
    return f"bellcms:presence:{obj._meta.label_lower}:{obj.pk}"


def _recent(entries: dict, now: float) -> dict:
    return {uid: seen for uid, seen in entries.items() if now - seen[1] < SEEN_FOR_SECONDS}


def presence_report(*, obj, user, leaving: bool = False) -> list[str]:
    """Record that ``user`` has ``obj`` open (or has just left it); the names of the others."""
    now = _now()
    entries = _recent(cache.get(_key(obj)) or {}, now)
    uid = str(user.pk)
    if leaving:
        entries.pop(uid, None)
    else:
        entries[uid] = (person_name(user), now)
    cache.set(_key(obj), entries, timeout=SEEN_FOR_SECONDS)
    return sorted(name for other, (name, _seen) in entries.items() if other != uid)


def presence_sentence(names: list[str]) -> str:
    if not names:
        return ""
    return _("Also open by %(names)s") % {"names": ", ".join(names)}
