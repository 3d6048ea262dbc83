"""The editorial state machine, declared once.

Stories: draft → submitted → approved, and back to ``returned`` with a comment. Editing an
approved story sends it back to submitted: approval belongs to a revision, not to a story.

Issues: draft → approved → scheduled → sending → sent; scheduled → approved (unschedule);
approved → draft when anything in it changes; sent → corrected once a story in it is corrected
or retracted, → retracted once every story in it is.

Only ``issues.services`` changes a status, and only along these transitions. A transition with
no permission is taken by the system (an edit, the scheduler), never asked for by a person.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from .models import IssueStatus, StoryStatus


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    permission: str | None
    # The button that asks for the step, and the line the workflow log writes once it is taken.
    label: str
    done: str


def _transitions(*transitions):
    return {transition.name: transition for transition in transitions}


STORY_TRANSITIONS = _transitions(
    Transition(
        "submit",
        frozenset({StoryStatus.DRAFT, StoryStatus.RETURNED}),
        StoryStatus.SUBMITTED,
        "issues.change_story",
        _("Submit for review"),
        _("Submitted for review"),
    ),
    Transition(
        "return",
        frozenset({StoryStatus.SUBMITTED, StoryStatus.APPROVED}),
        StoryStatus.RETURNED,
        "issues.approve_story",
        _("Return to the author"),
        _("Returned to the author"),
    ),
    Transition(
        "approve",
        frozenset({StoryStatus.SUBMITTED}),
        StoryStatus.APPROVED,
        "issues.approve_story",
        _("Approve"),
        _("Approved"),
    ),
    Transition(
        "reopen",
        frozenset({StoryStatus.APPROVED}),
        StoryStatus.SUBMITTED,
        None,
        _("Edited after approval"),
        _("Edited after approval: back to review"),
    ),
)

ISSUE_TRANSITIONS = _transitions(
    Transition(
        "approve",
        frozenset({IssueStatus.DRAFT}),
        IssueStatus.APPROVED,
        "issues.approve_issue",
        _("Approve"),
        _("Approved"),
    ),
    Transition(
        "schedule",
        frozenset({IssueStatus.APPROVED, IssueStatus.SCHEDULED}),
        IssueStatus.SCHEDULED,
        "issues.schedule_issue",
        _("Schedule"),
        _("Scheduled"),
    ),
    Transition(
        "unschedule",
        frozenset({IssueStatus.SCHEDULED}),
        IssueStatus.APPROVED,
        "issues.schedule_issue",
        _("Unschedule"),
        _("Unscheduled"),
    ),
    Transition(
        "reopen",
        frozenset({IssueStatus.APPROVED}),
        IssueStatus.DRAFT,
        None,
        _("Changed after approval"),
        _("Changed after approval: back to draft"),
    ),
    Transition(
        "publish",
        frozenset({IssueStatus.SCHEDULED}),
        IssueStatus.SENDING,
        None,
        _("Published"),
        _("Sending to subscribers"),
    ),
    Transition(
        "finish",
        frozenset({IssueStatus.SENDING}),
        IssueStatus.SENT,
        None,
        _("Sent to every subscriber"),
        _("Sent to every subscriber"),
    ),
    Transition(
        "correct",
        frozenset({IssueStatus.SENDING, IssueStatus.SENT, IssueStatus.CORRECTED}),
        IssueStatus.CORRECTED,
        None,
        _("Corrected"),
        _("A story in it corrected or retracted"),
    ),
    Transition(
        "retract",
        frozenset({IssueStatus.SENDING, IssueStatus.SENT, IssueStatus.CORRECTED}),
        IssueStatus.RETRACTED,
        None,
        _("Retracted"),
        _("Every story in it retracted"),
    ),
)

# Steps on the record of a published story (``issues.corrections``): the story's status stays
# as it was; the step is its event row, and what readers see changes with it.
_ON_THE_RECORD = frozenset(
    {IssueStatus.SENDING, IssueStatus.SENT, IssueStatus.CORRECTED, IssueStatus.RETRACTED}
)


def _record_step(name: str, done) -> Transition:
    return Transition(name, _ON_THE_RECORD, "", "issues.correct_story", done, done)


STORY_RECORD_STEPS = {
    step.name: step
    for step in (
        _record_step("correct", _("Corrected")),
        _record_step("retract_request", _("Retraction requested")),
        _record_step("retract", _("Retracted")),
        _record_step("takedown_request", _("Takedown requested")),
        _record_step("takedown", _("Taken down")),
        _record_step("withdrawal_cancel", _("Retraction or takedown request withdrawn")),
        _record_step("notice", _("Notice emailed to the issue's readers")),
    )
}

# Steps in the log that are not transitions: an editor controlling a sending (the status
# stays "sending"; subscribers.dispatch takes them).
OTHER_STEPS = {
    # A cited source put under review or burned, and an editor's all-clear (sources app).
    "source_flagged": _("A cited source was put in doubt"),
    "source_flag_cleared": _("Flag on a source cleared"),
    # An editor's finding in a fallout review: verified, unverifiable, denied, fabricated.
    "verdict": _("Verdict recorded"),
    "pause_sending": _("Sending paused"),
    "resume_sending": _("Sending resumed"),
    "cancel_sending": _("Sending cancelled"),
    **{name: step.done for name, step in STORY_RECORD_STEPS.items()},
}

# Once an issue is on its way out, its text is a record: corrections, not edits.
ISSUE_LOCKED_STATUSES = frozenset(
    {
        IssueStatus.SCHEDULED,
        IssueStatus.SENDING,
        IssueStatus.SENT,
        IssueStatus.CORRECTED,
        IssueStatus.RETRACTED,
    }
)
# What a journalist may still change: their own story before review, or back from it.
STORY_AUTHOR_EDITABLE_STATUSES = frozenset({StoryStatus.DRAFT, StoryStatus.RETURNED})
