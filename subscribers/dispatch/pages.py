"""An issue's sending in the admin: live progress, the latest failures, and the editors' pause,
resume and cancel (docs/subscribers.md, "The sending page").

The page and its JSON twin show ``dispatch_progress``, the numbers ``manage.py dispatch_status``
prints. The buttons call ``dispatch_pause`` / ``dispatch_resume`` / ``dispatch_cancel``, which
decide who may do what: a refusal comes back as the admin's error message. Every step is a POST
that redirects back to the page; cancelling asks first, on a page of its own.
"""

import re
from functools import wraps

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from issues.models import CorrectionNotice, Issue, IssueStatus
from issues.schedule_words import schedule_when
from issues.services import WorkflowError

from ..models import Delivery, DeliveryStatus, DispatchState
from .control import CONTROL_PERMISSION, dispatch_cancel, dispatch_pause, dispatch_resume
from .finish import dispatch_counts
from .ledger import sending_key
from .progress import STATUS_WORDS, Progress, dispatch_progress, duration_words
from .tallies import connections_report

VIEW_PERMISSION = "issues.view_issue"
# Who may see the subscribers' addresses among the failures; the others (journalists, source
# keepers) see counts and the mail server's reasons, with any address in them masked.
ADDRESS_PERMISSION = "subscribers.view_subscriber"
# Anything shaped like an address in a mail server's answer ("550 5.1.1 <a@b.example>: …"):
# a quoted local part ("john smith"@x), an @ written %40, an answer cut after the @.
_ADDRESS = re.compile(r'"[^"]*"\s*@\S*|[^\s<>()\[\],;:]*(?:@|%40)[^\s<>()\[\],;]*', re.I)
ADDRESS_MASK = "[address]"
# A local part this short says nothing when it shows up in an answer on its own.
_LOCAL_PART_SHOWN = 2
# The page asks for fresh numbers this often while the sending runs.
POLL_SECONDS = 2
# The failures listed on the page, latest first.
FAILURES_SHOWN = 50


def _number(value: int) -> str:
    return number_format(value, force_grouping=True)


def _rate_text(progress: Progress) -> str:
    if progress.rate is None:
        return _("nothing sent yet")
    rate = progress.rate
    shown = number_format(rate, decimal_pos=1 if rate < 10 else 0, force_grouping=True)
    if progress.open:
        return _("%(rate)s messages/s over the last minute") % {"rate": shown}
    return _("%(rate)s messages/s, first message to last") % {"rate": shown}


def _left_text(progress: Progress, live: bool) -> str:
    if not progress.open:
        return _("none: nothing is left to send")
    if not live:
        return _("— (the sending is %(state)s)") % {"state": progress.state_label.lower()}
    left = progress.seconds_left
    if left is None:
        return _("not known yet: no message went out in the last minute")
    return _("about %(duration)s") % {"duration": duration_words(left)}


def _lag_text(progress: Progress) -> str:
    lag = progress.lag_seconds
    if lag is None:
        return _("not yet")
    words = {"lag": number_format(lag, decimal_pos=1)}
    if progress.notice_id is not None:
        # A notice goes out as soon as it is made: its lag counts from then.
        return _("%(lag)s s after the notice was made") % words
    return _("%(lag)s s after the scheduled time") % words


def controls_for(user, issue: Issue, progress: Progress) -> list[str]:
    """The steps this person may take on the sending now: what the page offers as buttons."""
    if not user.has_perm(CONTROL_PERMISSION) or issue.status != IssueStatus.SENDING:
        return []
    if progress.state == DispatchState.RUNNING:
        return ["pause", "cancel"]
    if progress.state == DispatchState.PAUSED:
        return ["resume", "cancel"]
    return []


def _rate_words(rate: float | None) -> str:
    if rate is None:
        return "—"
    shown = number_format(rate, decimal_pos=1 if rate < 10 else 0, force_grouping=True)
    return _("%(rate)s/s") % {"rate": shown}


