"""Write the public archive into a directory as static files, for mirrors."""

from django.core.management.base import BaseCommand, CommandError

from archive.export import ExportError, archive_export


class Command(BaseCommand):
    help = (
        "Write the public archive (pages, feeds, sitemap, CSS, an offline search) into DIR as "
        "static files with relative links. A rerun rewrites only what changed."
    )

    def add_arguments(self, parser):
        parser.add_argument("directory", metavar="DIR", help="Where the copy goes.")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Render every issue again, even those whose fingerprint has not changed.",
        )

    def handle(self, *args, directory, full, verbosity, **options):
        try:
            report = archive_export(directory=directory, full=full)
        except ExportError as error:
            raise CommandError(str(error)) from None
        for note in report.notes:
            self.stderr.write(note)
        for name in report.written:
            self.stdout.write(f"wrote {name}")
        for name in report.removed:
            self.stdout.write(f"removed {name}")
        if verbosity > 1:
            for name in report.kept:
                self.stdout.write(f"kept {name}")
        self.stdout.write(
            f"{report.directory}: {len(report.written)} written, {len(report.kept)} kept, "
            f"{len(report.removed)} removed; issues: {len(report.issues_rendered)} rendered, "
            f"{len(report.issues_kept)} unchanged."
        )
