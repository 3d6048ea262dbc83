"""Import and export members from the subscriber list in the admin (docs/subscribers.md,
"Import and export in the admin").

*Import members* takes a CSV file and hands it to ``member_import_upload``; the worker imports
it with the command's service, and the import's page shows a bar that
``static/subscribers/members_import.js`` moves from a small JSON answer (without JavaScript the
page reloads itself), then the report. *Export members* downloads what ``export_subscribers``
writes. ``SubscriberAdmin.get_urls`` adds these pages before its own.
"""

import logging
import tempfile
from functools import update_wrapper
from io import TextIOWrapper

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import filesizeformat
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from issues.models import Newsletter

from .members import ImportFileError, subscribers_export
from .members.uploads import (
    EXPORT_PERMISSION,
    IMPORT_PERMISSIONS,
    member_import_progress,
    member_import_upload,
)
from .models import MemberImport, Subscriber

logger = logging.getLogger(__name__)
# The import's page asks for fresh numbers this often (and reloads itself this often without
# JavaScript) until the import is done.
POLL_SECONDS = 2
# Imports listed under the upload form, latest first.
RECENT_IMPORTS = 10

# The report's words for the reasons rows are skipped (``ImportReport.skipped``).
SKIP_REASONS = {
    "invalid": gettext_lazy("invalid"),
    "duplicate": gettext_lazy("the same address twice in the file"),
    "deleted": gettext_lazy("deleted in Ghost"),
    "suppressed": gettext_lazy("suppressed addresses"),
    "existing": gettext_lazy("already subscribers"),
    "stopped": gettext_lazy("bounced, complained or erased"),
    "unsubscribed": gettext_lazy("unsubscribed since the file's consent"),
}
PHASES = {
    "checking": gettext_lazy("Checking rows"),
    "writing": gettext_lazy("Writing subscribers"),
}


def _newsletters():
    return Newsletter.objects.order_by("name")


class MembersImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Members file (CSV)"),
        help_text=gettext_lazy(
            "Ghost's members export, or a file with the columns email,name, in UTF-8."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    newsletter = forms.ModelChoiceField(
        label=gettext_lazy("Subscribe them to"), queryset=_newsletters(), empty_label=None
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.SUBSCRIBERS_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s; nothing was imported.")
                % {"limit": filesizeformat(settings.SUBSCRIBERS_IMPORT_MAX_BYTES)}
            )
        return upload


class MembersExportForm(forms.Form):
    newsletter = forms.ModelChoiceField(
        label=gettext_lazy("Whom"),
        queryset=_newsletters(),
        required=False,
        empty_label=gettext_lazy("Every subscriber"),
        help_text=gettext_lazy(
            "A newsletter's: everyone with a subscription to it, active or not; "
            "subscribed_to_emails says who gets it."
        ),
    )


def audience_urls(model_admin) -> list:
    """The import and export pages, as URLs of ``model_admin`` (the subscriber admin)."""

    def view(function):
        def wrapper(request, *args, **kwargs):
            return function(request, model_admin, *args, **kwargs)

        return model_admin.admin_site.admin_view(update_wrapper(wrapper, function))

    return [
        path("import/", view(members_import), name="subscribers_subscriber_import"),
        path(
            "import/<int:import_id>/",
            view(members_import_report),
            name="subscribers_subscriber_import_report",
        ),
        path(
            "import/<int:import_id>/progress.json",
            view(members_import_progress),
            name="subscribers_subscriber_import_progress",
        ),
        path("export/", view(members_export), name="subscribers_subscriber_export"),
    ]


def _context(request, model_admin, title: str) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": Subscriber._meta,
        "title": title,
        "changelist_url": reverse("admin:subscribers_subscriber_changelist"),
        "import_url": reverse("admin:subscribers_subscriber_import"),
    }


