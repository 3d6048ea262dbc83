"""Import and export of subscribers as CSV: Ghost's members export, or plain ``email,name``.

The whole file is read and checked before anything is written, and written in one transaction:
a file that cannot be read (encoding, missing column, broken CSV) writes nothing. Rows that are
wrong on their own (bad address, duplicate, bad date) are skipped and reported by line number.
Only rows whose CSV says they consented (Ghost's ``subscribed_to_emails``) are active. A row whose
address is already a subscriber is skipped when they are already subscribed to the newsletter or
the row records no consent; with consent, they are subscribed (and activated if pending). So
importing a file twice adds nothing. Suppressed addresses are never touched, and an unsubscribe
later than the consent the row records (its ``created_at``) wins over the file.
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from issues.models import Newsletter

from .addresses import email_normalise, name_clean, suppression_hash_normalised
from .models import (
    ConsentMethod,
    Subscriber,
    SubscriberEvent,
    SubscriberStatus,
    Subscription,
    SubscriptionStatus,
    Suppression,
    Tier,
)

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
# Rows per INSERT: large enough to be fast, small enough for SQLite's variable limit.
WRITE_BATCH = 1000
# Addresses per lookup of existing rows (an IN list).
LOOKUP_BATCH = 2000
_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}
# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Progress = Callable[[str, int, int], None]


class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was written."""


@dataclass
class ImportReport:
    imported: int = 0
    active: int = 0
    # Subscribers already stored that the import subscribed to the newsletter (with consent).
    subscribed: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, line: int, reason: str, message: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.problems.append((line, message))


@dataclass
class _Row:
    line: int
    email: str
    name: str
    note: str
    consented: bool
    tier: str
    stripe_customer_id: str
    labels: str
    created_at: datetime


def _decode(data: bytes) -> str:
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


def _unescape_cell(value: str) -> str:
    # export writes "'=…" for a cell that would run as a formula; take it back on import.
    value = (value or "").strip()
    if value[:1] == "'" and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


def _boolean(value: str, column: str) -> bool:
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{column} must be true or false, not {value[:20]!r}")


