"""Print an issue as plain text, as its HTML email or as a complete .eml message."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from issues.models import Issue
from issues.rendering import issue_render_eml, issue_render_html, issue_render_text

RENDERERS = {
    "text": lambda issue: issue_render_text(issue=issue).encode(),
    "html": lambda issue: issue_render_html(issue=issue).encode(),
    "eml": lambda issue: issue_render_eml(issue=issue),
}


class Command(BaseCommand):
    help = "Render an issue as text, HTML or an .eml message, to stdout (UTF-8) or a file."

    def add_arguments(self, parser):
        parser.add_argument("issue_id", metavar="ID", help="The id of the issue.")
        # Checked in handle() rather than by argparse choices, so that a wrong value gives
        # the same one-line error from the shell and from call_command().
        parser.add_argument("--format", default="text", help="text (default), html or eml.")
        parser.add_argument("--output", metavar="FILE", help="Write to FILE instead of stdout.")

    def handle(self, *args, **options):
        issue_id, kind, output = options["issue_id"], options["format"], options["output"]
        renderer = RENDERERS.get(kind)
        if renderer is None:
            raise CommandError(f"Unknown format {kind!r}: use text, html or eml.")
        try:
            issue = Issue.objects.get(pk=int(issue_id))
        except (ValueError, Issue.DoesNotExist):
            raise CommandError(f"No issue with id {issue_id!r}.") from None
        rendered = renderer(issue)
        if output:
            try:
                Path(output).write_bytes(rendered)
            except OSError as error:
                raise CommandError(f"Cannot write {output}: {error.strerror}.") from None
            self.stderr.write(f"Wrote {kind} of issue {issue.pk} to {output}.")
            return
        self._write_bytes(rendered)

    def _write_bytes(self, data):
        # UTF-8 whatever the terminal's locale says; a StringIO (call_command) gets text.
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is None:
            self.stdout.write(data.decode(), ending="")
            return
        self.stdout.flush()
        buffer.write(data)
        buffer.flush()
