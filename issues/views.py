"""The public web archive: published issues only, in the words of the email.

Anything not published (drafts, approved or scheduled issues, an issue whose publishing time has
come but which the scheduler has not yet sent out) is a 404, never a "not yet" page: the archive
must not confirm that an unpublished issue exists.
"""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from .models import Issue, Newsletter
from .rendering import issue_render_context


@require_safe
def archive_index(request):
    """Every newsletter with its published issues, newest first, in two queries."""
    newsletters = Newsletter.objects.prefetch_related(
        Prefetch(
            "issues",
            queryset=Issue.objects.published().order_by("-published_at", "-number"),
            to_attr="published_issues",
        )
    )
    return render(request, "issues/archive_index.html", {"newsletters": newsletters})


@require_safe
def archive_issue(request, newsletter_slug: str, number: int):
    """One published issue as a web page, built from the same context as its email."""
    # Retracted issues are 404 for now, like unpublished ones (see IssueQuerySet.published);
    # a retraction notice at this address is still to be designed.
    issue = get_object_or_404(
        Issue.objects.published(), newsletter__slug=newsletter_slug, number=number
    )
    return render(request, "issues/archive_issue.html", issue_render_context(issue=issue))
