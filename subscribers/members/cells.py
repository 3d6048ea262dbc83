"""Cells of a members file: the spreadsheet formula guard, both ways, and true/false values.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return as a formula, so the export writes such a cell with a leading ``'``, as Ghost's does.
For the guard to be undone exactly, a value that itself starts with ``'`` followed by one of
those (or by another ``'``) gets one more ``'`` too: the import takes off exactly one ``'``
before such a start, so ``'=x`` stored goes out as ``''=x`` and comes back as ``'=x``.
A Ghost cell such as ``'Tis`` is left alone both ways.
"""

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ESCAPED_START = (*_FORMULA_START, "'")

_TRUE = {"true", "1", "yes", "y", "t"}
_FALSE = {"false", "0", "no", "n", "f", ""}


def cell_escape(value) -> str:
    """A value as the export writes it: never run as a formula, read back unchanged."""
    value = "" if value is None else str(value)
    if value.startswith(_FORMULA_START) or (value[:1] == "'" and value[1:2] in _ESCAPED_START):
        return "'" + value
    return value


def cell_unescape(value: str) -> str:
    """A cell as stored: surrounding spaces and the export's formula guard taken off."""
    value = (value or "").strip()
    if value[:1] == "'" and value[1:2] in _ESCAPED_START:
        return value[1:]
    return value


def cell_boolean(value, column: str) -> bool:
    """true/false in the spellings exports use; raises ``ValueError`` naming the column."""
    if isinstance(value, bool):
        return value
    text = ("" if value is None else str(value)).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{column} must be true or false, not {text[:20]!r}")
