"""The story editor: one flowing document over the story's block form, with drafts as you type.

The page keeps Django's block form, which is what the server reads and what people without
JavaScript use. ``static/issues/editor/`` shows a document editor instead and, on save, writes
the document back into that form: the same ``Block`` rows, ids, positions and inline Markdown.
This module gives the script what the form holds (bound or not), the person's unsaved draft,
and the address that keeps drafts; a draft older than the stored story brings the panel that
shows what changed since, so nothing typed is lost and nothing saved is overwritten unseen.
"""

import json

from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.translation import gettext as _

from ..drafts import (
    DraftError,
    draft_content_clean,
    story_draft_discard,
    story_draft_get,
    story_draft_save,
)
from ..models import Block, BlockKind, Issue, Newsletter
from ..ordering import POSITION
from ..rendering import html_from_context, inline_html, story_preview_context
from .base import number_from

# ``?blocks=form`` shows the table of blocks (to drag rows, or for a screen reader that prefers
# fields) until ``?blocks=document``; the choice is kept for the session.
BLOCKS_VIEW = "blocks"
BLOCKS_VIEW_TABLE = "form"
BLOCKS_VIEW_DOCUMENT = "document"
_BLOCKS_VIEW_SESSION_KEY = "bellcms_story_blocks_view"
# Other apps add to the editor (the sources app: "Cite a source", and a mark on cited blocks).
# An extension has ``name``, ``template`` (included in the editor: its dialog and script) and
# ``editor_data(request, story) -> dict | None``: what its script needs, None to add nothing.
# ``marks`` in that dict ({block id: label}) draws a discreet mark beside those blocks.
STORY_EDITOR_EXTENSIONS: list = []


def story_editor_extend(extension) -> None:
    """Add a tool to the story editor; see ``STORY_EDITOR_EXTENSIONS``."""
    STORY_EDITOR_EXTENSIONS.append(extension)


# Where a change page keeps the draft it found, so it is read once per request.
_DRAFT_ATTRIBUTE = "_bellcms_story_draft"


def _form_block(form) -> dict | None:
    """One row of the block form, as the editor needs it; None for an empty extra row."""
    pk = form["id"].value() if "id" in form.fields else None
    text = form["text"].value() or ""
    if not pk and not text.strip():
        return None
    return {
        "id": int(pk) if pk else None,
        "kind": form["kind"].value() or BlockKind.PARAGRAPH,
        "text": text,
        "html": str(inline_html(text)),
        "deleted": bool(form["DELETE"].value()) if "DELETE" in form.fields else False,
        "position": form[POSITION].value(),
    }


def form_blocks(formset) -> list[dict]:
    """The rows of the block form in the order they will be saved."""
    rows = [row for row in map(_form_block, formset.forms) if row is not None]

    def order(row):
        try:
            return (0, int(row["position"]))
        except (TypeError, ValueError):
            return (1, 0)

    return sorted(rows, key=order)


def draft_blocks(content: dict) -> list[dict]:
    return [
        {**block, "html": str(inline_html(block["text"])), "deleted": False}
        for block in content["blocks"]
    ]


# The web form of the preview: the archive's own page.
PREVIEW_WEB_TEMPLATE = "archive/issue.html"


def _preview_issue(story) -> Issue:
    """The issue a preview shows the story in: its own, or an unsaved one of the first
    newsletter while it is not placed."""
    if story is not None and story.issue_id:
        return Issue.objects.select_related("newsletter").get(pk=story.issue_id)
    first = Newsletter.objects.order_by("pk").first()
    newsletter = first or Newsletter(name="BellCMS", slug="preview")
    return Issue(newsletter=newsletter, number=0, title=_("The issue's title"))


