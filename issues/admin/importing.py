"""Importing an issue from the admin: upload a file, see what it will create, confirm.

The pages call the service ``manage.py import_issue`` calls (``issues.importing``), so an issue
imported here is the one the command would make, with the person who uploaded the file as the
author of every story. Between the preview and the confirmation the file's text stays in the
session, never in the page: what is imported is exactly what was shown. Only people who may add
issues (editors) see these pages.
"""

import secrets

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..importing import (
    UPLOAD_MAX_BYTES,
    UPLOAD_SUFFIXES,
    IssueImportError,
    IssueImportPlan,
    issue_import,
    issue_import_preview,
    upload_check,
    upload_read,
)
from ..importing.html import HTML
from ..importing.markdown_text import MARKDOWN
from ..importing.services import MAX_ISSUE_NUMBER
from ..models import Block, Newsletter
from ..rendering import inline_html

SESSION_KEY = "issues.import"
UPLOAD_TEMPLATE = "admin/issues/importing/upload.html"
PREVIEW_TEMPLATE = "admin/issues/importing/preview.html"
MARKUP_NAMES = {
    MARKDOWN: gettext_lazy("Markdown"),
    HTML: gettext_lazy("Word document"),
}


class IssueUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Issue file"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
    )
    newsletter = forms.ModelChoiceField(
        Newsletter.objects.order_by("name"),
        label=gettext_lazy("Newsletter"),
        required=False,
        empty_label=gettext_lazy("The one named by the file's kicker"),
    )
    number = forms.IntegerField(
        label=gettext_lazy("Issue number"),
        required=False,
        min_value=1,
        max_value=MAX_ISSUE_NUMBER,
        help_text=gettext_lazy("Leave empty for the newsletter's next number."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "A .txt or .md file in the import format, or a Word document (.docx) with the title "
            "as Heading 1, story headlines as Heading 2 and sub-headings as Heading 3. At most "
            "%(size)s."
        ) % {"size": filesizeformat(UPLOAD_MAX_BYTES)}

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            upload_check(filename=upload.name, size=upload.size)
        except IssueImportError as exc:
            exc.filename = upload.name
            raise ValidationError(str(exc)) from None
        return upload


class IssueImportViews:
    """The two pages, for ``IssueAdmin.get_urls``: ``import/`` takes the file, ``import/preview/``
    shows what it will create and, posted, creates it."""

    def __init__(self, model_admin):
        self.model_admin = model_admin
        self.site = model_admin.admin_site
        opts = model_admin.opts
        self.name = f"{opts.app_label}_{opts.model_name}_import"

    def urls(self) -> list:
        return [
            path("import/", self.site.admin_view(self.upload), name=self.name),
            path(
                "import/preview/",
                self.site.admin_view(self.preview),
                name=f"{self.name}_preview",
            ),
        ]

    def upload(self, request):
        self._check_permission(request)
        posted = request.method == "POST"
        form = IssueUploadForm(request.POST if posted else None, request.FILES if posted else None)
        if posted and form.is_valid():
            try:
                pending = self._read(request, form.cleaned_data)
            except IssueImportError as exc:
                form.add_error(None, str(exc))
            else:
                request.session[SESSION_KEY] = pending
                return redirect(f"{self.site.name}:{self.name}_preview")
        context = self._context(request, title=_("Import an issue"), form=form)
        return TemplateResponse(request, UPLOAD_TEMPLATE, context)

    def preview(self, request):
        self._check_permission(request)
        pending = request.session.get(SESSION_KEY)
        if not pending:
            messages.info(request, _("There is nothing to import: upload a file first."))
            return redirect(f"{self.site.name}:{self.name}")
        if request.method == "POST":
            if not constant_time_compare(request.POST.get("token", ""), pending["token"]):
                messages.warning(
                    request,
                    _(
                        "Another file was uploaded after the preview you confirmed. Here is the "
                        "newer one: check it before importing."
                    ),
                )
                return redirect(f"{self.site.name}:{self.name}_preview")
            return self._import(request, pending)
        try:
            plan = self._plan(request, pending)
        except IssueImportError as exc:
            return self._preview_response(request, pending, error=str(exc))
        return self._preview_response(request, pending, plan=plan)

    def _import(self, request, pending):
        try:
            issue = issue_import(**self._options(request, pending))
        except IssueImportError as exc:
            return self._preview_response(request, pending, error=str(exc))
        del request.session[SESSION_KEY]
        self.model_admin.log_addition(
            request, issue, _("Imported from %(name)s") % {"name": pending["filename"]}
        )
        stories = issue.stories.count()
        messages.success(
            request,
            ngettext(
                "Imported %(newsletter)s #%(number)d “%(title)s” as a draft with %(stories)d "
                "story; you are its author.",
                "Imported %(newsletter)s #%(number)d “%(title)s” as a draft with %(stories)d "
                "stories; you are the author of each.",
                stories,
            )
            % {
                "newsletter": issue.newsletter.name,
                "number": issue.number,
                "title": issue.title,
                "stories": stories,
            },
        )
        return redirect(f"{self.site.name}:issues_issue_change", issue.pk)

    def _read(self, request, data) -> dict:
        """The uploaded file as the session keeps it, once the importer accepts it."""
        upload = data["file"]
        source = upload_read(data=upload.read(), filename=upload.name)
        pending = {
            "token": secrets.token_urlsafe(16),
            "text": source.text,
            "markup": source.markup,
            "filename": source.filename,
            "notes": list(source.notes),
            # The slug, not the row: the import looks it up again and says if it has gone.
            "newsletter": data["newsletter"].slug if data["newsletter"] else None,
            "number": data["number"],
        }
        self._plan(request, pending)
        return pending

    def _plan(self, request, pending) -> IssueImportPlan:
        return issue_import_preview(**self._options(request, pending))

    @staticmethod
    def _options(request, pending) -> dict:
        """What the preview and the import are both given: the same, so they cannot differ."""
        return {
            "text": pending["text"],
            "filename": pending["filename"],
            "markup": pending["markup"],
            "newsletter": pending["newsletter"],
            "number": pending["number"],
            "authors": [request.user],
            "acting_user": request.user,
        }

    def _preview_response(self, request, pending, *, plan=None, error=""):
        context = self._context(
            request,
            title=_("Check the issue before importing it"),
            pending=pending,
            plan=plan,
            error=error,
            markup_name=MARKUP_NAMES.get(pending["markup"], _("Plain text")),
            upload_url=reverse(f"{self.site.name}:{self.name}"),
        )
        if plan is not None:
            context["intro"] = [inline_html(p) for p in plan.document.intro_paragraphs]
            context["stories"] = [_story_preview(story) for story in plan.document.stories]
        return TemplateResponse(request, PREVIEW_TEMPLATE, context)

    def _context(self, request, **extra) -> dict:
        request.current_app = self.site.name
        return {
            **self.site.each_context(request),
            "opts": self.model_admin.opts,
            "subtitle": None,
            "changelist_url": reverse(f"{self.site.name}:issues_issue_changelist"),
            **extra,
        }

    def _check_permission(self, request) -> None:
        if not self.model_admin.has_add_permission(request):
            raise PermissionDenied


def _story_preview(story) -> dict:
    return {
        "headline": story.headline,
        "blocks": [
            {
                "kind": block.kind,
                "label": Block.Kind(block.kind).label,
                "html": inline_html(block.text),
            }
            for block in story.blocks
        ],
        "takeaway": [inline_html(paragraph) for paragraph in story.takeaway_paragraphs],
    }
