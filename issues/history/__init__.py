"""Comparing versions of stories and issues, for the admin's History page.

``diffing`` compares texts word by word and ordered lists entry by entry; ``comparing`` turns
stored versions into snapshots and snapshots into a diff; ``loading`` reads the versions from
django-reversion; ``admin`` adds the From/To columns and the comparison page to a model admin.
Another app's versioned model joins with ``history_register`` (the sources app's ``Source``).
"""

from .comparing import COMPARERS
from .loading import BLOCK_NOTES, LOADERS


def history_register(*, model, load, snapshot_type, compare) -> None:
    """Let ``VersionCompareAdminMixin`` show ``model``'s versions: ``load`` turns versions into
    snapshots of ``snapshot_type``, ``compare`` two snapshots into a ``VersionDiff``."""
    LOADERS[model] = load
    COMPARERS[snapshot_type] = compare


def history_block_notes(notes) -> None:
    """Add words to each block in stories' comparisons: ``notes`` has ``versions(revision_ids)``
    and ``now(block_ids)`` (see ``loading.BLOCK_NOTES``)."""
    if notes not in BLOCK_NOTES:
        BLOCK_NOTES.append(notes)
