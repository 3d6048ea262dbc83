"""The sending's link on an issue's admin page, without ``issues`` importing ``subscribers``:

{% load subscribers_admin %}{% issue_sending_link original as sending %}
{% if sending %}<a href="{{ sending.url }}">{{ sending.label }}</a>{% endif %}
"""

from django import template
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from issues.models import IssueStatus

from ..dispatch import dispatch_counts
from ..models import DeliveryStatus, Dispatch, DispatchState

register = template.Library()


@register.simple_tag
def issue_sending_link(issue):
    """The address of the issue's sending page and its label (“Sending: 45 %” while it is
    being sent, “Sending paused: 45 %”, “Sending report” once sent); None when the issue has
    not been published."""
    if issue is None or not issue.pk:
        return None
    dispatch = Dispatch.objects.filter(issue_id=issue.pk).only("state", "audience").first()
    if dispatch is None:
        return None
    url = reverse("subscribers:issue_sending", args=[issue.pk])
    if issue.status != IssueStatus.SENDING:
        return {"url": url, "label": _("Sending report")}
    # Counts only (the index answers them): the change page needs no rate.
    counts = dispatch_counts(issue_id=issue.pk)
    open_ = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.CLAIMED]
    settled = sum(counts.values()) - open_
    percent = 100.0 if not dispatch.audience else 100.0 * settled / dispatch.audience
    # Rounded down: 99.6 % is not done.
    shown = number_format(int(percent))
    if dispatch.state == DispatchState.PAUSED:
        label = _("Sending paused: %(percent)s %%") % {"percent": shown}
    elif dispatch.state == DispatchState.CANCELLED:
        # The batches in flight finish; then the issue is sent.
        label = _("Sending cancelled: %(percent)s %%") % {"percent": shown}
    else:
        label = _("Sending: %(percent)s %%") % {"percent": shown}
    return {"url": url, "label": label}
