"""``manage.py import_subscribers CSV``: a thin wrapper around ``subscribers_import``."""

import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from issues.models import Newsletter
from subscribers.members import ImportFileError, subscribers_import

# Problems listed one by one; past this many, only their count.
MAX_LISTED_PROBLEMS = 1000


def newsletter_from_option(slug: str | None) -> Newsletter:
    if slug:
        newsletter = Newsletter.objects.filter(slug=slug).first()
        if newsletter is None:
            raise CommandError(f"There is no newsletter {slug!r}.")
        return newsletter
    newsletters = list(Newsletter.objects.all()[:2])
    if len(newsletters) != 1:
        raise CommandError("Name the newsletter with --newsletter SLUG.")
    return newsletters[0]


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file: Ghost's members export (email, name, note, "
        "subscribed_to_emails, complimentary_plan, stripe_customer_id, created_at, deleted_at, "
        "labels, tiers) or plain 'email,name'. Rows with subscribed_to_emails=true (Ghost 3: "
        "subscribed=true) become active; the others wait for consent. Importing a file twice "
        "adds nothing, and no file subscribes again someone who left."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The CSV file (UTF-8).")
        parser.add_argument("--newsletter", metavar="SLUG", help="Subscribe to this newsletter.")
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not show the progress bar."
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        newsletter = newsletter_from_option(options["newsletter"])
        try:
            size = path.stat().st_size
            if size > settings.SUBSCRIBERS_IMPORT_MAX_BYTES:
                raise CommandError(
                    f"{path.name}: larger than {settings.SUBSCRIBERS_IMPORT_MAX_BYTES} bytes; "
                    "nothing was imported."
                )
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: {error.strerror}") from None
        progress = None if options["no_progress"] else self.progress
        try:
            report = subscribers_import(
                data=data, newsletter=newsletter, source=path.name, progress=progress
            )
        except ImportFileError as error:
            self.progress_done()
            raise CommandError(f"{path.name}: {error}; nothing was imported.") from None
        self.progress_done()
        for _line, message in report.problems[:MAX_LISTED_PROBLEMS]:
            self.stderr.write(f"{path.name}: {message}")
        if len(report.problems) > MAX_LISTED_PROBLEMS:
            self.stderr.write(f"… and {len(report.problems) - MAX_LISTED_PROBLEMS} more")
        skipped = ", ".join(f"{count} {reason}" for reason, count in sorted(report.skipped.items()))
        self.stdout.write(
            f"Imported {report.imported} subscribers ({report.active} active) into "
            f"{newsletter.name}; subscribed {report.subscribed} existing subscribers; "
            f"skipped {sum(report.skipped.values())}" + (f" ({skipped})" if skipped else "") + "."
        )
        if report.ignored_columns:
            self.stdout.write(
                "Ignored columns, not read by BellCMS: " + ", ".join(report.ignored_columns) + "."
            )

    def progress(self, phase: str, done: int, total: int) -> None:
        total = max(total, done, 1)
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        self.stderr.write(f"\r{phase:>8} [{bar}] {done}/{total}", ending="")
        self._progress_shown = True
        sys.stderr.flush()

    def progress_done(self) -> None:
        if getattr(self, "_progress_shown", False):
            self.stderr.write("")
