"""One shape for the admin's one-button steps on sources (verify, change status, clear a flag):
a POST that calls a service, says what happened or why not, and goes back."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect

from ..errors import SourceRefused


def post_step(request, *, run: Callable, done: Callable, back: str):
    """Run ``run()`` for a POST; the message is ``done(result)``, or the service's refusal."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        result = run()
    except SourceRefused as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, done(result))
    return HttpResponseRedirect(back)
