"""Small views of the site as a whole."""

from django.http import HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

# Browsers keep the answer this long before asking for /favicon.ico again.
FAVICON_MAX_AGE = 24 * 3600


@require_safe
def favicon(request):
    """``/favicon.ico``, which browsers and feed readers ask for on their own: the bell, an SVG
    among the static files (its name hashed in production, so the redirect is not permanent)."""
    response = HttpResponseRedirect(static("bellcms/favicon.svg"))
    patch_cache_control(response, public=True, max_age=FAVICON_MAX_AGE)
    return response
