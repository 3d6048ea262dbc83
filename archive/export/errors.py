"""What goes wrong with an export in a way the operator must hear about."""


class ExportError(Exception):
    """The copy cannot be made as asked; the message says why, for the command to print."""
