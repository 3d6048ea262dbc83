"""Checking member rows one by one: each becomes a ``MemberRow`` or a problem in the report.

Rows come as cells by Ghost's column names, from the CSV file or, later, from other exports;
a row that is wrong on its own (bad address, duplicate, bad date…) is skipped and reported by
where it is, and the others go on.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError

from ..addresses import email_normalise, name_clean
from ..consent import consent_date_parse, consent_latest
from ..models import NOTE_MAX_LENGTH, Subscriber, Tier
from .cells import cell_boolean

Progress = Callable[[str, int, int], None]
LABELS_MAX_LENGTH = Subscriber._meta.get_field("labels").max_length
STRIPE_ID_MAX_LENGTH = Subscriber._meta.get_field("stripe_customer_id").max_length


@dataclass
class ImportReport:
    """What an import did, and every row it skipped, with why."""

    # What a row is called in messages: "line 12" of a CSV file.
    unit: str = "line"
    imported: int = 0
    active: int = 0
    # Subscribers already stored that the import subscribed to the newsletter (with consent).
    subscribed: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    # Columns of the file the import does not read.
    ignored_columns: list[str] = field(default_factory=list)

    def skip(self, number: int, reason: str, message: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.problems.append((number, f"{self.unit} {number}: {message}"))


@dataclass
class MemberRow:
    number: int
    email: str
    name: str
    note: str
    consented: bool
    tier: str
    stripe_customer_id: str
    labels: str
    # When the person was added, and consented if they did; None when the row gives no date.
    created_at: datetime | None


def _paid_tiers(value: str) -> bool:
    # Ghost lists a member's tiers by name, comma-separated; "Free" is not a paid one.
    return any(name.strip().lower() not in {"", "free"} for name in value.split(","))


def _text(cells: dict, column: str) -> str:
    # Cells from a CSV file are strings already; other exports (JSON) may give None or numbers.
    value = cells.get(column)
    if value.__class__ is str:
        return value.strip()
    return "" if value is None else str(value).strip()


def _tier(cells: dict, stripe: str) -> str:
    if cell_boolean(cells.get("complimentary_plan"), "complimentary_plan"):
        return Tier.COMPLIMENTARY
    if stripe or _paid_tiers(_text(cells, "tiers")):
        return Tier.PAID
    return Tier.FREE


def _limited(cells: dict, column: str, limit: int) -> str:
    value = _text(cells, column)
    if len(value) > limit:
        # Cut, it would come back different in the next export: refused, and said.
        raise ValueError(f"{column} is longer than {limit} characters ({len(value)})")
    return value


def member_row(number: int, cells: dict, consent_column: str | None, latest: datetime) -> MemberRow:
    """One row's cells as a member; raises ``ValueError`` or ``ValidationError`` (the address
    is checked by the caller, which needs it before the rest)."""
    stripe = _limited(cells, "stripe_customer_id", STRIPE_ID_MAX_LENGTH)
    return MemberRow(
        number=number,
        email=cells["email"],
        name=name_clean(_text(cells, "name")),
        note=_limited(cells, "note", NOTE_MAX_LENGTH),
        consented=consent_column is not None
        and cell_boolean(cells.get(consent_column), consent_column),
        tier=_tier(cells, stripe),
        stripe_customer_id=stripe,
        labels=_limited(cells, "labels", LABELS_MAX_LENGTH),
        created_at=consent_date_parse(
            _text(cells, "created_at"), column="created_at", latest=latest
        ),
    )


def members_check(
    records: Iterable[tuple[int, dict]],
    *,
    consent_column: str | None,
    report: ImportReport,
    progress: Progress | None = None,
    total: int = 0,
) -> list[MemberRow]:
    """The rows that may be imported; the others are reported and skipped."""
    rows: list[MemberRow] = []
    seen: dict[str, int] = {}
    latest = consent_latest()
    for number, cells in records:
        if progress and number % 1000 == 0:
            progress("checking", number, total)
        try:
            address = email_normalise(_text(cells, "email"))
        except ValidationError:
            report.skip(number, "invalid", "not a valid email address")
            continue
        if address in seen:
            report.skip(number, "duplicate", f"the same address as {report.unit} {seen[address]}")
            continue
        seen[address] = number
        if _text(cells, "deleted_at"):
            report.skip(number, "deleted", "deleted in Ghost")
            continue
        try:
            rows.append(member_row(number, {**cells, "email": address}, consent_column, latest))
        except (ValueError, ValidationError) as error:
            message = error.messages[0] if isinstance(error, ValidationError) else str(error)
            report.skip(number, "invalid", message)
    return rows
