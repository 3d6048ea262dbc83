"""``manage.py export_subscribers``: subscribers as CSV with Ghost's columns."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from issues.models import Newsletter
from subscribers.members import subscribers_export


class Command(BaseCommand):
    help = (
        "Write subscribers as CSV with the columns of Ghost's members export, to standard "
        "output or --output FILE. import_subscribers reads it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", metavar="FILE", help="Write here instead.")
        parser.add_argument("--newsletter", metavar="SLUG", help="Only this newsletter's.")

    def handle(self, *args, **options):
        newsletter = None
        if options["newsletter"]:
            newsletter = Newsletter.objects.filter(slug=options["newsletter"]).first()
            if newsletter is None:
                raise CommandError(f"There is no newsletter {options['newsletter']!r}.")
        if options["output"]:
            path = Path(options["output"])
            try:
                with path.open("w", encoding="utf-8", newline="") as out:
                    count = subscribers_export(out=out, newsletter=newsletter)
            except OSError as error:
                raise CommandError(f"{path}: {error.strerror}") from None
            self.stderr.write(f"Exported {count} subscribers to {path}.")
        else:
            subscribers_export(out=self.stdout, newsletter=newsletter)