class StoryEditorMixin:
    """For StoryAdmin: the editor's data on the change and add pages, and the draft address."""

    def editor_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.draft_view)
        preview = self.admin_site.admin_view(self.preview_view)
        return [
            path("draft/", view, name="{}_{}_draft_new".format(*info)),
            path("<path:object_id>/draft/", view, name="{}_{}_draft".format(*info)),
            path("preview/", preview, name="{}_{}_preview_new".format(*info)),
            path("<path:object_id>/preview/", preview, name="{}_{}_preview".format(*info)),
        ]

    def _draft(self, request, story):
        if not hasattr(request, _DRAFT_ATTRIBUTE):
            setattr(request, _DRAFT_ATTRIBUTE, story_draft_get(user=request.user, story=story))
        return getattr(request, _DRAFT_ATTRIBUTE)

    def seen_revision(self, request, obj):
        if request.method != "GET":
            return None
        draft = self._draft(request, obj)
        if draft and draft.base_revision and draft.base_revision < obj.revision:
            return draft.base_revision
        return None

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        formsets = [
            inline.formset
            for inline in context.get("inline_admin_formsets", ())
            if inline.formset.model is Block
        ]
        editable = formsets and self.has_change_permission(request, obj) if change else formsets
        if editable and not context.get("is_popup"):
            blocks_refused = formsets[0].is_bound and formsets[0].total_error_count() > 0
            # A block the server refused is shown where its error can be read: in the table.
            if blocks_refused or self._wants_table(request):
                context["story_editor_table"] = True
            else:
                context["story_editor"] = self._editor_data(request, obj, context, formsets[0])
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _wants_table(self, request) -> bool:
        """The table of blocks instead of the document, as chosen last (``?blocks=form``)."""
        chosen = request.GET.get(BLOCKS_VIEW)
        if chosen in (BLOCKS_VIEW_TABLE, BLOCKS_VIEW_DOCUMENT):
            request.session[_BLOCKS_VIEW_SESSION_KEY] = chosen
        return request.session.get(_BLOCKS_VIEW_SESSION_KEY) == BLOCKS_VIEW_TABLE

    def _editor_data(self, request, story, context, formset) -> dict:
        form = context["adminform"].form
        blocks = form_blocks(formset)
        data = {
            "prefix": formset.prefix,
            "slots": [row["id"] for row in blocks if row["id"]],
            "blocks": blocks,
            "draftUrl": self._editor_url(story, "draft"),
            "previewUrl": self._editor_url(story, "preview"),
            "baseRevision": story.revision if story else None,
            "kinds": dict(BlockKind.choices),
            "draft": None,
            # The browser keeps a copy too (see editor.js): per person, per story.
            "copyKey": f"bellcms-draft:{request.user.pk}:{self._editor_url(story, 'draft')}",
            "bound": form.is_bound,
        }
        extensions = {}
        for extension in STORY_EDITOR_EXTENSIONS:
            added = extension.editor_data(request, story)
            if added is not None:
                extensions[extension.name] = (extension.template, added)
        data["extensions"] = {name: added for name, (_template, added) in extensions.items()}
        data["marks"] = {
            block_id: label
            for _template, added in extensions.values()
            for block_id, label in added.get("marks", {}).items()
        }
        draft = None if form.is_bound else self._draft(request, story)
        if draft is not None:
            data["draft"] = {
                "headline": draft.content["headline"],
                "takeaway": draft.content["takeaway"],
                "blocks": draft_blocks(draft.content),
                "savedAt": draft.saved_at.isoformat(),
                "editedAt": draft.content.get("editedAt", ""),
                "baseRevision": draft.base_revision,
                "stale": self.seen_revision(request, story) is not None if story else False,
            }
        templates = [template for template, _added in extensions.values()]
        return {"data": data, "draft": data["draft"], "templates": templates}

    def _editor_url(self, story, what: str) -> str:
        """The address of the editor's ``draft`` or ``preview`` for ``story`` (None: new)."""
        if story is None:
            return reverse(f"{self.admin_site.name}:issues_story_{what}_new")
        return reverse(f"{self.admin_site.name}:issues_story_{what}", args=[quote(story.pk)])

    def _editor_request(self, request, object_id):
        """The story an editor's request is about (None: a new one) and the JSON it sent,
        or the refusal to answer with."""
        if request.method != "POST":
            return None, None, HttpResponseNotAllowed(["POST"])
        story = None
        if object_id is not None:
            story = self.get_object(request, unquote(object_id))
            if story is None:
                raise Http404(_("No such story."))
            if not self.has_change_permission(request, story):
                refusal = self.edit_refusal(request, story) or _("You may not edit this.")
                return story, None, JsonResponse({"error": refusal}, status=403)
        elif not self.has_add_permission(request):
            raise PermissionDenied
        try:
            sent = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            sent = None
        if not isinstance(sent, dict):
            return (
                story,
                None,
                JsonResponse({"error": _("The draft could not be read.")}, status=400),
            )
        return story, sent, None

    def preview_view(self, request, object_id=None):
        """The story as typed, in the email and on the web, by the real renderer."""
        story, sent, refused = self._editor_request(request, object_id)
        if refused:
            return refused
        try:
            content = draft_content_clean(sent.get("content"))
        except DraftError as error:
            return JsonResponse({"error": str(error)}, status=400)
        context = story_preview_context(
            issue=_preview_issue(story),
            headline=content["headline"],
            blocks=[Block(kind=b["kind"], text=b["text"]) for b in content["blocks"]],
            takeaway=content["takeaway"],
        )
        web = render_to_string(PREVIEW_WEB_TEMPLATE, context, request=request)
        return JsonResponse({"email": html_from_context(context), "web": web})

    def draft_view(self, request, object_id=None):
        """Keep (POST) or drop (POST with ``discard``) the editor's unsaved text."""
        story, sent, refused = self._editor_request(request, object_id)
        if refused:
            return refused
        if sent.get("discard"):
            story_draft_discard(user=request.user, story=story)
            return JsonResponse({"discarded": True})
        try:
            draft = story_draft_save(
                user=request.user,
                story=story,
                base_revision=number_from(sent.get("baseRevision")),
                content=sent.get("content"),
            )
        except DraftError as error:
            return JsonResponse({"error": str(error)}, status=400)
        answer = {"savedAt": draft.saved_at.isoformat()}
        if story is not None:
            answer["revision"] = (
                type(story).objects.values_list("revision", flat=True).get(pk=story.pk)
            )
        return JsonResponse(answer)
