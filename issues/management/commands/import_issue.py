"""``manage.py import_issue PATH``: a thin wrapper around ``issues.importing.issue_import``."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from issues.importing import IssueImportError, issue_import


class Command(BaseCommand):
    help = (
        "Import an issue from a plain-text or Markdown file (see docs/importing.md) as a new "
        "draft and print its id, alone, on standard output."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The issue file (.txt, .md or .markdown).")
        parser.add_argument(
            "--newsletter",
            metavar="SLUG",
            help="The newsletter to import into (default: the one whose kicker the file has).",
        )
        parser.add_argument(
            "--number", type=int, help="The issue number (default: the next free one)."
        )
        parser.add_argument(
            "--author",
            metavar="USERNAME",
            action="append",
            default=[],
            help=(
                "Add this user as author of every story; repeat for more authors (default: the "
                "newsletter's default author, if it has one)."
            ),
        )
        parser.add_argument(
            "--format",
            choices=["text", "markdown"],
            help="Override the format detected from the file name and first line.",
        )

    def handle(self, *args, **options):
        try:
            issue = issue_import(
                path=options["path"],
                newsletter=options["newsletter"],
                number=options["number"],
                authors=options["author"],
                markup=options["format"],
            )
        except IssueImportError as exc:
            raise CommandError(str(exc)) from exc
        # Standard output carries the id alone so scripts can capture it; people read stderr.
        self.stdout.write(str(issue.pk))
        if not issue.stories.filter(authors__isnull=False).exists():
            # Not an error: an editor can add authors later. But a journalist sees only the
            # stories they author, so until then these are invisible to every journalist.
            self.stderr.write(
                _(
                    "Warning: the imported stories have no author, so no journalist will see "
                    "them. Name one with --author USERNAME, or set the newsletter's default "
                    "author."
                ),
                style_func=self.style.WARNING,
            )
        if options["verbosity"] > 0:
            stories = issue.stories.count()
            self.stderr.write(
                ngettext(
                    "Imported %(newsletter)s #%(number)d “%(title)s”: %(stories)d story.",
                    "Imported %(newsletter)s #%(number)d “%(title)s”: %(stories)d stories.",
                    stories,
                )
                % {
                    "newsletter": issue.newsletter.name,
                    "number": issue.number,
                    "title": issue.title,
                    "stories": stories,
                },
                style_func=self.style.SUCCESS,
            )
