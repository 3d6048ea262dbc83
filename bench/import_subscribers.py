"""Import subscribers from a Ghost members CSV: rows per second, for 100 000 rows by default.

    .venv/bin/python bench/import_subscribers.py [--rows 100000]

Runs on a throw-away SQLite database (or on DATABASE_URL when it is set: the bench then adds
its rows to that database). Prints figures; it asserts nothing. One row in a hundred is bad (an
invalid address or a duplicate), as in a real export.
"""

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BELLCMS_VAR_DIR", tempfile.mkdtemp(prefix="bellcms-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bellcms.settings.local")


def write_ghost_csv(path: Path, rows: int, run: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        from subscribers.members import GHOST_COLUMNS

        writer.writerow(GHOST_COLUMNS)
        for n in range(rows):
            email = f"bench{run}-{n}@example.org"
            if n % 200 == 0:
                email = "not an address"
            elif n % 200 == 100:
                email = f"bench{run}-{n - 1}@example.org"
            writer.writerow(
                [
                    email,
                    f"Reader {n}",
                    "",
                    "true" if n % 5 else "false",
                    "false",
                    f"cus_{n}" if n % 20 == 0 else "",
                    "2024-02-03T04:05:06.000Z",
                    "",
                    "bench",
                    "",
                ]
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from issues.models import Newsletter
    from subscribers.members import subscribers_import

    call_command("migrate", verbosity=0)
    newsletter, _ = Newsletter.objects.get_or_create(
        slug="bench-weekly", defaults={"name": "Bench Weekly", "kicker": "BENCH WEEKLY"}
    )
    run = str(int(time.time()))
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "members.csv"
        write_ghost_csv(path, args.rows, run)
        data = path.read_bytes()
    start = time.perf_counter()
    report = subscribers_import(data=data, newsletter=newsletter, source="bench.csv")
    first = time.perf_counter() - start
    start = time.perf_counter()
    again = subscribers_import(data=data, newsletter=newsletter, source="bench.csv")
    second = time.perf_counter() - start

    print(f"database: {connection.vendor}, file: {len(data) / 1e6:.1f} MB, {args.rows} rows")
    print(
        f"import:   {first:.2f} s, {args.rows / first:,.0f} rows/s "
        f"({report.imported} imported, {sum(report.skipped.values())} skipped)"
    )
    print(
        f"again:    {second:.2f} s, {args.rows / second:,.0f} rows/s "
        f"({again.imported} imported: idempotent)"
    )


if __name__ == "__main__":
    main()
