"""The issue's email as a subscriber will get it: a preview in the admin and a test copy to the
editor. The issue admin links here (see docs/subscribers.md).

The preview is an admin page (the newsroom's header, navigation and breadcrumbs, a link back to
the issue); the email itself is shown in a sandboxed frame, at a phone's or a desktop's width,
so that its styles and links stay inside it.
"""

import uuid

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from issues.models import Issue
from issues.rendering import issue_render

from .dispatch.message import issue_mailing_prepare
from .models import Subscriber

TEST_SUBJECT_PREFIX = "[Test] "
# The widths the preview shows the email at: a common phone, and the email's own layout width
# with a margin (templates/emails/issue.html lays it out at 600 px).
PREVIEW_WIDTHS = {"phone": 375, "desktop": 680}


def _stand_in(address: str) -> Subscriber:
    # Never saved: its links lead to pages that answer as for an erased subscriber.
    return Subscriber(email=address, public_id=uuid.uuid4())


def issue_email_test_send(*, issue_id: int, user_id: int) -> bool:
    """Send the issue's email, exactly as a subscriber gets it, to a staff member."""
    user = get_user_model().objects.filter(pk=user_id, is_staff=True).first()
    issue = Issue.objects.select_related("newsletter").filter(pk=issue_id).first()
    if user is None or issue is None or not user.email:
        return False
    mailing = issue_mailing_prepare(rendered=issue_render(issue=issue), issue=issue)
    message = mailing.message(subscriber=_stand_in(user.email), subject_prefix=TEST_SUBJECT_PREFIX)
    # A test copy is not the issue: a reply to it or a bounce must not look like the real one.
    message.extra_headers["Message-ID"] = message.extra_headers["Message-ID"].replace(
        "<issue-", f"<test-{uuid.uuid4().hex[:12]}-issue-"
    )
    message.send()
    return True


@staff_member_required
@require_http_methods(["GET", "HEAD", "POST"])
def issue_email_preview(request, issue_id: int):
    if not request.user.has_perm("issues.view_issue"):
        raise PermissionDenied
    issue = get_object_or_404(Issue.objects.select_related("newsletter"), pk=issue_id)
    if request.method == "POST":
        if not request.user.email:
            messages.error(request, _("Your account has no email address."))
        else:
            from .tasks import send_issue_test

            user_id = request.user.pk
            transaction.on_commit(lambda: send_issue_test.delay(issue.pk, user_id))
            messages.success(request, _("A test copy is on its way to your address."))
        return redirect("subscribers:issue_email_preview", issue_id=issue.pk)
    mailing = issue_mailing_prepare(rendered=issue_render(issue=issue), issue=issue)
    message = mailing.message(subscriber=_stand_in(request.user.email or "preview@localhost"))
    context = {
        **admin.site.each_context(request),
        "opts": Issue._meta,
        "issue": issue,
        "issue_url": reverse("admin:issues_issue_change", args=[issue.pk]),
        "subject": message.subject,
        "from_email": message.from_email,
        "headers": message.extra_headers,
        "text": message.body,
        "html": message.alternatives[0][0],
        "widths": PREVIEW_WIDTHS,
        "title": _("Email preview: %(issue)s") % {"issue": issue},
    }
    return render(request, "subscribers/admin/issue_email_preview.html", context)