def connections_data(progress: Progress, user) -> dict:
    """Each connection's and each relay's part in the sending, as the page shows them."""
    rows, relays = connections_report(issue_id=progress.issue_id, notice_id=progress.notice_id)
    masked = not user.has_perm(ADDRESS_PERMISSION)
    return {
        "connections": [
            {
                "name": row.name,
                "relay": row.relay,
                "active": row.active,
                "sent": _number(row.sent),
                "refused": _number(row.refused),
                "failures": _number(row.failures),
                "rate": _rate_words(row.rate),
                "last_error": addresses_masked(row.last_error) if masked else row.last_error,
            }
            for row in rows
        ],
        "relays": [
            {
                "relay": relay.relay,
                "text": (
                    _(
                        "%(relay)s: %(active)s of %(connections)s connections sending now, "
                        "%(rate)s; %(sent)s sent, %(failures)s connection failures"
                    )
                    if relay.live
                    else ngettext(
                        "%(relay)s: %(connections)s connection; %(sent)s sent, "
                        "%(failures)s connection failures",
                        "%(relay)s: %(connections)s connections; %(sent)s sent, "
                        "%(failures)s connection failures",
                        relay.connections,
                    )
                )
                % {
                    "relay": relay.relay,
                    "active": _number(relay.active),
                    "connections": _number(relay.connections),
                    "rate": _rate_words(relay.rate),
                    "sent": _number(relay.sent),
                    "failures": _number(relay.failures),
                },
            }
            for relay in relays
        ],
    }


def progress_data(issue: Issue, progress: Progress, user, *, notice=None) -> dict:
    """The numbers of the page and of its JSON, with the words the page shows for them; of a
    correction ``notice`` (``issue`` is its story's), when one is given."""
    if notice is not None:
        live = progress.state == DispatchState.RUNNING and notice.sent_at is None
        status_words = _("sending") if notice.sent_at is None else _("sent")
    else:
        live = progress.state == DispatchState.RUNNING and issue.status == IssueStatus.SENDING
        status_words = issue.get_status_display().lower()
    counts = progress.counts
    if progress.balanced:
        verdict = _("= the audience: every delivery is counted once")
    else:
        verdict = _(
            "does not match the audience of %(audience)s: some deliveries are missing or "
            "counted twice. Tell whoever runs BellCMS (manage.py dispatch_status %(issue)d)."
        ) % {"audience": _number(progress.audience), "issue": issue.pk}
    return {
        "issue": issue.pk,
        "issue_status": issue.status,
        "state": progress.state,
        "state_label": progress.state_label,
        "live": live,
        "poll_seconds": POLL_SECONDS,
        "audience": progress.audience,
        "counts": counts,
        "total": progress.total,
        "balanced": progress.balanced,
        "settled": progress.settled,
        "open": progress.open,
        "percent": round(progress.percent, 1),
        "rate": progress.rate,
        "seconds_left": progress.seconds_left,
        "lag_seconds": progress.lag_seconds,
        "last_error": progress.last_error
        if user.has_perm(ADDRESS_PERMISSION)
        else addresses_masked(progress.last_error),
        "controls": controls_for(user, issue, progress) if notice is None else [],
        **connections_data(progress, user),
        "text": {
            "percent": f"{number_format(progress.percent, decimal_pos=1)} %",
            "settled": _number(progress.settled),
            "audience": _number(progress.audience),
            "total": _number(progress.total),
            "counts": {status: _number(n) for status, n in counts.items()},
            "verdict": verdict,
            "rate": _rate_text(progress),
            "left": _left_text(progress, live),
            "lag": _lag_text(progress),
            "issue_status": status_words,
        },
    }


def addresses_masked(text: str, address: str | None = None) -> str:
    """The text with every email address in it replaced by ``[address]``; the recipient's
    ``address`` and its local part also wherever they appear in another form."""
    text = _ADDRESS.sub(ADDRESS_MASK, text)
    if address:
        local = address.rpartition("@")[0]
        for known in (address, local) if len(local) > _LOCAL_PART_SHOWN else (address,):
            text = re.sub(re.escape(known), ADDRESS_MASK, text, flags=re.I)
    return text