def _may_import(request) -> None:
    if not request.user.has_perms(IMPORT_PERMISSIONS):
        raise PermissionDenied


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def members_import(request, model_admin):
    """The upload form, and the latest imports with links to their reports."""
    _may_import(request)
    posted = request.method == "POST"
    form = MembersImportForm(request.POST, request.FILES) if posted else MembersImportForm()
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            member_import = member_import_upload(
                data=b"".join(upload.chunks()),
                filename=upload.name,
                newsletter=form.cleaned_data["newsletter"],
                acting_user=request.user,
            )
        except ImportFileError as error:
            form.add_error("file", _("%(error)s; nothing was imported.") % {"error": error})
        else:
            return redirect(
                "admin:subscribers_subscriber_import_report", import_id=member_import.pk
            )
    context = {
        **_context(request, model_admin, _("Import members")),
        "form": form,
        "max_size": filesizeformat(settings.SUBSCRIBERS_IMPORT_MAX_BYTES),
        "recent": MemberImport.objects.select_related("newsletter", "created_by").defer("data")[
            :RECENT_IMPORTS
        ],
    }
    return render(request, "subscribers/admin/members_import.html", context)


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def progress_data(member_import: MemberImport) -> dict:
    """An import's state for its page and its JSON, with the words the page shows."""
    progress = member_import_progress(member_import=member_import)
    if progress.finished:
        words = member_import.get_status_display()
    elif progress.percent is None:
        waited = (timezone.now() - member_import.created_at).total_seconds()
        words = (
            _("Waiting for the background worker to start it (%(seconds)d s so far).")
            % {"seconds": waited}
            if member_import.status == MemberImport.Status.QUEUED
            else _("Reading the file…")
        )
    else:
        words = _("%(phase)s: %(done)s of %(total)s") % {
            "phase": PHASES.get(progress.phase, progress.phase),
            "done": _number(progress.done),
            "total": _number(progress.total),
        }
    return {
        "status": progress.status,
        "status_label": member_import.get_status_display(),
        "finished": progress.finished,
        "percent": None if progress.percent is None else round(progress.percent, 1),
        "poll_seconds": POLL_SECONDS,
        "text": {
            "percent": ""
            if progress.percent is None
            else f"{number_format(round(progress.percent))} %",
            "phase": words,
        },
    }


def _import_get(request, import_id: int) -> MemberImport:
    _may_import(request)
    return get_object_or_404(
        MemberImport.objects.select_related("newsletter", "created_by").defer("data"),
        pk=import_id,
    )


@never_cache
@require_GET
def members_import_report(request, model_admin, import_id: int):
    """An import's page: its progress while it runs, then what it did, row by row."""
    member_import = _import_get(request, import_id)
    title = _("Import of %(file)s") % {"file": member_import.filename}
    context = {
        **_context(request, model_admin, title),
        "member_import": member_import,
        "progress": progress_data(member_import),
        "progress_url": reverse(
            "admin:subscribers_subscriber_import_progress", args=[member_import.pk]
        ),
        "skipped": [
            {"reason": SKIP_REASONS.get(reason, reason), "count": _number(count)}
            for reason, count in sorted(member_import.skipped.items())
        ],
        "skipped_total": _number(sum(member_import.skipped.values())),
        "problems_more": member_import.problem_count - len(member_import.problems),
        "counts": {
            "imported": _number(member_import.imported),
            "active": _number(member_import.active),
            "pending": _number(member_import.imported - member_import.active),
            "subscribed": _number(member_import.subscribed),
        },
    }
    return render(request, "subscribers/admin/members_import_report.html", context)


@never_cache
@require_GET
def members_import_progress(request, model_admin, import_id: int):
    """The import's state as JSON, for its page's poller."""
    return JsonResponse(progress_data(_import_get(request, import_id)))


@never_cache
@require_GET
def members_export(request, model_admin):
    """The choice of whom to export; with ``download`` in the query, the CSV file itself."""
    if not request.user.has_perm(EXPORT_PERMISSION):
        raise PermissionDenied
    form = MembersExportForm(request.GET if "download" in request.GET else None)
    if form.is_bound and form.is_valid():
        newsletter = form.cleaned_data["newsletter"]
        # Written to a temporary file and streamed from it: the list may be long.
        out = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it when sent)
        text = TextIOWrapper(out, encoding="utf-8", newline="")
        count = subscribers_export(out=text, newsletter=newsletter)
        # Who took the list, and how much of it (never an address).
        logger.info(
            "members export: %d subscribers (%s) by user %s",
            count,
            newsletter.slug if newsletter else "all",
            request.user.pk,
        )
        text.flush()
        text.detach()
        out.seek(0)
        stem = newsletter.slug if newsletter else "subscribers"
        return FileResponse(
            out,
            as_attachment=True,
            filename=f"{stem}-members-{timezone.localdate():%Y-%m-%d}.csv",
            content_type="text/csv; charset=utf-8",
        )
    context = {
        **_context(request, model_admin, _("Export members")),
        "form": form,
        "count": _number(Subscriber.objects.count()),
    }
    return render(request, "subscribers/admin/members_export.html", context)
