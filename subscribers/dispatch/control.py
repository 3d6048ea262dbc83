"""Editors' controls of an issue's sending: pause, resume, cancel."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from issues.models import IssueEvent, IssueStatus
from issues.services import WorkflowError

from ..models import Delivery, DeliveryStatus, Dispatch, DispatchState
from .finish import dispatch_finish_if_done
from .start import dispatch_enqueue

# Editors' controls -------------------------------------------------------------------------------

CONTROL_PERMISSION = "issues.schedule_issue"


def _dispatch_locked(issue, acting_user, *, verb: str, states, refusal: str) -> Dispatch:
    """The issue's dispatch, locked, if this person may ``verb`` it and it is in ``states``."""
    if not acting_user.has_perm(CONTROL_PERMISSION):
        raise WorkflowError(
            _("You may not %(verb)s the sending of an issue.") % {"verb": verb}, code="forbidden"
        )
    dispatch = Dispatch.objects.select_for_update().select_related("issue").filter(issue=issue)
    dispatch = dispatch.first()
    if dispatch is None or dispatch.issue.status != IssueStatus.SENDING:
        raise WorkflowError(
            _("The issue “%(issue)s” is not being sent: there is nothing to %(verb)s.")
            % {"issue": issue, "verb": verb},
            code="state",
        )
    if dispatch.state not in states:
        raise WorkflowError(refusal % {"state": dispatch.get_state_display().lower()}, code="state")
    return dispatch


def _control(dispatch: Dispatch, acting_user, *, state: str, action: str, comment: str = ""):
    now = timezone.now()
    dispatch.state = state
    dispatch.state_changed_by = acting_user
    dispatch.state_changed_at = now
    dispatch.save(update_fields=["state", "state_changed_by", "state_changed_at"])
    IssueEvent.objects.create(
        issue_id=dispatch.issue_id,
        actor=acting_user,
        action=action,
        from_status=IssueStatus.SENDING,
        to_status=IssueStatus.SENDING,
        comment=comment,
        created_at=now,
    )


def dispatch_pause(*, issue, acting_user) -> Dispatch:
    """Stop a sending after the batches in flight (at most one batch per worker)."""
    with transaction.atomic():
        dispatch = _dispatch_locked(
            issue,
            acting_user,
            verb=_("pause"),
            states={DispatchState.RUNNING},
            refusal=_("The sending is %(state)s: only a running sending can be paused."),
        )
        _control(dispatch, acting_user, state=DispatchState.PAUSED, action="pause_sending")
    return dispatch


def dispatch_resume(*, issue, acting_user) -> Dispatch:
    """Go on with a paused sending where it stopped."""
    with transaction.atomic():
        dispatch = _dispatch_locked(
            issue,
            acting_user,
            verb=_("resume"),
            states={DispatchState.PAUSED},
            refusal=_("The sending is %(state)s: only a paused sending can be resumed."),
        )
        _control(dispatch, acting_user, state=DispatchState.RUNNING, action="resume_sending")
        issue_id = dispatch.issue_id
        transaction.on_commit(lambda: dispatch_enqueue(issue_id=issue_id))
    return dispatch


def dispatch_cancel(*, issue, acting_user) -> Dispatch:
    """Send no more of the issue: every delivery not yet sent is cancelled. Batches in flight
    finish (at most one per worker); then the issue counts as sent, to whoever got it."""
    with transaction.atomic():
        dispatch = _dispatch_locked(
            issue,
            acting_user,
            verb=_("cancel"),
            states={DispatchState.RUNNING, DispatchState.PAUSED},
            refusal=_("The sending is %(state)s already."),
        )
        cancelled = Delivery.objects.filter(
            issue_id=dispatch.issue_id, status=DeliveryStatus.PENDING
        ).update(status=DeliveryStatus.CANCELLED, next_attempt_at=None)
        _control(
            dispatch,
            acting_user,
            state=DispatchState.CANCELLED,
            action="cancel_sending",
            comment=_("%(count)d deliveries cancelled before sending.") % {"count": cancelled},
        )
    dispatch_finish_if_done(issue_id=dispatch.issue_id)
    return dispatch
