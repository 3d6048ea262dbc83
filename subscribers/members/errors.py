class ImportFileError(Exception):
    """The file as a whole cannot be imported; nothing was written."""
