"""The import services: a CSV file's bytes, or member rows another importer has read.

Both check every row before the first is written and write in one transaction, so a file that
cannot be read writes nothing, and a row that is wrong on its own is skipped and reported.
"""

from collections.abc import Iterable

from django.conf import settings
from django.db import transaction

from issues.models import Newsletter

from .errors import ImportFileError
from .reading import members_csv_read, members_text
from .rows import ImportReport, Progress, members_check
from .writing import members_split, members_write_known, members_write_new


def members_import(
    *,
    records: Iterable[tuple[int, dict[str, str]]],
    newsletter: Newsletter,
    source: str,
    consent_column: str | None = "subscribed_to_emails",
    unit: str = "line",
    progress: Progress | None = None,
    total: int = 0,
) -> ImportReport:
    """Import members given as (number, cells by Ghost's column names).

    ``consent_column`` names the cell that says whether the person agreed to be mailed (None:
    nobody did, they wait for their own confirmation); ``unit`` is what a row is called in the
    report ("line", "member"). The rules are the CSV import's (docs/subscribers.md).
    """
    report = ImportReport(unit=unit)
    rows = members_check(
        records, consent_column=consent_column, report=report, progress=progress, total=total
    )
    with transaction.atomic():
        new, known = members_split(rows, newsletter, report)
        members_write_new(new, newsletter, source, report, progress)
        members_write_known(known, newsletter, source, report)
    report.problems.sort()
    return report


def subscribers_import(
    *,
    data: bytes,
    newsletter: Newsletter,
    source: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV file's bytes: Ghost's members export or plain ``email,name``.

    Raises ``ImportFileError`` when the file as a whole cannot be imported (nothing is written).
    """
    if len(data) > settings.SUBSCRIBERS_IMPORT_MAX_BYTES:
        raise ImportFileError(
            f"the file is larger than {settings.SUBSCRIBERS_IMPORT_MAX_BYTES} bytes"
        )
    info, records = members_csv_read(members_text(data))
    report = members_import(
        records=records,
        newsletter=newsletter,
        source=source,
        consent_column=info.consent_column,
        progress=progress,
        total=info.lines,
    )
    report.ignored_columns = info.ignored
    return report