def _failures(key: dict, *, addresses: bool) -> list[dict]:
    rows = (
        Delivery.objects.filter(status=DeliveryStatus.FAILED, **key)
        .order_by("-pk")
        .values_list("subscriber_id", "subscriber__email", "smtp_response", "attempts")[
            :FAILURES_SHOWN
        ]
    )
    if not addresses:
        return [
            {"answer": addresses_masked(answer, email), "attempts": attempts}
            for _id, email, answer, attempts in rows
        ]
    return [
        {
            "email": email,
            "url": reverse("admin:subscribers_subscriber_change", args=[subscriber_id])
            if subscriber_id
            else "",
            "answer": answer,
            "attempts": attempts,
        }
        for subscriber_id, email, answer, attempts in rows
    ]


def _issue(issue_id: int) -> Issue:
    return get_object_or_404(Issue.objects.select_related("newsletter"), pk=issue_id)


def _page_context(request, issue: Issue) -> dict:
    context = {
        **admin.site.each_context(request),
        "issue": issue,
        "opts": Issue._meta,
        "title": _("Sending: %(issue)s") % {"issue": issue},
        "issue_url": reverse("admin:issues_issue_change", args=[issue.pk]),
        "sending_url": reverse("subscribers:issue_sending", args=[issue.pk]),
    }
    return context


def _sending_page(*methods):
    """A sending page or its JSON: signed-in staff who may see issues, never cached."""

    def wrap(view):
        @staff_member_required
        @never_cache
        @require_http_methods(list(methods))
        @wraps(view)
        def page(request, *args, **kwargs):
            if not request.user.has_perm(VIEW_PERMISSION):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return page

    return wrap


# The steps: the service, and what the editor is told when it is done.
STEPS = {
    "pause": (
        dispatch_pause,
        gettext_lazy(
            "The sending of “%(issue)s” is paused. The batches in flight finish (at most one "
            "per worker); then nothing more goes out until you resume it."
        ),
    ),
    "resume": (
        dispatch_resume,
        gettext_lazy("The sending of “%(issue)s” goes on where it stopped."),
    ),
    "cancel": (
        dispatch_cancel,
        gettext_lazy(
            "The sending of “%(issue)s” is cancelled: %(count)s deliveries not yet sent will not "
            "be. The batches in flight finish (at most one per worker)."
        ),
    ),
}


def _step(request, issue: Issue):
    action = request.POST.get("action")
    if action not in STEPS:
        messages.error(request, _("There is no such step."))
        return redirect("subscribers:issue_sending", issue_id=issue.pk)
    if action == "cancel" and request.POST.get("confirm") != "yes":
        return _cancel_confirm(request, issue)
    service, done = STEPS[action]
    try:
        service(issue=issue, acting_user=request.user)
    except WorkflowError as error:
        messages.error(request, error.message)
    else:
        words = {"issue": issue}
        if action == "cancel":
            words["count"] = _number(dispatch_counts(issue_id=issue.pk)[DeliveryStatus.CANCELLED])
        messages.success(request, done % words)
    return redirect("subscribers:issue_sending", issue_id=issue.pk)


def _cancel_confirm(request, issue: Issue):
    """The question before a cancel: how many deliveries it stops. Changes nothing."""
    progress = dispatch_progress(issue_id=issue.pk)
    if not request.user.has_perm(CONTROL_PERMISSION):
        messages.error(request, _("You may not cancel the sending of an issue."))
        return redirect("subscribers:issue_sending", issue_id=issue.pk)
    if progress is None or "cancel" not in controls_for(request.user, issue, progress):
        state = progress.state_label.lower() if progress else _("not started")
        messages.error(
            request,
            _("The sending is %(state)s: there is nothing to cancel.") % {"state": state},
        )
        return redirect("subscribers:issue_sending", issue_id=issue.pk)
    context = {
        **_page_context(request, issue),
        "title": _("Cancel the sending of %(issue)s?") % {"issue": issue},
        "pending": _number(progress.counts[DeliveryStatus.PENDING]),
        "claimed": _number(progress.counts[DeliveryStatus.CLAIMED]),
        "sent": _number(
            progress.counts[DeliveryStatus.SENT] + progress.counts[DeliveryStatus.UNCERTAIN]
        ),
        "audience": _number(progress.audience),
    }
    return render(request, "subscribers/admin/issue_sending_cancel.html", context)


