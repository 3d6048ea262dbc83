"""Errors as the API gives them: JSON, ``{"detail": …}`` (a refused filter: messages by name)."""

from django.http import Http404, JsonResponse
from rest_framework.exceptions import NotFound
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc, context):
    # One wording for every 404 ("No Issue matches the given query." would name the model and
    # differ between endpoints for no reader's benefit).
    if isinstance(exc, Http404):
        exc = NotFound()
    return drf_exception_handler(exc, context)


def not_found(request, *args, **kwargs):
    """Any other address under /api/: the API's JSON 404, not the site's page."""
    return JsonResponse({"detail": str(NotFound.default_detail)}, status=404)
