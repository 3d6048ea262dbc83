"""Every public page links to each newsletter's feeds from its head (``<link rel="alternate">``)."""

from django.utils.functional import SimpleLazyObject

from .queries import newsletters


def feeds(request):
    return {"feed_newsletters": SimpleLazyObject(lambda: newsletters(request))}
