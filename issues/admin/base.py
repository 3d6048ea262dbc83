"""What the story and issue pages share: sortable inlines, and the workflow around the form.

The workflow part puts the status, the buttons for the steps the person may take now, the
reason a page is read-only and the event log on a change page; turns every refused step into an
error message instead of an error page; and, when a save or a step was based on an older
revision, shows what the other person changed since (``issues.history.conflicts``).
"""

from dataclasses import dataclass
from datetime import datetime

import reversion
from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.forms.forms import NON_FIELD_ERRORS
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from reversion.admin import VersionAdmin

from ..history.conflicts import changes_since
from ..models import IssueStatus, Story, StoryStatus
from ..ordering import (
    POSITION,
    PositionedInlineForm,
    PositionedInlineFormSet,
    positions_save,
)
from ..people import person_name
from ..services import WorkflowError
from ..workflow import ISSUE_TRANSITIONS, OTHER_STEPS, STORY_TRANSITIONS
from .presence import POLL_SECONDS, presence_report, presence_sentence

# The query parameter that asks a change page to show what changed after a revision.
SINCE = "since"
# Where a refused save keeps the text it carried, until the page shows it once (see below).
UNSAVED_SESSION_KEY = "bellcms_unsaved_text"


class SortableInline(admin.TabularInline):
    """A tabular inline whose rows are reordered by position, by hand or by dragging."""

    form = PositionedInlineForm
    formset = PositionedInlineFormSet
    ordering = (POSITION, "pk")
    # The class the ordering script looks for.
    classes = ("bell-sortable",)

    class Media:
        js = ("issues/sortable_inline.js",)
        css = {"all": ("issues/admin.css",)}


class SortableInlinesAdmin(VersionAdmin):
    """Saves sortable inlines in one go: deletions first, then the list renumbered 1..n."""

    def save_formset(self, request, form, formset, change):
        if not isinstance(formset, PositionedInlineFormSet):
            super().save_formset(request, form, formset, change)
            return
        instances = formset.save(commit=False)
        for row in formset.deleted_objects:
            row.delete()
        positions_save(
            parent=formset.instance,
            related_name=formset.fk.remote_field.get_accessor_name(),
            instances=instances,
        )
        formset.save_m2m()


@dataclass(frozen=True)
class EventRow:
    """One line of a workflow log, ready to print."""

    when: datetime
    who: str
    what: str
    from_label: str
    to_label: str
    comment: str
    revision: int | None = None
    publish_at: datetime | None = None


def event_rows(events, *, transitions, statuses) -> list[EventRow]:
    """The log of a story or an issue, newest first, in words."""

    def label(value):
        return str(statuses(value).label) if value in statuses.values else value

    return [
        EventRow(
            when=event.created_at,
            # No actor: the system took the step (an edit, the scheduler).
            who=person_name(event.actor) or _("BellCMS"),
            what=str(transitions[event.action].done)
            if event.action in transitions
            else str(OTHER_STEPS.get(event.action, event.action)),
            from_label=label(event.from_status),
            to_label=label(event.to_status),
            comment=event.comment,
            revision=getattr(event, "revision", None),
            publish_at=getattr(event, "publish_at", None),
        )
        for event in events
    ]