def _datetime(value: str, column: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        parsed = parse_datetime(value.replace(" ", "T", 1) if "T" not in value else value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValueError(f"{column} is not a date and time: {value[:40]!r}")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed, UTC)


def _paid_tiers(value: str) -> bool:
    # Ghost lists a member's tiers by name, comma-separated; "Free" is not a paid one.
    return any(name.strip().lower() not in {"", "free"} for name in value.split(","))


def _header(reader) -> list[str]:
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("the file is empty") from None
    return [column.strip().lower() for column in header]


def _parse(text: str, report: ImportReport, progress: Progress | None) -> list[_Row]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = _header(reader)
    except csv.Error as error:
        raise ImportFileError(f"line 1: {error}") from None
    if "email" not in header:
        raise ImportFileError(
            "line 1: missing column 'email' (found: "
            + ", ".join(column[:40] for column in header[:12])
            + "). Expected Ghost's members export or 'email,name'."
        )
    ghost = "subscribed_to_emails" in header
    index = {column: header.index(column) for column in GHOST_COLUMNS if column in header}
    total = text.count("\n")
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    now = timezone.now()
    # A record starts on the line after the previous one ended: a quoted field may hold
    # line breaks, and the reader's own line_num is where the record ends.
    ended = reader.line_num
    try:
        for values in reader:
            line, ended = ended + 1, reader.line_num
            if progress and line % 1000 == 0:
                progress("checking", line, total)
            if not any(value.strip() for value in values):
                continue
            cell = {
                column: _unescape_cell(values[i]) if i < len(values) else ""
                for column, i in index.items()
            }
            try:
                address = email_normalise(cell["email"])
            except ValidationError:
                report.skip(line, "invalid", f"line {line}: not a valid email address")
                continue
            if address in seen:
                report.skip(
                    line, "duplicate", f"line {line}: the same address as line {seen[address]}"
                )
                continue
            seen[address] = line
            try:
                if ghost and cell.get("deleted_at"):
                    report.skip(line, "deleted", f"line {line}: deleted in Ghost")
                    continue
                consented = ghost and _boolean(
                    cell.get("subscribed_to_emails", ""), "subscribed_to_emails"
                )
                complimentary = _boolean(cell.get("complimentary_plan", ""), "complimentary_plan")
                stripe = cell.get("stripe_customer_id", "")[:100]
                tier = (
                    Tier.COMPLIMENTARY
                    if complimentary
                    else Tier.PAID
                    if (stripe or _paid_tiers(cell.get("tiers", "")))
                    else Tier.FREE
                )
                rows.append(
                    _Row(
                        line=line,
                        email=address,
                        name=name_clean(cell.get("name", "")),
                        note=cell.get("note", "")[:2000],
                        consented=consented,
                        tier=tier,
                        stripe_customer_id=stripe,
                        labels=cell.get("labels", "")[:500],
                        created_at=_datetime(cell.get("created_at", ""), "created_at") or now,
                    )
                )
            except (ValueError, ValidationError) as error:
                message = error.messages[0] if isinstance(error, ValidationError) else str(error)
                report.skip(line, "invalid", f"line {line}: {message}")
    except csv.Error as error:
        raise ImportFileError(f"line {reader.line_num}: {error}") from None
    return rows


def _batched(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass
class _Known:
    """An address already stored, as far as the import needs to know it."""

    row: _Row
    subscriber_id: int
    status: str
    subscription_id: int | None


def _drop_known(
    rows: list[_Row], newsletter: Newsletter, report: ImportReport
) -> tuple[list[_Row], list[_Known]]:
    """Split rows into new addresses and stored subscribers the import may subscribe.

    Skips suppressed addresses, stored subscribers already subscribed to the newsletter, and
    stored subscribers the CSV gives no consent for (or only a consent older than their leaving).
    """
    existing: dict[str, tuple] = {}
    for batch in _batched([row.email for row in rows], LOOKUP_BATCH):
        existing.update(
            (values[0], values[1:])
            for values in Subscriber.objects.filter(email__in=batch).values_list(
                "email", "pk", "status"
            )
        )
    subscriptions: dict[int, tuple] = {}
    left_any: dict[int, datetime] = {}
    ids = [values[0] for values in existing.values()]
    for batch in _batched(ids, LOOKUP_BATCH):
        for (
            subscriber_id,
            newsletter_id,
            pk,
            status,
            unsubscribed_at,
        ) in Subscription.objects.filter(subscriber_id__in=batch).values_list(
            "subscriber_id", "newsletter_id", "pk", "status", "unsubscribed_at"
        ):
            if newsletter_id == newsletter.pk:
                subscriptions[subscriber_id] = (pk, status, unsubscribed_at)
            if unsubscribed_at is not None:
                left_any[subscriber_id] = max(
                    unsubscribed_at, left_any.get(subscriber_id, unsubscribed_at)
                )
    hashes = {row.email: suppression_hash_normalised(row.email) for row in rows}
    suppressed: set[str] = set()
    for batch in _batched(list(hashes.values()), LOOKUP_BATCH):
        suppressed.update(
            Suppression.objects.filter(address_hash__in=batch).values_list(
                "address_hash", flat=True
            )
        )
    kept: list[_Row] = []
    known: list[_Known] = []
    for row in rows:
        if hashes[row.email] in suppressed:
            report.skip(row.line, "suppressed", f"line {row.line}: the address is suppressed")
            continue
        if row.email not in existing:
            kept.append(row)
            continue
        subscriber_id, status = existing[row.email]
        subscription_id, subscription_status, unsubscribed_at = subscriptions.get(
            subscriber_id, (None, None, None)
        )
        # Leaving this newsletter, or leaving them all, outlives a consent recorded before it.
        left_at = unsubscribed_at
        if status == SubscriberStatus.UNSUBSCRIBED:
            left_at = left_any.get(subscriber_id)
        if status == SubscriberStatus.ACTIVE and subscription_status == SubscriptionStatus.ACTIVE:
            report.skip(row.line, "existing", f"line {row.line}: already subscribed")
        elif status in {SubscriberStatus.BOUNCED, SubscriberStatus.COMPLAINED}:
            report.skip(row.line, "stopped", f"line {row.line}: the address bounced or complained")
        elif not row.consented:
            report.skip(
                row.line,
                "existing",
                f"line {row.line}: already a subscriber; no consent in the file",
            )
        elif left_at is not None and row.created_at <= left_at:
            report.skip(
                row.line,
                "unsubscribed",
                f"line {row.line}: unsubscribed after the consent the file records",
            )
        else:
            known.append(
                _Known(
                    row=row,
                    subscriber_id=subscriber_id,
                    status=status,
                    subscription_id=subscription_id,
                )
            )
    return kept, known


def _write_known(known: list[_Known], newsletter, source, report) -> None:
    """Subscribe stored subscribers whose row records consent, and activate them if need be."""
    now = timezone.now()
    consent_source = f"import: {source}"[:200]
    for batch in _batched(known, WRITE_BATCH):
        by_id = {item.subscriber_id: item for item in batch}
        to_activate = []
        for subscriber in Subscriber.objects.filter(pk__in=list(by_id)):
            item = by_id[subscriber.pk]
            if subscriber.status != SubscriberStatus.ACTIVE:
                subscriber.status = SubscriberStatus.ACTIVE
                subscriber.consent_at = item.row.created_at
                subscriber.consent_method = ConsentMethod.IMPORT
                subscriber.consent_source = consent_source
                subscriber.updated_at = now
                to_activate.append(subscriber)
        Subscriber.objects.bulk_update(
            to_activate,
            ["status", "consent_at", "consent_method", "consent_source", "updated_at"],
        )
        Subscription.objects.filter(
            pk__in=[item.subscription_id for item in batch if item.subscription_id is not None]
        ).update(status=SubscriptionStatus.ACTIVE, confirmed_at=now)
        Subscription.objects.bulk_create(
            [
                Subscription(
                    subscriber_id=item.subscriber_id,
                    newsletter=newsletter,
                    status=SubscriptionStatus.ACTIVE,
                    confirmed_at=now,
                )
                for item in batch
                if item.subscription_id is None
            ]
        )
        SubscriberEvent.objects.bulk_create(
            [
                SubscriberEvent(
                    subscriber_id=item.subscriber_id,
                    action="import",
                    newsletter=newsletter,
                    detail=source[:300],
                    created_at=now,
                )
                for item in batch
            ]
        )
        report.subscribed += len(batch)


def subscribers_import(
    *,
    data: bytes,
    newsletter: Newsletter,
    source: str,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a CSV file's bytes; see the module's docstring. Raises ``ImportFileError``."""
    if len(data) > settings.SUBSCRIBERS_IMPORT_MAX_BYTES:
        raise ImportFileError(
            f"the file is larger than {settings.SUBSCRIBERS_IMPORT_MAX_BYTES} bytes"
        )
    report = ImportReport()
    rows = _parse(_decode(data), report, progress)
    with transaction.atomic():
        rows, known = _drop_known(rows, newsletter, report)
        _write(rows, newsletter, source, report, progress)
        _write_known(known, newsletter, source, report)
    report.problems.sort()
    return report


def _write(rows, newsletter, source, report, progress) -> None:
    now = timezone.now()
    consent_source = f"import: {source}"[:200]
    for done, batch in enumerate(_batched(rows, WRITE_BATCH)):
        subscribers = Subscriber.objects.bulk_create(
            [
                Subscriber(
                    email=row.email,
                    name=row.name,
                    note=row.note,
                    labels=row.labels,
                    tier=row.tier,
                    stripe_customer_id=row.stripe_customer_id,
                    created_at=row.created_at,
                    status=SubscriberStatus.ACTIVE if row.consented else SubscriberStatus.PENDING,
                    consent_at=row.created_at if row.consented else None,
                    consent_method=ConsentMethod.IMPORT if row.consented else "",
                    consent_source=consent_source if row.consented else "",
                )
                for row in batch
            ]
        )
        if any(subscriber.pk is None for subscriber in subscribers):
            # Databases that cannot return ids from a bulk insert: read them back.
            ids = dict(
                Subscriber.objects.filter(email__in=[s.email for s in subscribers]).values_list(
                    "email", "pk"
                )
            )
            for subscriber in subscribers:
                subscriber.pk = ids[subscriber.email]
        Subscription.objects.bulk_create(
            [
                Subscription(
                    subscriber=subscriber,
                    newsletter=newsletter,
                    status=SubscriptionStatus.ACTIVE,
                    confirmed_at=subscriber.consent_at,
                )
                for subscriber in subscribers
                if subscriber.status == SubscriberStatus.ACTIVE
            ]
        )
        SubscriberEvent.objects.bulk_create(
            [
                SubscriberEvent(
                    subscriber=subscriber,
                    action="import",
                    newsletter=newsletter,
                    detail=source[:300],
                    created_at=now,
                )
                for subscriber in subscribers
            ]
        )
        report.imported += len(subscribers)
        report.active += sum(s.status == SubscriberStatus.ACTIVE for s in subscribers)
        if progress:
            progress("writing", min((done + 1) * WRITE_BATCH, len(rows)), len(rows))


def _safe_cell(value) -> str:
    value = "" if value is None else str(value)
    return "'" + value if value.startswith(_FORMULA_START) else value


def _iso(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z") if value else ""


def subscribers_export(*, out, newsletter: Newsletter | None = None) -> int:
    """Write subscribers as CSV with Ghost's columns to ``out``; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(GHOST_COLUMNS)
    subscribers = Subscriber.objects.order_by("pk")
    active = Subscription.objects.filter(status=SubscriptionStatus.ACTIVE)
    if newsletter is not None:
        subscribers = subscribers.filter(subscriptions__newsletter=newsletter)
        active = active.filter(newsletter=newsletter)
    subscribed = set(active.values_list("subscriber_id", flat=True))
    count = 0
    for subscriber in subscribers.iterator(chunk_size=2000):
        is_subscribed = subscriber.status == SubscriberStatus.ACTIVE and subscriber.pk in subscribed
        writer.writerow(
            [
                _safe_cell(subscriber.email),
                _safe_cell(subscriber.name),
                _safe_cell(subscriber.note),
                "true" if is_subscribed else "false",
                "true" if subscriber.tier == Tier.COMPLIMENTARY else "false",
                _safe_cell(subscriber.stripe_customer_id),
                _iso(subscriber.created_at),
                "",
                _safe_cell(subscriber.labels),
                subscriber.tier if subscriber.tier != Tier.FREE else "",
            ]
        )
        count += 1
    return count
