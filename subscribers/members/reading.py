"""Reading a members CSV file: bytes to text, the header, and each record with its line.

A file that cannot be read as a whole raises ``ImportFileError`` (nothing is written); rows
are handed on as cells by column name, for ``rows`` to check one by one.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

from .cells import cell_unescape
from .errors import ImportFileError

# The columns of Ghost's members export, which the export writes too.
GHOST_COLUMNS = [
    "email",
    "name",
    "note",
    "subscribed_to_emails",
    "complimentary_plan",
    "stripe_customer_id",
    "created_at",
    "deleted_at",
    "labels",
    "tiers",
]
# Ghost before 4.0 called the consent column ``subscribed``.
CONSENT_COLUMNS = ("subscribed_to_emails", "subscribed")
READ_COLUMNS = frozenset([*GHOST_COLUMNS, *CONSENT_COLUMNS])


@dataclass
class MembersFile:
    """A members file's header, as far as the import uses it."""

    columns: dict[str, int]
    # Which column says whether the person agreed to be mailed; None in a plain email,name file.
    consent_column: str | None
    # Columns the import does not read, named in its summary so nothing goes unnoticed.
    ignored: list[str]
    # Lines in the file, for a progress bar.
    lines: int


def members_text(data: bytes) -> str:
    """The file's text, or ``ImportFileError`` naming the line of the first undecodable byte."""
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ImportFileError(f"line {line}: the file contains NUL bytes; is it a CSV file?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ImportFileError(
            f"line {line}: not valid UTF-8 (save the file as UTF-8 and try again)"
        ) from None


def _header(reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    except csv.Error as error:
        raise ImportFileError(f"line 1: {error}") from None
    return [column.strip().lower() for column in header]


def members_csv_read(text: str) -> tuple[MembersFile, Iterator[tuple[int, dict[str, str]]]]:
    """The header, and the records as (line, cells by column) for the rows that hold anything.

    The line is where the record starts (a quoted cell may hold line breaks), counting the
    header as line 1. Cells are stripped and the export's formula guard is taken off. Iterating
    raises ``ImportFileError`` for broken CSV, and for a file with a header and no rows.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _header(reader)
    if "email" not in header:
        raise ImportFileError(
            "line 1: missing column 'email' (found: "
            + ", ".join(column[:40] for column in header[:12])
            + "). Expected Ghost's members export or 'email,name'."
        )
    columns = {}
    for i, column in enumerate(header):
        columns.setdefault(column, i)
    ignored = [
        column or f"(unnamed column {i + 1})"
        for i, column in enumerate(header)
        if column not in READ_COLUMNS or columns[column] != i
    ]
    consent_column = next((name for name in CONSENT_COLUMNS if name in columns), None)
    if consent_column == "subscribed_to_emails" and "subscribed" in columns:
        ignored.append("subscribed")
    read = {column: i for column, i in columns.items() if column in READ_COLUMNS}
    info = MembersFile(
        columns=read, consent_column=consent_column, ignored=ignored, lines=text.count("\n")
    )
    return info, _records(reader, read)


def _records(reader, columns: dict[str, int]) -> Iterator[tuple[int, dict[str, str]]]:
    # A record starts on the line after the previous one ended: the reader's own line_num is
    # where the record ends.
    ended = reader.line_num
    found = 0
    try:
        for values in reader:
            line, ended = ended + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue
            found += 1
            yield (
                line,
                {
                    column: cell_unescape(values[i]) if i < len(values) else ""
                    for column, i in columns.items()
                },
            )
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: {error}") from None
    if not found:
        raise ImportFileError("the file has a header but no rows")
