"""How a schedule reads to an editor: “Mon 27 Jan 07:00 (in 3 h)”, in the newsroom's time
zone, for the admin's pages and the sending page."""

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _relative(delta_seconds: float) -> str:
    seconds = abs(delta_seconds)
    if seconds < 60:
        return _("now")
    if seconds < 3600:
        amount, unit = round(seconds / 60), "min"
    elif seconds < 48 * 3600:
        amount, unit = round(seconds / 3600), "h"
    else:
        amount, unit = round(seconds / 86400), "d"
    span = {
        "min": ngettext("%(n)d min", "%(n)d min", amount),
        "h": ngettext("%(n)d h", "%(n)d h", amount),
        "d": ngettext("%(n)d day", "%(n)d days", amount),
    }[unit] % {"n": amount}
    if delta_seconds > 0:
        return _("in %(span)s") % {"span": span}
    return _("%(span)s ago") % {"span": span}


def schedule_when(moment: datetime, *, now: datetime | None = None) -> str:
    """“Mon 27 Jan 07:00 (in 3 h)”, in the newsroom's time zone; the year when it is not
    this one."""
    now = now or timezone.now()
    local = timezone.localtime(moment)
    same_year = local.year == timezone.localtime(now).year
    text = date_format(local, "D j M H:i" if same_year else "D j M Y H:i")
    return f"{text} ({_relative((moment - now).total_seconds())})"


def schedule_describe(issue, *, now: datetime | None = None) -> str:
    """One line on when an issue goes out, or went out: what the admin shows beside it."""
    if issue.status == "scheduled" and issue.publish_at:
        return _("Scheduled for %(when)s") % {"when": schedule_when(issue.publish_at, now=now)}
    if issue.published_at:
        return _("Published %(when)s") % {"when": schedule_when(issue.published_at, now=now)}
    return _("Not scheduled")
