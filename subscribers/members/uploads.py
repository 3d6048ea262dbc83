"""Members files uploaded in the admin: kept until the worker imports them, then reported.

``member_import_upload`` stores the file in a ``MemberImport`` row and, once that is committed,
queues ``subscribers.tasks.import_members`` with the row's id (never the file or an address).
The worker's ``member_import_run`` calls ``subscribers_import``, the service of ``manage.py
import_subscribers``, so the rules and the report are the command's; it keeps the report and
empties the file. How far a running import got is kept in the cache: the import writes in one
transaction, so a row updated meanwhile would be seen by nobody until it ends.
"""

import logging
from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from issues.models import Newsletter

from ..models import MemberImport, MemberImportStatus
from .errors import ImportFileError
from .services import subscribers_import

logger = logging.getLogger(__name__)

IMPORT_PERMISSIONS = ("subscribers.add_subscriber", "subscribers.change_subscriber")
EXPORT_PERMISSION = "subscribers.view_subscriber"
# Problems kept with the report one by one (as many as the command lists); past that, a count.
PROBLEMS_KEPT = 1000
# The cache keeps a running import's progress this long: longer than any import takes.
PROGRESS_SECONDS = 24 * 3600
# Checking a row is quick next to writing it: the bar gives checking this share of its length.
CHECKING_SHARE = 0.3
FINISHED = (MemberImportStatus.DONE, MemberImportStatus.REFUSED)


def _progress_key(import_id: int) -> str:
    return f"subscribers:member-import:{import_id}:progress"


def member_import_upload(
    *, data: bytes, filename: str, newsletter: Newsletter, acting_user
) -> MemberImport:
    """Keep an uploaded members file and queue its import into ``newsletter``.

    Raises ``PermissionDenied`` for someone who may not add and change subscribers, and
    ``ImportFileError`` for a file larger than ``SUBSCRIBERS_IMPORT_MAX_BYTES``.
    """
    if not acting_user.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied
    if len(data) > settings.SUBSCRIBERS_IMPORT_MAX_BYTES:
        raise ImportFileError(
            _("the file is larger than %(limit)d bytes")
            % {"limit": settings.SUBSCRIBERS_IMPORT_MAX_BYTES}
        )
    from ..tasks import import_members

    with transaction.atomic():
        member_import = MemberImport.objects.create(
            newsletter=newsletter,
            filename=(filename or "members.csv")[:200],
            size=len(data),
            data=data,
            created_by=acting_user,
        )
        transaction.on_commit(partial(import_members.delay, member_import.pk))
    return member_import


def _progress_record(import_id: int, phase: str, done: int, total: int) -> None:
    cache.set(
        _progress_key(import_id),
        {"phase": phase, "done": done, "total": total},
        PROGRESS_SECONDS,
    )


def member_import_run(*, import_id: int) -> str:
    """Import an uploaded file, keep the report and empty the file; returns the new status.

    Safe to run again: a finished import is left as it is, and one whose worker died (its
    transaction rolled back) is run from the start.
    """
    with transaction.atomic():
        member_import = (
            MemberImport.objects.select_for_update()
            .select_related("newsletter")
            .filter(pk=import_id)
            .first()
        )
        if member_import is None or member_import.status in FINISHED:
            return member_import.status if member_import else ""
        member_import.status = MemberImportStatus.RUNNING
        member_import.started_at = timezone.now()
        member_import.save(update_fields=["status", "started_at"])
    try:
        report = subscribers_import(
            data=bytes(member_import.data),
            newsletter=member_import.newsletter,
            source=member_import.filename,
            progress=partial(_progress_record, import_id),
        )
    except ImportFileError as error:
        _finish(import_id, status=MemberImportStatus.REFUSED, error=str(error))
        return MemberImportStatus.REFUSED
    _finish(
        import_id,
        status=MemberImportStatus.DONE,
        imported=report.imported,
        active=report.active,
        subscribed=report.subscribed,
        skipped=report.skipped,
        problems=[message for _line, message in report.problems[:PROBLEMS_KEPT]],
        problem_count=len(report.problems),
        ignored_columns=report.ignored_columns,
    )
    return MemberImportStatus.DONE


def member_import_failed(*, import_id: int) -> None:
    """An import that stopped on an unexpected error: nothing was written (its transaction
    rolled back). The file goes; the report says to upload it again."""
    logger.error("members import %s stopped on an error; nothing was imported", import_id)
    _finish(
        import_id,
        status=MemberImportStatus.REFUSED,
        error=_(
            "the import stopped on an unexpected error. Upload the file again; if it happens "
            "again, tell whoever runs BellCMS"
        ),
    )


def _finish(import_id: int, *, status: str, **fields) -> None:
    # The file held addresses and names: it goes as soon as it has been read.
    MemberImport.objects.filter(pk=import_id).exclude(status__in=FINISHED).update(
        status=status, data=b"", finished_at=timezone.now(), **fields
    )
    cache.delete(_progress_key(import_id))


@dataclass
class ImportProgress:
    status: str
    finished: bool
    # 0 to 100; None while there is no telling (waiting for the worker, or just started).
    percent: float | None
    phase: str
    done: int
    total: int


def member_import_progress(*, member_import: MemberImport) -> ImportProgress:
    """How far an import is: its status, and while it runs, the phase and rows done."""
    finished = member_import.status in FINISHED
    progress = ImportProgress(
        status=member_import.status,
        finished=finished,
        percent=100.0 if finished else None,
        phase="",
        done=0,
        total=0,
    )
    if member_import.status != MemberImportStatus.RUNNING:
        return progress
    recorded = cache.get(_progress_key(member_import.pk))
    if not recorded:
        return progress
    progress.phase, progress.done = recorded["phase"], recorded["done"]
    progress.total = max(recorded["total"], recorded["done"], 1)
    share = progress.done / progress.total
    if progress.phase == "checking":
        progress.percent = 100 * CHECKING_SHARE * share
    else:
        progress.percent = 100 * (CHECKING_SHARE + (1 - CHECKING_SHARE) * share)
    return progress
