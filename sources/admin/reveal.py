"""The reveal page: who a source is, for a person with a grant in force, who typed their
password again within the last minutes and says why. Every attempt, refused or not, is in the
reveal log before anything is decrypted; the identity is in this one response only (never in a
message, the session or a cache)."""

import time

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables

from ..keys import KeyUnavailable
from ..models import AccessGrant
from ..services import RevealRefused, identity_reveal

SESSION_KEY = "sources.password_confirmed_at"


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you need to know now"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )
    password = forms.CharField(
        label=_("Your password, again"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


def _password_fresh(request) -> bool:
    confirmed = request.session.get(SESSION_KEY)
    return bool(confirmed) and time.time() - confirmed < settings.SOURCE_REVEAL_PASSWORD_SECONDS


# Error reports (mail to ADMINS, Sentry) show no local variable here: one holds the identity.
# (The posted password is hidden by the model admin's view.)
@sensitive_variables()
def reveal_view(model_admin, request, object_id):
    """The page (``admin_site.admin_view`` makes it never cached)."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    source = model_admin.get_object(request, object_id)
    if source is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, object_id)
    identity, refusal = None, ""
    form = RevealForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password = form.cleaned_data["password"]
        wrong = bool(password) and not request.user.check_password(password)
        if wrong:
            # A wrong password ends the few minutes a right one gave.
            request.session.pop(SESSION_KEY, None)
        elif password:
            request.session[SESSION_KEY] = time.time()
        try:
            identity = identity_reveal(
                user=request.user,
                source=source,
                reason=form.cleaned_data["reason"],
                password_confirmed=_password_fresh(request) and not wrong,
            )
        except RevealRefused as refused:
            refusal = refused.message
            if wrong:
                form.add_error("password", _("That is not your password."))
        except KeyUnavailable as error:
            refusal = str(error)
    grant = (
        AccessGrant.objects.in_force()
        .filter(source=source, user=request.user)
        .order_by("-expires_at")
        .first()
    )
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Who is %(codename)s?") % {"codename": source.codename},
        "opts": model_admin.opts,
        "original": source,
        "form": form,
        "grant": grant,
        "password_fresh": _password_fresh(request),
        "identity": identity,
        "refusal": refusal,
        "now": timezone.now(),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/sources/source/reveal.html", context)
