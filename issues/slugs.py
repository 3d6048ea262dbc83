"""Story addresses in the archive: made from the headline until the issue goes out, then kept.

A slug is unique within its issue (``-2``, ``-3`` … on a clash) and keeps the headline's own
letters, Cyrillic included; a headline with no letters or digits gets ``story``.
"""

from django.utils.text import slugify

# Issue states in which readers may have seen the story's address: its slug no longer follows
# the headline.
OUT_STATES = ("sending", "sent", "corrected", "retracted")
MAX_LENGTH = 120


def slug_base(headline: str, *, fallback: str) -> str:
    base = slugify(headline, allow_unicode=True)[: MAX_LENGTH - 4].strip("-")
    return base or fallback


def unique_slug(base: str, taken: set[str]) -> str:
    slug, n = base, 1
    while slug in taken:
        n += 1
        slug = f"{base[: MAX_LENGTH - len(str(n)) - 1]}-{n}"
    return slug
