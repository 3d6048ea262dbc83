"""Citing from the story editor: "Cite a source" on the block the cursor is in, and a discreet
mark beside each block that cites one.

The editor (``issues.admin.editor``) takes this as an extension: its script and dialog are in
``templates/admin/sources/editor_cite.html`` and ``static/sources/cite.js``. A citation is made
by the same service as on the story's sources page (``citation_add``). Citing is a save of the
story, so the editor must be based on the revision stored now: a citation asked for from an
older one is refused, as a stale save would be, and the editor then builds on the new revision.
"""

import json

from django.db import transaction
from django.http import Http404, HttpResponseNotAllowed, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from issues.access import story_get_for_user
from issues.admin.editor import story_editor_extend
from issues.models import Block, Story

from ..citing import CITABLE_KINDS, citation_add
from ..errors import SourceRefused
from ..models import Citation, Source
from .citations import _citable_sources, approved_descriptors


def _marks(story: Story | None) -> dict[int, str]:
    """Each cited block's label: the codenames and how print describes them."""
    if story is None:
        return {}
    labels: dict[int, list[str]] = {}
    for citation in (
        Citation.objects.filter(block__story=story).prefetch_related("sources").order_by("pk")
    ):
        codenames = ", ".join(source.codename for source in citation.sources.all())
        labels.setdefault(citation.block_id, []).append(f"{codenames}: “{citation.descriptor}”")
    return {
        block_id: _("Cites %(citations)s") % {"citations": "; ".join(texts)}
        for block_id, texts in labels.items()
    }


class CiteInEditor:
    name = "sources"
    template = "admin/sources/editor_cite.html"

    def editor_data(self, request, story):
        if not request.user.has_perm("sources.view_source"):
            return None
        sources = list(_citable_sources().values("pk", "codename"))
        descriptors: dict[int, list[str]] = {}
        for source_id, _codename, text in approved_descriptors():
            descriptors.setdefault(source_id, []).append(text)
        return {
            "url": reverse("admin:sources_story_cite", args=[story.pk]) if story else None,
            "sources": [
                {
                    "id": source["pk"],
                    "codename": source["codename"],
                    "descriptors": descriptors.get(source["pk"], []),
                }
                for source in sources
            ],
            "citable": sorted(CITABLE_KINDS),
            "marks": _marks(story),
        }


def _refused(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def story_cite_view(model_admin, request, story_id):
    """Cite sources for one block of the story, from the editor: JSON in, JSON out."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not request.user.has_perm("sources.view_source"):
        return _refused(_("You may not cite sources."), status=403)
    try:
        sent = json.loads(request.body or b"{}")
        block_id = int(sent["block"])
        source_ids = [int(pk) for pk in sent["sources"]]
        descriptor = str(sent["descriptor"])
        revision = int(sent["revision"])
    except (ValueError, TypeError, KeyError, UnicodeDecodeError):
        return _refused(_("Choose the sources and how print describes them."))
    try:
        story = story_get_for_user(user=request.user, story_id=story_id)
    except (Story.DoesNotExist, ValueError):
        raise Http404(_("There is no such story, or you may not see it.")) from None
    try:
        with transaction.atomic():
            stored = Story.objects.select_for_update().filter(pk=story.pk).order_by()
            if stored.values_list("revision", flat=True).get() != revision:
                raise SourceRefused(
                    _(
                        "The story has been saved since you opened it. Save your text first "
                        "(you will see what changed), then cite."
                    ),
                    code="stale",
                )
            block = story.blocks.filter(kind__in=CITABLE_KINDS).get(pk=block_id)
            citation_add(
                block=block,
                sources=Source.objects.filter(pk__in=source_ids),
                descriptor=descriptor,
                acting_user=request.user,
            )
    except Block.DoesNotExist:
        return _refused(_("Only a saved paragraph or bullet point of this story can cite."))
    except SourceRefused as refused:
        return _refused(refused.message, status=409 if refused.code == "stale" else 400)
    story.refresh_from_db(fields=["revision"])
    return JsonResponse({"revision": story.revision, "marks": _marks(story)})


story_editor_extend(CiteInEditor())
