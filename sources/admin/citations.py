"""The page where a story's claims get their sources: each paragraph and bullet point with its
citations, a form to cite sources under one of their approved descriptions, and one to mark a
claim on the record. Reached from the story's page; whoever may edit the story may cite."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from issues.access import story_edit_refusal, story_get_for_user
from issues.attribution import attributed_blocks
from issues.models import Block, Story

from ..citing import (
    CITABLE_KINDS,
    UNCITABLE_STATUSES,
    block_on_record,
    citation_add,
    citation_remove,
)
from ..errors import SourceRefused
from ..models import Citation, Descriptor, OnRecord, Source


def _citable_sources():
    return Source.objects.exclude(status__in=UNCITABLE_STATUSES).order_by("codename")


def approved_descriptors():
    """(source id, codename, text) of every description an editor approved for a source that
    can be cited, by codename, each source's in the order they were written."""
    return (
        Descriptor.objects.filter(source__in=_citable_sources(), approved_by__isnull=False)
        .order_by("source__codename", "pk")
        .values_list("source_id", "source__codename", "text")
    )


def _descriptor_choices():
    """Every description an editor approved, grouped under its source's codename."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for _source_id, codename, text in approved_descriptors():
        groups.setdefault(codename, []).append((text, text))
    return [("", "—"), *groups.items()]


class CiteForm(forms.Form):
    sources = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Sources"),
        queryset=Source.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 4}),
        help_text=gettext_lazy("Two for a plural description (“sources say”)."),
    )
    descriptor = forms.ChoiceField(label=gettext_lazy("Described in print as"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sources"].queryset = _citable_sources()
        self.fields["descriptor"].choices = _descriptor_choices()


class OnRecordForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("On the record: who or what"),
        max_length=1000,
        widget=forms.TextInput(attrs={"size": 50}),
    )


def _story(request, story_id) -> Story:
    try:
        return story_get_for_user(user=request.user, story_id=story_id)
    except (Story.DoesNotExist, ValueError):
        raise Http404(_("There is no such story, or you may not see it.")) from None


def _post(request, story: Story):
    action = request.POST.get("action")
    try:
        if action == "remove":
            citation = Citation.objects.get(pk=request.POST.get("citation"), block__story=story)
            citation_remove(citation=citation, acting_user=request.user)
            return _("The citation is removed.")
        block = story.blocks.get(pk=request.POST.get("block"), kind__in=CITABLE_KINDS)
        if action == "cite":
            form = CiteForm(request.POST, prefix=f"cite-{block.pk}")
            if not form.is_valid():
                raise SourceRefused(_("Choose the sources and how print describes them."))
            citation_add(
                block=block,
                sources=form.cleaned_data["sources"],
                descriptor=form.cleaned_data["descriptor"],
                acting_user=request.user,
            )
            return _("Cited for %(kind)s %(position)s.") % {
                "kind": block.get_kind_display().lower(),
                "position": block.position,
            }
        if action == "on_record":
            form = OnRecordForm(request.POST, prefix=f"record-{block.pk}")
            block_on_record(
                block=block,
                note=form.data.get(f"record-{block.pk}-note", ""),
                acting_user=request.user,
            )
            return _("Marked on the record.")
    except (Block.DoesNotExist, Citation.DoesNotExist, ValueError):
        raise SourceRefused(_("That block or citation is not in this story any more.")) from None
    raise SourceRefused(_("There is no such step."))


def story_citations_view(model_admin, request, story_id):
    if not request.user.has_perm("sources.view_source"):
        raise PermissionDenied
    story = _story(request, story_id)
    url = reverse("admin:sources_story_citations", args=[story.pk])
    if request.method == "POST":
        try:
            messages.success(request, _post(request, story))
        except SourceRefused as refused:
            messages.error(request, refused.message)
        return HttpResponseRedirect(url)
    refusal = story_edit_refusal(user=request.user, story=story)
    attributed = {block.pk for block in attributed_blocks(story=story)}
    citations: dict[int, list[Citation]] = {}
    for citation in (
        Citation.objects.filter(block__story=story).prefetch_related("sources").order_by("pk")
    ):
        citations.setdefault(citation.block_id, []).append(citation)
    on_record = {mark.block_id: mark for mark in OnRecord.objects.filter(block__story=story)}
    rows = [
        {
            "block": block,
            "attributed": block.pk in attributed,
            "citations": citations.get(block.pk, []),
            "on_record": on_record.get(block.pk),
            "cite_form": None if refusal else CiteForm(prefix=f"cite-{block.pk}"),
            "record_form": None if refusal else OnRecordForm(prefix=f"record-{block.pk}"),
        }
        for block in story.blocks.filter(kind__in=CITABLE_KINDS).order_by("position")
    ]
    context = {
        **model_admin.admin_site.each_context(request),
        "title": _("Sources of “%(headline)s”") % {"headline": story.headline},
        "opts": model_admin.opts,
        "story": story,
        "story_url": reverse("admin:issues_story_change", args=[story.pk]),
        "rows": rows,
        "refusal": refusal,
        "unsourced": sum(
            row["attributed"] and not row["citations"] and not row["on_record"] for row in rows
        ),
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/sources/story_citations.html", context)