def number_from(value) -> int | None:
    """A revision number or a row's id sent back by a page (positive, within the database's
    integer column); None for anything else."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**31 else None


class WorkflowPageMixin:
    """The workflow around a story's or an issue's change form. See the module docstring."""

    def history_events(self, obj, *, between=None) -> list[EventRow]:
        """The object's workflow log (every step and every step on its record: who, when,
        why) for its History page; with ``between`` (two moments), the steps taken between
        two versions, for the page comparing them."""
        events = obj.events.select_related("actor")
        if between is not None:
            events = events.filter(created_at__gte=min(between), created_at__lte=max(between))
        if isinstance(obj, Story):
            return event_rows(events, transitions=STORY_TRANSITIONS, statuses=StoryStatus)
        return event_rows(events, transitions=ISSUE_TRANSITIONS, statuses=IssueStatus)

    def _change_url(self, obj_or_id, *, since: int | None = None) -> str:
        pk = getattr(obj_or_id, "pk", obj_or_id)
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_change",
            args=[quote(pk)],
        )
        return f"{url}?{urlencode({SINCE: since})}" if since else url

    def _refused(self, request, error: WorkflowError, obj_or_id, *, seen: int | None = None):
        """A step or a save the services refused: say why, and show the page as it is now."""
        messages.error(request, error.message)
        since = seen if error.code == "stale" else None
        return HttpResponseRedirect(self._change_url(obj_or_id, since=since))

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        if reversion.is_active():
            reversion.set_comment(
                _("%(change)s Revision %(revision)s.")
                % {"change": entry.get_change_message(), "revision": obj.revision}
            )
        return entry

    def delete_view(self, request, object_id, extra_context=None):
        try:
            return super().delete_view(request, object_id, extra_context)
        except WorkflowError as error:
            return self._refused(request, error, unquote(object_id))

    def workflow_urls(self, workflow_view):
        """The workflow step and presence addresses, before the admin's catch-all redirect."""
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/workflow/",
                view(workflow_view),
                name="{}_{}_workflow".format(*info),
            ),
            path(
                "<path:object_id>/presence/",
                view(self.presence_view),
                name="{}_{}_presence".format(*info),
            ),
        ]

    # Views ------------------------------------------------------------------------------------

    def presence_view(self, request, object_id):
        """An open page reports itself; the answer names the others who have it open."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        others = presence_report(obj=obj, user=request.user, leaving="leave" in request.POST)
        return JsonResponse({"others": others, "sentence": presence_sentence(others)})

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except WorkflowError as error:
            # Raised inside the save's transaction, which has been rolled back.
            messages.error(request, error.message)
            return HttpResponseRedirect(request.get_full_path())

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "POST":
            refused = self._refuse_save_of_a_read_only_page(request, object_id)
            if refused is not None:
                return refused
        try:
            return super().change_view(request, object_id, form_url, extra_context)
        except WorkflowError as error:
            # Raised inside the save's transaction, which has been rolled back.
            return self._refused(request, error, unquote(object_id))

    def _refuse_save_of_a_read_only_page(self, request, object_id):
        """A save posted to a page that is read-only for this person now.

        Usually the page changed state after it was opened (submitted in another tab, the issue
        scheduled by a colleague). Rather than a bare 403, say why, and keep the text that was
        posted so that the page can show it once, to be copied.
        """
        obj = self.get_object(request, unquote(object_id))
        if obj is None or self.has_change_permission(request, obj):
            return None
        if not self.has_change_permission(request) or not self.has_view_permission(request, obj):
            # Not a writer at all: nothing to explain.
            raise PermissionDenied
        reason = self.edit_refusal(request, obj)
        self.keep_unsaved(request, obj, self.posted_texts(request.POST))
        messages.error(
            request,
            _("Your changes were not saved. %(reason)s") % {"reason": reason or ""},
        )
        return HttpResponseRedirect(self._change_url(obj))

    def keep_unsaved(self, request, obj, texts) -> None:
        """Keep the text of a refused save or step for the next view of the page, which shows
        it once so that it can be copied: nothing typed is lost to a refusal."""
        texts = [(label, text) for label, text in texts if text.strip()]
        if texts:
            request.session[UNSAVED_SESSION_KEY] = {
                "model": self.opts.label_lower,
                "pk": str(obj.pk),
                "texts": texts,
            }

    def _unsaved_texts(self, request, obj) -> list:
        stored = request.session.get(UNSAVED_SESSION_KEY)
        if stored and stored["model"] == self.opts.label_lower and stored["pk"] == str(obj.pk):
            del request.session[UNSAVED_SESSION_KEY]
            return stored["texts"]
        return []

    # What the pages show ---------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change and obj is not None and not context.get("is_popup"):
            form = context["adminform"].form
            others = presence_report(obj=obj, user=request.user)
            context["workflow"] = {
                **self.workflow_context(request, obj),
                "presence": {
                    "url": reverse(
                        f"{self.admin_site.name}:{self.opts.app_label}_"
                        f"{self.opts.model_name}_presence",
                        args=[quote(obj.pk)],
                    ),
                    "sentence": presence_sentence(others),
                    "poll_seconds": POLL_SECONDS,
                },
                "changes_since": self._changes_since(request, obj, form),
                "unsaved_texts": self._unsaved_texts(request, obj),
            }
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _changes_since(self, request, obj, form):
        """What others saved after the revision this person started from, when that matters:
        their save was refused as stale, or a refused step sent them here with ``?since=``."""
        if form.is_bound and form.has_error(NON_FIELD_ERRORS, "stale"):
            seen = form.stale_seen
        else:
            seen = number_from(request.GET.get(SINCE)) or self.seen_revision(request, obj)
        changes = changes_since(obj, seen=seen) if seen else None
        if changes is None:
            return None
        opened = changes.seen_version
        return {
            "changes": changes,
            "sides": [
                {
                    "label": _("What you opened"),
                    "version": opened,
                    "revision_number": opened.field_dict.get("revision") if opened else seen,
                },
                {
                    "label": _("What is stored now"),
                    "note": _("revision %(number)s") % {"number": changes.current},
                },
            ],
            "current_url": self._change_url(obj),
            "history_url": reverse(
                f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_history",
                args=[quote(obj.pk)],
            ),
        }

    def seen_revision(self, request, obj) -> int | None:
        """A revision this person last worked from, older than the stored one, if the page
        should show what changed since (the story editor: an unsaved draft's base)."""
        return None

    def workflow_context(self, request, obj) -> dict:
        raise NotImplementedError

    def edit_refusal(self, request, obj) -> str | None:
        raise NotImplementedError

    def posted_texts(self, data) -> list[tuple[str, str]]:
        """The texts a refused save carried, labelled as on the page."""
        raise NotImplementedError
