"""The editorial workflow's services: the only code that changes a story's or issue's status.

Each service checks the acting person's permission and the starting state, makes the change
and writes its event row in one transaction, and hands notifications to Celery once that
transaction has committed. The admin, the management commands and any API call these.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .access import issue_is_locked, story_is_authored_by, user_is_editor
from .admin_log import admin_log

# The record of published stories has its own module; the public API names them here too.
from .corrections import (  # noqa: F401
    correction_notice_send,
    story_correct,
    story_retract,
    story_takedown,
)
from .models import Issue, Story, StoryEvent, StoryStatus
from .signals import issue_published, story_review_checks, story_step_recorded
from .steps import WorkflowError
from .steps import capitalised as _capitalised
from .steps import issue_event as _issue_event
from .steps import issue_locked as _issue_locked
from .steps import quoted as _quoted
from .steps import story_locked as _story_locked
from .workflow import ISSUE_TRANSITIONS, STORY_TRANSITIONS, Transition


def _check_permission(transition: Transition, acting_user, what: str) -> None:
    if transition.permission and not acting_user.has_perm(transition.permission):
        raise WorkflowError(
            _("You may not %(action)s %(what)s.") % {"action": _verb(transition), "what": what},
            code="forbidden",
        )


def _check_source(transition: Transition, status: str, what: str, label: str) -> None:
    if status not in transition.sources:
        raise WorkflowError(
            _("%(what)s is %(status)s: it cannot be %(action)s now.")
            % {"what": what, "status": label.lower(), "action": _past(transition)},
            code="state",
        )


# How each step reads in a refusal: “You may not approve …”, “… cannot be approved now.”
_STEP_WORDS = {
    "submit": (gettext_lazy("submit"), gettext_lazy("submitted")),
    "return": (gettext_lazy("return"), gettext_lazy("returned")),
    "approve": (gettext_lazy("approve"), gettext_lazy("approved")),
    "schedule": (gettext_lazy("schedule"), gettext_lazy("scheduled")),
    "unschedule": (gettext_lazy("unschedule"), gettext_lazy("unscheduled")),
}


def _verb(transition: Transition) -> str:
    return _STEP_WORDS.get(transition.name, (transition.name,))[0]


def _past(transition: Transition) -> str:
    return _STEP_WORDS.get(transition.name, (None, transition.name))[1]


def _check_revision(current, revision: int | None, transition: Transition, what: str) -> None:
    """Refuse a step taken on what the person read, when someone has changed it since."""
    if revision is not None and revision != current.revision:
        raise WorkflowError(
            _(
                "%(what)s changed (revision %(current)s) after you read revision "
                "%(revision)s. Read it again before you %(action)s it."
            )
            % {
                "what": _capitalised(what),
                "current": current.revision,
                "revision": revision,
                "action": _verb(transition),
            },
            code="stale",
        )


# Stories -------------------------------------------------------------------------------------

# The steps after which an editor, then readers, rely on the story's claims being sourced.
REVIEW_CHECKED_STEPS = frozenset({"submit", "approve"})


def _review_problems(story: Story, transition: str) -> list[str]:
    """What the receivers of ``story_review_checks`` find against this step, one per line."""
    replies = story_review_checks.send(sender=Story, story=story, transition=transition)
    return [problem.strip().removesuffix(".") for _receiver, found in replies for problem in found]


def _check_review(story: Story, transition: Transition, what: str) -> None:
    """Ask the apps that check a story before review (sources) what still stops it."""
    if transition.name not in REVIEW_CHECKED_STEPS:
        return
    problems = _review_problems(story, transition.name)
    if problems:
        raise WorkflowError(
            _("%(what)s cannot be %(action)s yet. Still to fix: %(problems)s.")
            % {
                "what": _capitalised(what),
                "action": _past(transition),
                "problems": "; ".join(problems),
            },
            code="unsourced",
        )


def _story_transition(
    *, story: Story, acting_user, name: str, comment: str = "", revision: int | None = None
) -> Story:
    transition = STORY_TRANSITIONS[name]
    with transaction.atomic():
        current = _story_locked(story)
        what = _("the story %(headline)s") % {"headline": _quoted(current.headline)}
        # A step with no permission is the system's (an edit reopening an approved story):
        # the person who caused it is recorded, but they did not ask for it.
        asked = transition.permission is not None
        if asked:
            _check_permission(transition, acting_user, what)
            if not user_is_editor(acting_user) and not story_is_authored_by(
                story=current, user=acting_user
            ):
                raise WorkflowError(
                    _("Only its authors and editors may submit %(what)s.") % {"what": what},
                    code="forbidden",
                )
        _check_revision(current, revision, transition, what)
        _check_source(transition, current.status, _capitalised(what), current.get_status_display())
        if asked and issue_is_locked(current.issue):
            raise WorkflowError(
                _("The issue %(issue)s is %(status)s: unschedule it first.")
                % {
                    "issue": _quoted(str(current.issue)),
                    "status": current.issue.get_status_display().lower(),
                },
                code="locked",
            )
        _check_review(current, transition, what)
        event = StoryEvent.objects.create(
            story=current,
            actor=acting_user,
            action=name,
            from_status=current.status,
            to_status=transition.target,
            comment=comment,
            revision=current.revision,
        )
        admin_log(obj=current, acting_user=acting_user, transition=transition, comment=comment)
        current.status = transition.target
        current.save(update_fields=["status", "updated_at"])
        if current.issue is not None and current.status != StoryStatus.APPROVED:
            _issue_reopen(issue=current.issue, acting_user=acting_user, reason=what)
        if asked:
            story_step_recorded.send(sender=StoryEvent, event=event)
    story.status = current.status
    return current


def story_submit(*, story: Story, acting_user, revision: int | None = None) -> Story:
    """Hand a draft (or a returned story) to the editors for review, at ``revision`` (the one
    its author last saw), or at its current one."""
    return _story_transition(story=story, acting_user=acting_user, name="submit", revision=revision)


def story_return(*, story: Story, acting_user, comment: str, revision: int | None = None) -> Story:
    """Send a story back to its authors, saying what to change in ``revision`` (the one the
    editor read), or in its current one."""
    comment = (comment or "").strip()
    if not comment:
        raise WorkflowError(
            _("Say what the author should change: returning a story needs a comment."),
            code="comment",
        )
    return _story_transition(
        story=story, acting_user=acting_user, name="return", comment=comment, revision=revision
    )


def story_approve(*, story: Story, acting_user, revision: int | None = None) -> Story:
    """Approve the story at ``revision`` (the one the editor read), or at its current one."""
    return _story_transition(
        story=story, acting_user=acting_user, name="approve", revision=revision
    )


def story_edited(*, story: Story, acting_user) -> Story:
    """Record that a story's text, blocks or order changed.

    Approval belongs to a revision: an approved story goes back to submitted, and an approved
    issue that holds it back to draft. A story in a scheduled or sent issue is not edited.
    """
    with transaction.atomic():
        current = _story_locked(story)
        if issue_is_locked(current.issue):
            raise WorkflowError(
                _("The issue %(issue)s is %(status)s: unschedule it before editing its stories.")
                % {
                    "issue": _quoted(str(current.issue)),
                    "status": current.issue.get_status_display().lower(),
                },
                code="locked",
            )
        if current.status == StoryStatus.APPROVED:
            return _story_transition(story=story, acting_user=acting_user, name="reopen")
        if current.issue is not None:
            _issue_reopen(
                issue=current.issue,
                acting_user=acting_user,
                reason=_("the story %(headline)s") % {"headline": _quoted(current.headline)},
            )
    return current


# Issues --------------------------------------------------------------------------------------


def _issue_check(
    current: Issue, *, acting_user, name: str, revision: int | None = None
) -> tuple[Transition, str]:
    """Refuse the step ``name`` on ``current`` for this person, from its status and their
    permission."""
    transition = ISSUE_TRANSITIONS[name]
    what = _("the issue %(issue)s") % {"issue": _quoted(str(current))}
    _check_permission(transition, acting_user, what)
    _check_revision(current, revision, transition, what)
    _check_source(transition, current.status, _capitalised(what), current.get_status_display())
    return transition, what


def _issue_prepare(
    *, issue: Issue, acting_user, name: str, revision: int | None = None
) -> tuple[Issue, Transition, str]:
    current = _issue_locked(issue)
    transition, what = _issue_check(current, acting_user=acting_user, name=name, revision=revision)
    return current, transition, what


def _issue_step_check(
    current: Issue, *, acting_user, name: str, revision: int | None = None
) -> Transition:
    """Everything that refuses the step ``name`` before anything is typed for it (a schedule's
    time is checked by its service)."""
    transition, _what = _issue_check(current, acting_user=acting_user, name=name, revision=revision)
    if name in STEPS_NEEDING_APPROVED_STORIES:
        _check_stories_approved(current)
    return transition


def issue_step_refusal(*, issue: Issue, acting_user, name: str) -> str | None:
    """Why ``acting_user`` could not take the step ``name`` (approve, schedule, unschedule) on
    ``issue`` as it is stored now, in the words the service would refuse with; None when it
    would go through. The issue page shows it beside the step's button, disabled: the same
    checks as the service's, so the page and the service cannot disagree."""
    current = Issue.objects.select_related("newsletter").get(pk=issue.pk)
    try:
        _issue_step_check(current, acting_user=acting_user, name=name)
    except WorkflowError as error:
        return error.message
    return None


