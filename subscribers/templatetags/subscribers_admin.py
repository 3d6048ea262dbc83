"""An issue's sending on its admin page, without ``issues`` importing ``subscribers``:

{% load subscribers_admin %}{% issue_sending_link original as sending %}
{% if sending %}<a href="{{ sending.url }}">{{ sending.label }}</a>{% endif %}
{% issue_sending_panel original %}
"""

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from issues.models import IssueStatus

from ..dispatch.progress import dispatch_progress
from ..models import Dispatch

register = template.Library()


@register.simple_tag
def issue_sending_link(issue):
    """The address of the issue's sending page and its label (“Sending page” while it is being
    sent, its numbers live in the panel below; “Sending report” once sent); None when the issue
    has not been published."""
    if issue is None or not issue.pk or not Dispatch.objects.filter(issue_id=issue.pk).exists():
        return None
    url = reverse("subscribers:issue_sending", args=[issue.pk])
    if issue.status == IssueStatus.SENDING:
        return {"url": url, "label": _("Sending page")}
    return {"url": url, "label": _("Sending report")}


@register.inclusion_tag("subscribers/admin/issue_sending_panel.html", takes_context=True)
def issue_sending_panel(context, issue):
    """The sending's live summary (bar, rate, time left, failures) on the issue's page, once
    the issue is published; nothing before."""
    from ..dispatch.pages import VIEW_PERMISSION, progress_data  # (it imports the admin)

    user = context["request"].user
    if issue is None or not issue.pk or not user.has_perm(VIEW_PERMISSION):
        return {"progress": None}
    progress = dispatch_progress(issue_id=issue.pk)
    if progress is None:
        return {"progress": None}
    return {
        "progress": progress_data(issue, progress, user),
        "progress_url": reverse("subscribers:issue_sending_progress", args=[issue.pk]),
        "sending_url": reverse("subscribers:issue_sending", args=[issue.pk]),
    }
