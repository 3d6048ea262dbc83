"""The editorial calendar page: a month of scheduled and sent issues, day by day, in the
newsroom's zone (``issues.calendar`` reads them)."""

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from ..calendar import calendar_month, month_parse, month_shift, upcoming_unscheduled_count
from ..models import IssueStatus, Newsletter

# Months a calendar can reach: month_shift() past these would leave the datetime range.
FIRST_YEAR, LAST_YEAR = 1900, 9998


def _newsletter_id(value: str | None, newsletters) -> int | None:
    ids = {newsletter.pk for newsletter in newsletters}
    try:
        number = int(value or "")
    except ValueError:
        return None
    return number if number in ids else None


def calendar_view(model_admin):
    """The view for ``IssueAdmin``: whoever may see issues may see when they go out."""

    def view(request):
        if not model_admin.has_view_or_change_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        first = month_parse(request.GET.get("month"), today=today)
        if not FIRST_YEAR <= first.year <= LAST_YEAR:
            first = today.replace(day=1)
        newsletters = list(Newsletter.objects.order_by("name"))
        newsletter_id = _newsletter_id(request.GET.get("newsletter"), newsletters)
        url = reverse(f"{model_admin.admin_site.name}:issues_issue_calendar")

        def month_url(month):
            query = {"month": month.strftime("%Y-%m")}
            if newsletter_id:
                query["newsletter"] = newsletter_id
            return f"{url}?{urlencode(query)}"

        days = calendar_month(first=first, newsletter_id=newsletter_id)
        previous, following = month_shift(first, -1), month_shift(first, 1)
        changelist = reverse(f"{model_admin.admin_site.name}:issues_issue_changelist")
        context = {
            **model_admin.admin_site.each_context(request),
            "title": _("Editorial calendar"),
            "subtitle": None,
            "opts": model_admin.opts,
            "month": first,
            "month_name": date_format(first, "F Y"),
            "days": days,
            "today": today,
            "previous_url": month_url(previous),
            "previous_name": date_format(previous, "F Y"),
            "next_url": month_url(following),
            "next_name": date_format(following, "F Y"),
            "this_month_url": month_url(today.replace(day=1)),
            "is_this_month": first == today.replace(day=1),
            "newsletters": newsletters,
            "newsletter_id": newsletter_id,
            "zone": timezone.get_current_timezone_name(),
            "unscheduled": upcoming_unscheduled_count(),
            "unscheduled_url": f"{changelist}?{urlencode({'status__exact': IssueStatus.APPROVED})}",
            "changelist_url": changelist,
        }
        request.current_app = model_admin.admin_site.name
        return TemplateResponse(request, "admin/issues/calendar.html", context)

    return view
