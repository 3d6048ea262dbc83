"""The fallout review page: every story a contributor or a source touched, and what the editor
decides about each (``sources.fallout``).

``…/sources/source/fallout/?person=<id>`` or ``?source=<id>``; without either, a form to pick
one. Editors only. Each form posts back to the same address and calls one service; a refusal
shows the page again with what was typed and chosen, so nothing is lost.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from issues.admin.base import number_from
from issues.models import CorrectionKind
from issues.people import people_by_name, person_label, person_name

from ..errors import SourceRefused
from ..fallout import (
    REVIEW_PERMISSION,
    contributor_deactivate,
    fallout_review,
    retractions_note_draft,
    review_sources,
    sources_under_review,
    stories_correct,
    stories_notice,
    stories_retract,
    verdict_record,
)
from ..models import Source, Verdict

SELECTION_ACTIONS = ("verdict", "correct", "retract", "notice")


def _subject(request):
    """The person or the source the review starts from, named in the query string."""
    person_id, source_id = request.GET.get("person"), request.GET.get("source")
    try:
        if person_id:
            return get_user_model().objects.get(pk=number_from(person_id)), None
        if source_id:
            return None, Source.objects.get(pk=number_from(source_id))
    except (get_user_model().DoesNotExist, Source.DoesNotExist):
        raise Http404(_("No such person or source.")) from None
    return None, None


def _count_message(request, count: int, text: str) -> None:
    """``text`` (an ``ngettext`` for ``count``) as a success message, unless count is 0."""
    if count:
        messages.success(request, text % {"count": count})


def _refusals(request, outcome) -> None:
    """Each story a step refused, with the service's words. Refused for every story, the step
    is refused as a whole: the page comes back with what was typed."""
    lines = [f"{story.headline}: {refusal}" for story, refusal in outcome.refused]
    if lines and not outcome.done:
        raise SourceRefused(" ".join(lines), code="refused")
    for line in lines:
        messages.error(request, line)


def _act(request, action: str, *, person, source, rows, about: str):
    """Run ``action`` on the review; return where to go next (a refusal raises)."""
    user, post = request.user, request.POST
    note = post.get("note", "")
    if action in SELECTION_ACTIONS:
        chosen = set(post.getlist("story"))
        stories = [row.story for row in rows if str(row.story.pk) in chosen]
        if not stories:
            raise SourceRefused(_("Tick the stories this is about first."), code="selection")
    if action == "verdict":
        recorded = verdict_record(
            stories=stories, verdict=post.get("verdict", ""), note=note, acting_user=user
        )
        count = len(recorded)
        _count_message(
            request,
            count,
            ngettext(
                "Verdict recorded on %(count)d story.",
                "Verdict recorded on %(count)d stories.",
                count,
            ),
        )
    elif action == "correct":
        outcome = stories_correct(
            stories=stories, note=note, kind=post.get("kind", ""), acting_user=user
        )
        count = len(outcome.done)
        _count_message(
            request,
            count,
            ngettext("%(count)d story corrected.", "%(count)d stories corrected.", count),
        )
        _refusals(request, outcome)
    elif action == "retract":
        outcome = stories_retract(stories=stories, note=note, acting_user=user)
        asked = [s for s in outcome.done if not s.withdrawals.carried_out().exists()]
        carried = len(outcome.done) - len(asked)
        _count_message(
            request,
            carried,
            ngettext("%(count)d story retracted.", "%(count)d stories retracted.", carried),
        )
        _count_message(
            request,
            len(asked),
            ngettext(
                "Retraction of %(count)d story asked for: another editor must approve it.",
                "Retraction of %(count)d stories asked for: another editor must approve it.",
                len(asked),
            ),
        )
        _refusals(request, outcome)
    elif action == "notice":
        outcome = stories_notice(stories=stories, acting_user=user)
        count = len(outcome.done)
        _count_message(
            request,
            count,
            ngettext(
                "%(count)d notice is on its way to the readers who got the story.",
                "%(count)d notices are on their way, each to the readers who got its story.",
                count,
            ),
        )
        _refusals(request, outcome)
    elif action == "deactivate" and person is not None:
        if contributor_deactivate(person=person, note=note, acting_user=user):
            messages.success(
                request, _("%(name)s can no longer sign in.") % {"name": person_name(person)}
            )
    elif action == "sources_review":
        sources = review_sources(person=person, source=source)
        flags = sources_under_review(sources=sources, note=note, acting_user=user)
        messages.success(
            request,
            ngettext(
                "Under review now; %(count)d story citing them is flagged.",
                "Under review now; %(count)d stories citing them are flagged.",
                len(flags),
            )
            % {"count": len(flags)},
        )
    elif action == "note_draft":
        story = retractions_note_draft(rows=rows, acting_user=user, about=about)
        messages.success(
            request,
            _("A draft listing the retracted stories: edit it, then place it in an issue."),
        )
        return reverse("admin:issues_story_change", args=[story.pk])
    else:
        raise SourceRefused(_("There is no such step."), code="action")
    return request.get_full_path()


def fallout_view(model_admin, request):
    if not request.user.has_perm(REVIEW_PERMISSION):
        raise PermissionDenied
    person, source = _subject(request)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Fallout review"),
        "person": person,
        "source": source,
    }
    if person is None and source is None:
        context["people"] = [
            (user.pk, person_label(user))
            for user in people_by_name(get_user_model().objects.filter(stories__isnull=False))
            .distinct()
            .only("pk", "username", "first_name", "last_name")
        ]
        context["sources"] = Source.objects.order_by("codename").only("pk", "codename")
        return TemplateResponse(request, "admin/sources/fallout_start.html", context)
    about = person_name(person) if person is not None else source.codename
    rows = fallout_review(person=person, source=source)
    refusal = None
    if request.method == "POST":
        try:
            return HttpResponseRedirect(
                _act(
                    request,
                    request.POST.get("action", ""),
                    person=person,
                    source=source,
                    rows=rows,
                    about=about,
                )
            )
        except SourceRefused as refused:
            refusal = refused.message
    posted = request.POST if refusal else {}
    context.update(
        {
            "title": _("Fallout review: %(about)s") % {"about": about},
            "about": about,
            "rows": rows,
            "review_sources": review_sources(person=person, source=source),
            "refusal": refusal,
            "posted_note": posted.get("note", ""),
            "posted_action": posted.get("action", ""),
            "posted_verdict": posted.get("verdict", ""),
            "posted_kind": posted.get("kind", ""),
            "chosen": set(posted.getlist("story")) if posted else set(),
            "verdicts": Verdict.choices,
            "kinds": CorrectionKind.choices,
            "handler": source.handler if source is not None else None,
        }
    )
    return TemplateResponse(
        request, "admin/sources/fallout.html", context, status=400 if refusal else 200
    )
