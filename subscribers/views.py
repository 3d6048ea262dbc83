"""Public pages: sign-up, confirmation, unsubscribe and preferences.

Every answer is the same whether or not an address is known. Bodies larger than
``SUBSCRIBERS_MAX_FORM_BYTES`` are refused before they are read.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from issues.models import Newsletter

from .forms import SignupForm
from .ratelimit import client_ip, rate_limit_hit
from .services import SubscriptionRefused, subscriber_confirm, subscriber_subscribe
from .tokens import TokenExpired, TokenInvalid, confirm_token_read


def message_page(request, *, title: str, message: str, status: int = 200, extra=None):
    context = {"title": title, "message": message, **(extra or {})}
    return render(request, "subscribers/message.html", context, status=status)


def _body_too_large(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return True
    return length > settings.SUBSCRIBERS_MAX_FORM_BYTES


def too_large_page(request):
    return message_page(
        request,
        title=_("That was too much"),
        message=_("The form you sent was far larger than this form allows. Nothing was saved."),
        status=413,
    )


def post_data(request):
    """The POST data, or None when the body is too large (checked before reading it)."""
    if _body_too_large(request):
        return None
    try:
        return request.POST
    except RequestDataTooBig:
        return None


def invalid_link_page(request, error: Exception):
    if isinstance(error, TokenExpired):
        message = _("This link has expired. Nothing was changed. Please start again.")
    else:
        message = _(
            "This link is not valid: it may have been cut short or changed. Nothing was changed. "
            "Please copy the whole link from the email, or start again."
        )
    return message_page(request, title=_("This link does not work"), message=message, status=400)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request, slug: str | None = None):
    newsletter = get_object_or_404(Newsletter, slug=slug) if slug else None
    if newsletter is None and not Newsletter.objects.exists():
        return message_page(
            request, title=_("Subscribe"), message=_("There is nothing to subscribe to yet.")
        )
    if request.method != "POST":
        form = SignupForm(newsletter=newsletter)
        return render(request, "subscribers/signup.html", {"form": form, "newsletter": newsletter})

    data = post_data(request)
    if data is None:
        return too_large_page(request)
    if rate_limit_hit(
        scope="signup",
        key=client_ip(request),
        limit=settings.SUBSCRIBERS_SIGNUP_LIMIT,
        window=settings.SUBSCRIBERS_SIGNUP_WINDOW,
    ):
        return message_page(
            request,
            title=_("Please wait"),
            message=_("Too many sign-ups came from your connection. Please try again later."),
            status=429,
        )
    form = SignupForm(data, newsletter=newsletter)
    if form.is_bot:
        return redirect("subscribers:check_inbox")
    if form.is_valid():
        try:
            subscriber_subscribe(
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                newsletter=form.cleaned_data["newsletter"],
                form=form.cleaned_data["newsletter"].slug,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("subscribers:check_inbox")
    return render(
        request, "subscribers/signup.html", {"form": form, "newsletter": newsletter}, status=400
    )


@never_cache
def check_inbox(request):
    return message_page(
        request,
        title=_("Check your inbox"),
        message=_(
            "If the address can receive our email, a message with a confirmation link is on its "
            "way. Open it and confirm to start your subscription. If nothing arrives within a "
            "few minutes, look in your spam folder."
        ),
    )


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token: str):
    # A GET only shows a button: mail scanners that open every link must not subscribe anyone.
    if request.method != "POST":
        try:
            confirm_token_read(token)
        except TokenInvalid as error:
            return invalid_link_page(request, error)
        return render(request, "subscribers/confirm.html", {"token": token})
    if post_data(request) is None:
        return too_large_page(request)
    try:
        subscription = subscriber_confirm(token=token)
    except TokenInvalid as error:
        return invalid_link_page(request, error)
    except SubscriptionRefused:
        return message_page(
            request,
            title=_("This link does not work"),
            message=_("This subscription can no longer be confirmed. Nothing was changed."),
            status=400,
        )
    return message_page(
        request,
        title=_("You are subscribed"),
        message=_("Thank you. %(newsletter)s will arrive in your inbox.")
        % {"newsletter": subscription.newsletter.name},
    )