def issue_approve_refusal(*, issue: Issue, acting_user) -> str | None:
    """Why ``issue_approve`` would refuse this person now (stories not approved, a cited source
    in doubt, the issue not a draft, no permission); None when approving would go through."""
    return issue_step_refusal(issue=issue, acting_user=acting_user, name="approve")


def _issue_revision_next(issue: Issue) -> None:
    # F() so that two saves at once both count; the row is locked by the caller anyway.
    Issue.objects.filter(pk=issue.pk).update(revision=F("revision") + 1)
    issue.refresh_from_db(fields=["revision"])


# An issue is approved and scheduled only with every story approved, and their approvals still
# holding (``_check_stories_approved``, which both services call).
STEPS_NEEDING_APPROVED_STORIES = frozenset({"approve", "schedule"})


def _check_stories_approved(issue: Issue) -> None:
    stories = list(issue.stories.order_by("position"))
    if not stories:
        raise WorkflowError(
            _("The issue %(issue)s has no stories yet.") % {"issue": _quoted(str(issue))},
            code="empty",
        )
    waiting = [story.headline for story in stories if story.status != StoryStatus.APPROVED]
    if waiting:
        raise WorkflowError(
            _("Every story must be approved first; not yet: %(stories)s.")
            % {"stories": ", ".join(_quoted(headline) for headline in waiting)},
            code="stories",
        )
    problems = _stories_review_problems(stories)
    if problems:
        raise WorkflowError(
            _("A story's approval no longer holds: %(problems)s.") % {"problems": problems},
            code="unsourced",
        )


