"""The one error the importer raises, for bad files and bad options alike."""

from django.utils.translation import gettext as _


class IssueImportError(Exception):
    """Why an import was refused, in one line, with where in the file when that is known.

    ``filename`` is filled in by ``issue_import`` for problems found in the file, so the
    command can print ``issue.txt, line 12: …`` without each parser knowing the file's name.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.filename = ""

    def __str__(self) -> str:
        where = []
        if self.filename:
            where.append(self.filename)
        if self.line is not None:
            where.append(_("line %(line)d") % {"line": self.line})
        if self.column is not None:
            where.append(_("column %(column)d") % {"column": self.column})
        if not where:
            return self.message
        return f"{', '.join(where)}: {self.message}"
