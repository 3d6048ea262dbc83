"""The History page with two columns of radio buttons, and the page comparing two versions.

A mixin for django-reversion's ``VersionAdmin`` subclasses of the models ``issues.history``
knows how to read (stories and issues). Whoever may see the object may compare its versions:
the model admin's permission and its ``get_queryset`` decide, as for the change page.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from reversion.errors import RevertError
from reversion.models import Version

from .comparing import snapshots_compare
from .loading import LOADERS


@dataclass(frozen=True)
class HistoryRow:
    version: Version
    revision_number: int | None
    revert_url: str
    compare_previous_url: str | None


def _revision_number(version: Version) -> int | None:
    try:
        return version.field_dict.get("revision")
    except RevertError:
        # Data from a model that has changed too much to read: the row still shows.
        return None


def _version_id(value: str | None) -> int | None:
    """A version's id from the query string, or None for anything the database cannot hold."""
    try:
        number = int(value or "")
    except ValueError:
        return None
    low, high = connection.ops.integer_field_range(Version._meta.pk.get_internal_type())
    return number if max(low, 1) <= number <= high else None


class VersionCompareAdminMixin:
    """Compare any two versions of an object, side by side, from its History page."""

    object_history_template = "admin/issues/history/object_history.html"
    history_compare_template = "admin/issues/history/compare.html"

    def __init__(self, model, admin_site):
        if model not in LOADERS:
            raise ImproperlyConfigured(f"issues.history cannot compare {model.__name__} versions")
        super().__init__(model, admin_site)

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_history_compare"
        view = self.admin_site.admin_view(self.history_compare_view)
        # Before the admin's catch-all "<object_id>/" redirect.
        return [path("<path:object_id>/history/compare/", view, name=name), *super().get_urls()]

    def _history_url(self, obj, suffix="history"):
        info = self.admin_site.name, self.opts.app_label, self.opts.model_name
        return reverse("{}:{}_{}_{}".format(*info, suffix), args=[quote(obj.pk)])

    def _compare_url(self, obj, old_id, new_id):
        query = urlencode({"from": old_id, "to": new_id})
        return f"{self._history_url(obj, 'history_compare')}?{query}"

    def _revert_url(self, obj, version):
        info = self.admin_site.name, self.opts.app_label, self.opts.model_name
        return reverse("{}:{}_{}_revision".format(*info), args=[quote(obj.pk), version.pk])

    def _versions(self, obj):
        return Version.objects.get_for_object(obj).select_related("revision__user")

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        # Only a page about to be shown: not the redirect for an object the user may not see.
        if isinstance(response, TemplateResponse) and response.status_code == 200:
            obj = response.context_data["object"]
            response.context_data.update(self._history_context(request, obj))
        return response

    def _history_context(self, request, obj):
        versions = list(self._versions(obj).order_by("-pk"))  # newest first, as in a wiki
        rows = []
        for index, version in enumerate(versions):
            previous = versions[index + 1] if index + 1 < len(versions) else None
            rows.append(
                HistoryRow(
                    version=version,
                    revision_number=_revision_number(version),
                    revert_url=self._revert_url(obj, version),
                    compare_previous_url=(
                        self._compare_url(obj, previous.pk, version.pk) if previous else None
                    ),
                )
            )
        return {
            "history_rows": rows,
            "events": self.history_events(obj),
            "compare_url": self._history_url(obj, "history_compare"),
            "shows_revisions": any(row.revision_number is not None for row in rows),
            "may_revert": self.has_change_permission(request, obj),
            # Preselected as in a wiki: the latest change.
            "from_version": versions[1].pk if len(versions) > 1 else None,
            "to_version": versions[0].pk if versions else None,
        }

    def history_events(self, obj, *, between=None) -> list | None:
        """The workflow steps the History page lists under the versions (and, ``between`` two
        moments, the comparing page); None for a model without a workflow log."""
        return None

    def _compare_refused(self, request, obj, message):
        self.message_user(request, message, messages.ERROR)
        return HttpResponseRedirect(self._history_url(obj))

    def history_compare_view(self, request, object_id):
        if not self.has_view_or_change_permission(request):
            raise PermissionDenied
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        old_id, new_id = _version_id(request.GET.get("from")), _version_id(request.GET.get("to"))
        if old_id is None or new_id is None:
            return self._compare_refused(
                request, obj, _("Choose two versions to compare, one in each column.")
            )
        found = {
            version.pk: version for version in self._versions(obj).filter(pk__in={old_id, new_id})
        }
        if old_id not in found or new_id not in found:
            return self._compare_refused(
                request,
                obj,
                _("These are not two versions of this %(name)s. Choose them from its history.")
                % {"name": self.opts.verbose_name},
            )
        old, new = found[old_id], found[new_id]
        try:
            diff = snapshots_compare(*LOADERS[self.model]([old, new]))
        except RevertError as error:
            return self._compare_refused(request, obj, str(error))
        may_revert = self.has_change_permission(request, obj)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Compare versions: %s") % obj,
            "subtitle": None,
            "opts": self.opts,
            "object": obj,
            "module_name": self.opts.verbose_name_plural,
            "history_url": self._history_url(obj),
            "diff": diff,
            "events": self.history_events(
                obj, between=(old.revision.date_created, new.revision.date_created)
            ),
            "sides": [
                {
                    "version": version,
                    "revision_number": _revision_number(version),
                    "revert_url": self._revert_url(obj, version) if may_revert else None,
                }
                for version in (old, new)
            ],
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_compare_template, context)
