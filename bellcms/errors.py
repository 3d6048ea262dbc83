"""The 403 and 404 pages (``handler403``, ``handler404`` in bellcms/urls.py).

Readers get Django's own views with the public templates (templates/403.html, 404.html). A
newsroom member who meets one inside the newsroom (the admin, and the admin's pages under
/newsroom/) stays in its chrome instead, with the way back to the dashboard: the admin says
"no access" to a journalist on the subscriber list, for instance, and it must read as BellCMS.
400 and 500 need no view of their own: Django renders 400.html and 500.html without a
request, and 500.html needs no database either.
"""

from django.contrib import admin
from django.http import Http404
from django.shortcuts import render
from django.urls import Resolver404, get_script_prefix, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import defaults


def _in_newsroom(request) -> bool:
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return False
    return request.path.startswith((reverse("admin:index"), f"{get_script_prefix()}newsroom/"))


def _referer(request) -> str:
    referer = request.headers.get("referer", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _newsroom_page(request, *, status: int, title: str, message: str, detail: str = ""):
    context = {
        **admin.site.each_context(request),
        "title": title,
        "message": message,
        "detail": detail,
        "referer": _referer(request),
    }
    return render(request, "admin/bell_error.html", context, status=status)


def permission_denied(request, exception):
    if not _in_newsroom(request):
        return defaults.permission_denied(request, exception)
    return _newsroom_page(
        request,
        status=403,
        title=_("You don't have access to this page"),
        message=_(
            "Your account may not open it. If you need it for your work, ask an editor or "
            "whoever runs BellCMS to give you access."
        ),
    )


def page_not_found(request, exception):
    if not _in_newsroom(request):
        return defaults.page_not_found(request, exception)
    # The newsroom's own messages ("No such story among yours.") say more than the title.
    detail = ""
    if isinstance(exception, Http404) and not isinstance(exception, Resolver404):
        detail = exception.args[0] if exception.args and isinstance(exception.args[0], str) else ""
    return _newsroom_page(
        request,
        status=404,
        title=_("This page does not exist"),
        message=_("The address may be mistyped, or what it showed has been deleted or moved."),
        detail=detail,
    )