def _stories_review_problems(stories) -> str:
    """What the apps connected to ``story_review_checks`` find against approving these stories
    now (a cited source burned since, say), in words; empty when nothing."""
    found = []
    for story in stories:
        problems = _review_problems(story, "approve")
        if problems:
            found.append(f"{_quoted(story.headline)}: {'; '.join(problems)}")
    return "; ".join(found)


def issue_hold(*, issue: Issue, reason: str) -> bool:
    """Take a scheduled issue off the schedule because something in it is in doubt (a system
    step, recorded with ``reason``); it stays approved. False when it was not scheduled."""
    transition = ISSUE_TRANSITIONS["unschedule"]
    with transaction.atomic():
        current = _issue_locked(issue)
        if current.status not in transition.sources:
            return False
        _issue_event(current, None, transition, comment=reason, publish_at=current.publish_at)
        current.status = transition.target
        current.publish_at = None
        current.save(update_fields=["status", "publish_at", "updated_at"])
        _issue_revision_next(current)
    issue.status, issue.publish_at = current.status, current.publish_at
    return True


def _issue_reopen(*, issue: Issue, acting_user, reason: str) -> None:
    current = _issue_locked(issue)
    if current.status in ISSUE_TRANSITIONS["reopen"].sources:
        _issue_event(
            current,
            acting_user,
            ISSUE_TRANSITIONS["reopen"],
            comment=_("%(reason)s changed after approval.") % {"reason": reason},
        )
        current.status = ISSUE_TRANSITIONS["reopen"].target
        current.save(update_fields=["status", "updated_at"])
        issue.status = current.status


def issue_edited(*, issue: Issue, acting_user) -> Issue:
    """Record that an issue's own text, its list of stories or their order changed.

    The issue gets a new revision, so that anyone who acts on what they read before is asked to
    read it again; an approved issue goes back to draft. A scheduled or sent issue is not edited.
    """
    with transaction.atomic():
        current = _issue_locked(issue)
        if issue_is_locked(current):
            raise WorkflowError(
                _("The issue %(issue)s is %(status)s: unschedule it before editing it.")
                % {"issue": _quoted(str(current)), "status": current.get_status_display().lower()},
                code="locked",
            )
        _issue_revision_next(current)
        _issue_reopen(issue=current, acting_user=acting_user, reason=_("the issue"))
    issue.status, issue.revision = current.status, current.revision
    return current


def issue_approve(*, issue: Issue, acting_user, revision: int | None = None) -> Issue:
    """Approve an issue whose stories are all approved, at ``revision`` (the one the editor
    read), or at its current one."""
    with transaction.atomic():
        current = _issue_locked(issue)
        transition = _issue_step_check(
            current, acting_user=acting_user, name="approve", revision=revision
        )
        _issue_event(current, acting_user, transition)
        current.status = transition.target
        current.save(update_fields=["status", "updated_at"])
    issue.status = current.status
    return current


