"""Public pages: sign-up, confirmation, unsubscribe and preferences.

Every answer is the same whether or not an address is known. Bodies larger than
``SUBSCRIBERS_MAX_FORM_BYTES`` are refused before they are read.
"""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from issues.models import Newsletter

from .forms import PreferencesForm, SignupForm
from .models import Subscriber, SubscriptionStatus
from .ratelimit import client_ip, ip_rate_key, rate_limit_hit
from .services import (
    PreferencesRefused,
    SubscriptionRefused,
    preferences_link_request,
    subscriber_confirm,
    subscriber_data,
    subscriber_erase,
    subscriber_preferences_set,
    subscriber_subscribe,
    subscriber_unsubscribe,
    subscriber_unsubscribe_all,
)
from .tokens import (
    TokenExpired,
    TokenInvalid,
    confirm_token_read,
    preferences_token_read,
    unsubscribe_token_read,
)


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


# No CSRF token: the form sits on cached archive pages and static mirrors, which carry no
# per-reader token, and a forged sign-up can do nothing a visitor cannot: it only asks the
# address's owner to confirm (double opt-in), within the per-address and per-IP limits.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request, slug: str | None = None):
    newsletter = get_object_or_404(Newsletter, slug=slug) if slug else None
    first_two = list(Newsletter.objects.order_by("pk")[:2])
    if not first_two:
        return message_page(
            request, title=_("Subscribe"), message=_("There is nothing to subscribe to yet.")
        )
    # The page names the newsletter: the one in the address, or the only one there is.
    named = newsletter or (first_two[0] if len(first_two) == 1 else None)
    if request.method != "POST":
        form = SignupForm(newsletter=newsletter)
        context = {"form": form, "newsletter": newsletter, "named": named}
        return render(request, "subscribers/signup.html", context)

    data = post_data(request)
    if data is None:
        return too_large_page(request)
    if rate_limit_hit(
        scope="signup",
        key=ip_rate_key(client_ip(request)),
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
    context = {"form": form, "newsletter": newsletter, "named": named}
    return render(request, "subscribers/signup.html", context, status=400)


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


ONE_CLICK_FIELD = "List-Unsubscribe"
ONE_CLICK_VALUE = "One-Click"


@csrf_exempt  # RFC 8058: mail providers POST without cookies; the signed token is the proof.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    """GET shows a button and never unsubscribes; a POST with ``List-Unsubscribe=One-Click``
    (the mail provider's one click, or the button) unsubscribes at once."""
    if request.method == "POST":
        data = post_data(request)
        if data is None:
            return too_large_page(request)
        if data.get(ONE_CLICK_FIELD) != ONE_CLICK_VALUE:
            return message_page(
                request,
                title=_("Nothing was changed"),
                message=_("This request did not ask to unsubscribe. Nothing was changed."),
                status=400,
            )
        try:
            subscriber_unsubscribe(token=token)
        except TokenInvalid as error:
            return invalid_link_page(request, error)
        # No preferences link here: this answer goes to mail providers' servers. The form
        # only asks for one to be emailed to the subscriber's own address.
        return message_page(
            request,
            title=_("You are unsubscribed"),
            message=_("You will receive no more issues of this newsletter."),
            extra={"preferences_link_token": token},
        )
    try:
        unsubscribe_token_read(token)
    except TokenInvalid as error:
        return invalid_link_page(request, error)
    context = {"token": token, "field": ONE_CLICK_FIELD, "value": ONE_CLICK_VALUE}
    return render(request, "subscribers/unsubscribe.html", context)


@never_cache
@require_http_methods(["POST"])
def preferences_link(request, token: str):
    """Email a fresh preferences link to the address of the unsubscribe link's subscriber.

    The answer is the same whether a mail was sent, rate-limited or refused (suppressed,
    erased): only a forged or altered token gets another page.
    """
    if post_data(request) is None:
        return too_large_page(request)
    try:
        preferences_link_request(token=token, ip=client_ip(request))
    except TokenInvalid as error:
        return invalid_link_page(request, error)
    return message_page(
        request,
        title=_("Check your inbox"),
        message=_(
            "If we can still write to the address of this subscription, a message with a link "
            "to your preferences is on its way. It may take a few minutes; look in your spam "
            "folder too. We send at most one such message every few minutes."
        ),
    )


def _subscriber_from_preferences_token(request, token):
    """(subscriber, None) or (None, an error page)."""
    try:
        data = preferences_token_read(token)
    except TokenInvalid as error:
        return None, invalid_link_page(request, error)
    subscriber = Subscriber.objects.filter(public_id=data.public_id).first()
    if subscriber is None:
        return None, message_page(
            request,
            title=_("This link does not work"),
            message=_("There is nothing stored for this link any more. Nothing was changed."),
            status=400,
        )
    return subscriber, None


def _masked(address: str) -> str:
    # Someone may have forwarded the email; the page does not need to spell the address out.
    local, _at, domain = address.partition("@")
    return f"{local[:1]}•••@{domain}"


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request, token: str):
    subscriber, error = _subscriber_from_preferences_token(request, token)
    if error:
        return error
    status = 200
    notice = ""
    if request.method == "POST":
        data = post_data(request)
        if data is None:
            return too_large_page(request)
        form = PreferencesForm(data)
        if "unsubscribe_all" in data:
            subscriber_unsubscribe_all(subscriber=subscriber, how="preferences")
            notice = _("You are unsubscribed from all newsletters.")
            form = None
        elif form.is_valid():
            try:
                subscriber_preferences_set(
                    subscriber=subscriber, newsletters=form.cleaned_data["newsletters"]
                )
            except PreferencesRefused:
                status = 400
                notice = _("We cannot send email to this address any more. Nothing was changed.")
            else:
                notice = _("Your choices are saved.")
                form = None
        else:
            status = 400
    else:
        form = None
    if form is None:
        active = subscriber.subscriptions.filter(status=SubscriptionStatus.ACTIVE)
        form = PreferencesForm(
            initial={"newsletters": list(active.values_list("newsletter_id", flat=True))}
        )
    context = {
        "form": form,
        "token": token,
        "notice": notice,
        "address": _masked(subscriber.email),
    }
    return render(request, "subscribers/preferences.html", context, status=status)


@never_cache
@require_http_methods(["POST"])
def preferences_data(request, token: str):
    subscriber, error = _subscriber_from_preferences_token(request, token)
    if error:
        return error
    if post_data(request) is None:
        return too_large_page(request)
    response = JsonResponse(
        subscriber_data(subscriber=subscriber),
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )
    response["Content-Disposition"] = 'attachment; filename="my-newsletter-data.json"'
    return response


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_erase(request, token: str):
    subscriber, error = _subscriber_from_preferences_token(request, token)
    if error:
        return error
    if request.method != "POST":
        return render(request, "subscribers/erase.html", {"token": token})
    if post_data(request) is None:
        return too_large_page(request)
    subscriber_erase(subscriber=subscriber)
    return message_page(
        request,
        title=_("Your data is erased"),
        message=_(
            "We deleted your address, your name and your history. We keep only a one-way code "
            "made from the address, so that we never email it again, not even if it is "
            "imported or signed up by someone else."
        ),
    )
