"""Dates as people read them, in the newsroom's time zone, even when a stored one is absurd.

A date imported from a file (9999-12-31T23:59:59Z, say) fits the database but not Python's
datetime once shifted east of UTC: Django's own display raises ``OverflowError`` and the page
answers 500. Imports refuse such dates now; this keeps pages up for any stored before.
"""

from datetime import datetime, timedelta

from django.utils import formats, timezone
from django.utils.translation import gettext as _


def datetime_shown(value: datetime | None, empty: str = "-") -> str:
    """The value localised in the newsroom's zone; as stored, marked, when it cannot be."""
    if value is None:
        return empty
    try:
        return formats.localize(timezone.template_localtime(value))
    except (OverflowError, ValueError):
        if timezone.is_aware(value) and value.utcoffset() == timedelta(0):
            text = value.strftime("%Y-%m-%d %H:%M:%S UTC")
        else:
            text = value.isoformat(" ", "seconds")
        return _("%(value)s (out of range)") % {"value": text}