def issue_schedule(
    *, issue: Issue, publish_at: datetime, acting_user, revision: int | None = None
) -> Issue:
    """Schedule an approved issue (or move a scheduled one) to go out at ``publish_at``.

    With ``revision`` (the one the editor read), refused if the issue or its schedule changed
    since. The schedule is part of the issue's revision: moving it makes a new one.
    """
    if publish_at is None or timezone.is_naive(publish_at):
        raise WorkflowError(_("Give the date and time the issue should go out."), code="time")
    with transaction.atomic():
        current, transition, _what = _issue_prepare(
            issue=issue, acting_user=acting_user, name="schedule", revision=revision
        )
        if publish_at <= timezone.now():
            raise WorkflowError(
                _("%(when)s has already passed: choose a time in the future.")
                % {"when": date_format(timezone.localtime(publish_at), "D j M Y H:i")},
                code="past",
            )
        _check_stories_approved(current)
        _issue_event(current, acting_user, transition, publish_at=publish_at)
        current.status = transition.target
        current.publish_at = publish_at
        current.save(update_fields=["status", "publish_at", "updated_at"])
        _issue_revision_next(current)
    issue.status, issue.publish_at, issue.revision = (
        current.status,
        current.publish_at,
        current.revision,
    )
    return current


def issue_unschedule(*, issue: Issue, acting_user, revision: int | None = None) -> Issue:
    """Take a scheduled issue off the schedule; it stays approved. With ``revision`` (the one
    the editor read), refused if the issue or its schedule changed since."""
    with transaction.atomic():
        current, transition, _what = _issue_prepare(
            issue=issue, acting_user=acting_user, name="unschedule", revision=revision
        )
        _issue_event(current, acting_user, transition, publish_at=current.publish_at)
        current.status = transition.target
        current.publish_at = None
        current.save(update_fields=["status", "publish_at", "updated_at"])
        _issue_revision_next(current)
    issue.status, issue.publish_at, issue.revision = (
        current.status,
        current.publish_at,
        current.revision,
    )
    return current


def issue_publish(*, issue: Issue) -> Issue:
    """The scheduler's step: move a due scheduled issue to sending, and make it public.

    A system transition (no acting person). In one transaction it writes the event row, sets
    ``published_at`` to now (the archive shows the issue from that moment) and sends
    ``issue_published``, whose receivers (the audience snapshot) commit or roll back with it.
    Refused for an issue that is not scheduled, or not yet due. An issue one of whose stories
    no longer passes the review checks (a cited source burned since) is held instead: taken off
    the schedule, with the reason in its log.
    """
    transition = ISSUE_TRANSITIONS["publish"]
    with transaction.atomic():
        current = _issue_locked(issue)
        what = _("the issue %(issue)s") % {"issue": _quoted(str(current))}
        _check_source(transition, current.status, _capitalised(what), current.get_status_display())
        now = timezone.now()
        if current.publish_at > now:
            raise WorkflowError(
                _("%(what)s is not due until %(when)s.")
                % {
                    "what": _capitalised(what),
                    "when": date_format(timezone.localtime(current.publish_at), "D j M Y H:i"),
                },
                code="early",
            )
        problems = _stories_review_problems(current.stories.order_by("position"))
        if problems:
            # Nothing goes out while a story's approval no longer holds: held, not published.
            issue_hold(issue=current, reason=_("Held back: %(problems)s.") % {"problems": problems})
            issue.status, issue.publish_at = current.status, current.publish_at
            return current
        _issue_event(current, None, transition, publish_at=current.publish_at)
        current.status = transition.target
        current.published_at = now
        current.save(update_fields=["status", "published_at", "updated_at"])
        issue_published.send(sender=Issue, issue=current)
    issue.status, issue.published_at = current.status, current.published_at
    return current


def issue_finish(*, issue: Issue, comment: str = "") -> bool:
    """Dispatch's step: a sending issue whose deliveries are all settled becomes sent.

    A system transition; ``comment`` sums the sending up for the workflow log. Returns False
    when the issue is not sending (another worker finished it first).
    """
    transition = ISSUE_TRANSITIONS["finish"]
    with transaction.atomic():
        current = _issue_locked(issue)
        if current.status not in transition.sources:
            return False
        _issue_event(current, None, transition, comment=comment)
        current.status = transition.target
        current.save(update_fields=["status", "updated_at"])
    issue.status = current.status
    return True
