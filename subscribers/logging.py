"""A logging filter that keeps subscribers' tokens out of logs.

Django's request loggers write the path of every 404, 405 or CSRF failure
(``Method Not Allowed (GET): /preferences/<token>/data/``). A token in such a path opens
that person's preferences or unsubscribes them, so the filter replaces the token segment of
``/u/``, ``/preferences/`` and ``/confirm/`` paths with ``[redacted]`` before any handler sees
the record. It is wired in ``bellcms/settings/base.py`` (``LOGGING``).
"""

import logging
import re

REDACTED = "[redacted]"
_TOKEN_PATH = re.compile(r"(/(?:u|preferences|confirm)/)[^/\s?#\"'<>]+")


def token_paths_redact(text: str) -> str:
    """``text`` with the token of every ``/u/``, ``/preferences/`` and ``/confirm/`` path hidden."""
    return _TOKEN_PATH.sub(rf"\g<1>{REDACTED}", text)


class TokenPathFilter(logging.Filter):
    """Redacts token-bearing paths in a record's message; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # A broken format string is the handler's to report, not ours.
            return True
        redacted = token_paths_redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True