@_sending_page("GET", "HEAD", "POST")
def issue_sending(request, issue_id: int):
    """The sending page of an issue; its buttons post here."""
    issue = _issue(issue_id)
    if request.method == "POST":
        return _step(request, issue)
    context = _page_context(request, issue)
    progress = dispatch_progress(issue_id=issue.pk)
    if progress is not None:
        context.update(
            _progress_context(
                request,
                issue,
                progress,
                progress_url=reverse("subscribers:issue_sending_progress", args=[issue.pk]),
            )
        )
        context["publish_at"] = schedule_when(issue.publish_at) if issue.publish_at else ""
    return render(request, "subscribers/admin/issue_sending.html", context)


def _progress_context(request, issue, progress, *, progress_url, notice=None) -> dict:
    """What the sending page shows of a sending in progress or done."""
    key = sending_key(issue_id=progress.issue_id, notice_id=progress.notice_id)
    addresses = request.user.has_perm(ADDRESS_PERMISSION)
    data = progress_data(issue, progress, request.user, notice=notice)
    failed = progress.counts[DeliveryStatus.FAILED]
    return {
        "progress": data,
        "rows": [
            {
                "status": status,
                "label": label,
                "meaning": meaning,
                "count": data["text"]["counts"][status],
            }
            for status, (label, meaning) in STATUS_WORDS.items()
        ],
        "show_addresses": addresses,
        "failures": _failures(key, addresses=addresses) if failed else [],
        "failures_all": failed <= FAILURES_SHOWN,
        "failed_count": _number(failed),
        "progress_url": progress_url,
    }


@_sending_page("GET", "HEAD")
def issue_sending_progress(request, issue_id: int):
    """The page's numbers as JSON, for its poller (static/subscribers/sending.js)."""
    issue = _issue(issue_id)
    progress = dispatch_progress(issue_id=issue.pk)
    if progress is None:
        raise Http404(_("The issue has not been published: nothing has been sent."))
    return JsonResponse(progress_data(issue, progress, request.user))


def _notice(notice_id: int) -> CorrectionNotice:
    return get_object_or_404(
        CorrectionNotice.objects.select_related("story__issue__newsletter"), pk=notice_id
    )


@_sending_page("GET", "HEAD")
def notice_sending(request, notice_id: int):
    """The sending page of a correction notice: the same numbers as an issue's, no controls."""
    notice = _notice(notice_id)
    story, issue = notice.story, notice.story.issue
    context = {
        **admin.site.each_context(request),
        "issue": issue,
        "notice": notice,
        "opts": Issue._meta,
        "title": _("Correction notice: %(headline)s") % {"headline": story.headline},
        "issue_url": reverse("admin:issues_story_change", args=[story.pk]),
        "sending_url": reverse("subscribers:notice_sending", args=[notice.pk]),
    }
    progress = dispatch_progress(notice_id=notice.pk)
    if progress is not None:
        context.update(
            _progress_context(
                request,
                issue,
                progress,
                progress_url=reverse("subscribers:notice_sending_progress", args=[notice.pk]),
                notice=notice,
            )
        )
    return render(request, "subscribers/admin/issue_sending.html", context)


@_sending_page("GET", "HEAD")
def notice_sending_progress(request, notice_id: int):
    """The notice page's numbers as JSON, for its poller."""
    notice = _notice(notice_id)
    progress = dispatch_progress(notice_id=notice.pk)
    if progress is None:
        raise Http404(_("This notice has no sending."))
    return JsonResponse(progress_data(notice.story.issue, progress, request.user, notice=notice))
