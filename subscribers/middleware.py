"""Refuse oversized bodies on the public subscriber pages before anything reads them.

``CsrfViewMiddleware`` reads ``request.POST`` to find the CSRF token, so a view's own size
check comes too late: a 10 MB form would be parsed, a 50 MB multipart upload written to a
temporary file. This middleware stands before it and answers 413 from ``Content-Length`` alone
on the subscribers app's pages and django-anymail's webhooks.
"""

from django.conf import settings
from django.urls import Resolver404, resolve

# ESPs batch events: a tracking or inbound webhook call may be larger than a form.
WEBHOOK_MAX_BYTES_DEFAULT = 2 * 1024 * 1024
# Methods whose body Django may read; a GET's body is never parsed.
BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _limit_for(request) -> int | None:
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if "subscribers" in match.app_names:
        return settings.SUBSCRIBERS_MAX_FORM_BYTES
    if "anymail" in match.app_names:
        return getattr(settings, "SUBSCRIBERS_MAX_WEBHOOK_BYTES", WEBHOOK_MAX_BYTES_DEFAULT)
    return None


def _declared_length(request) -> int | None:
    """The body's Content-Length; None when it is not a number."""
    value = request.META.get("CONTENT_LENGTH") or "0"
    try:
        length = int(value)
    except ValueError:
        return None
    return length if length >= 0 else None


class BodySizeLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in BODY_METHODS:
            limit = _limit_for(request)
            if limit is not None:
                length = _declared_length(request)
                if length is None or length > limit:
                    from .views import too_large_page

                    return too_large_page(request)
        return self.get_response(request)
