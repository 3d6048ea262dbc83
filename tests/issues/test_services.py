"""Every workflow step, allowed and refused, for each role (issues.services)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from issues.models import Issue, IssueEvent, Story, StoryEvent
from issues.services import (
    WorkflowError,
    issue_approve,
    issue_approve_refusal,
    issue_edited,
    issue_schedule,
    issue_step_refusal,
    issue_unschedule,
    story_approve,
    story_edited,
    story_return,
    story_submit,
)
from tests.factories import IssueFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db

DRAFT, SUBMITTED, RETURNED, APPROVED = "draft", "submitted", "returned", "approved"
STORY_STATES = [DRAFT, SUBMITTED, RETURNED, APPROVED]


@pytest.fixture
def people(editor, journalist, keeper):
    colleague = UserFactory(username="colleague", groups=["Journalists"])
    nobody = UserFactory(username="nobody")
    return {
        "editor": editor,
        "author": journalist,
        "colleague": colleague,
        "keeper": keeper,
        "nobody": nobody,
    }


def story_in(status, author, **kwargs):
    story = StoryFactory(authors=[author], **kwargs)
    Story.objects.filter(pk=story.pk).update(status=status)
    story.refresh_from_db()
    return story


def refused(code, call):
    with pytest.raises(WorkflowError) as error:
        call()
    assert error.value.code == code, error.value.message
    return error.value.message


# Who may take each story step, from the states it starts in.
STORY_STEPS = {
    "submit": ({DRAFT, RETURNED}, {"editor", "author"}),
    "return": ({SUBMITTED, APPROVED}, {"editor"}),
    "approve": ({SUBMITTED}, {"editor"}),
}


def take(step, story, user):
    if step == "submit":
        return story_submit(story=story, acting_user=user)
    if step == "return":
        return story_return(story=story, acting_user=user, comment="Name a second source.")
    return story_approve(story=story, acting_user=user)


@pytest.mark.parametrize("step", STORY_STEPS)
@pytest.mark.parametrize("state", STORY_STATES)
@pytest.mark.parametrize("role", ["editor", "author", "colleague", "keeper", "nobody"])
def test_story_step_is_allowed_only_for_its_roles_and_states(people, step, state, role):
    story = story_in(state, people["author"], issue=None, position=None)
    sources, roles = STORY_STEPS[step]
    target = {"submit": SUBMITTED, "return": RETURNED, "approve": APPROVED}[step]

    if role in roles and state in sources:
        take(step, story, people[role])
        story.refresh_from_db()
        assert story.status == target
        event = StoryEvent.objects.get(story=story)
        assert (event.actor, event.action, event.from_status, event.to_status) == (
            people[role],
            step,
            state,
            target,
        )
    else:
        code = "forbidden" if role not in roles else "state"
        message = refused(code, lambda: take(step, story, people[role]))
        assert story.headline in message
        story.refresh_from_db()
        assert story.status == state
        assert not StoryEvent.objects.filter(story=story).exists()


def test_story_return_needs_a_comment(people):
    story = story_in(SUBMITTED, people["author"])
    refused("comment", lambda: story_return(story=story, acting_user=people["editor"], comment=" "))
    story.refresh_from_db()
    assert story.status == SUBMITTED


def test_story_return_keeps_the_comment_for_the_author(people):
    story = story_in(SUBMITTED, people["author"])
    story_return(story=story, acting_user=people["editor"], comment="Who is the second source?")
    assert story.events.get().comment == "Who is the second source?"


def test_story_approve_refuses_a_revision_the_editor_did_not_read(people):
    story = story_in(SUBMITTED, people["author"])
    Story.objects.filter(pk=story.pk).update(revision=5)
    message = refused(
        "stale", lambda: story_approve(story=story, acting_user=people["editor"], revision=4)
    )
    assert "revision 5" in message
    story_approve(story=story, acting_user=people["editor"], revision=5)
    story.refresh_from_db()
    assert story.status == APPROVED


def test_story_edited_after_approval_goes_back_to_submitted_and_reopens_its_issue(people):
    issue = IssueFactory()
    story = story_in(APPROVED, people["author"], issue=issue)
    Issue.objects.filter(pk=issue.pk).update(status="approved")

    story_edited(story=story, acting_user=people["editor"])

    story.refresh_from_db()
    issue.refresh_from_db()
    assert (story.status, issue.status) == (SUBMITTED, "draft")
    event = story.events.get()
    assert (event.action, event.actor, event.from_status) == ("reopen", people["editor"], APPROVED)
    assert issue.events.get().action == "reopen"


def test_story_edited_in_a_scheduled_issue_is_refused(people):
    issue = IssueFactory()
    story = story_in(APPROVED, people["author"], issue=issue)
    Issue.objects.filter(pk=issue.pk).update(
        status="scheduled", publish_at=timezone.now() + timedelta(hours=1)
    )
    message = refused("locked", lambda: story_edited(story=story, acting_user=people["editor"]))
    assert "unschedule" in message
    story.refresh_from_db()
    assert story.status == APPROVED


def test_story_steps_in_a_scheduled_issue_are_refused(people):
    issue = IssueFactory()
    story = story_in(APPROVED, people["author"], issue=issue)
    Issue.objects.filter(pk=issue.pk).update(
        status="scheduled", publish_at=timezone.now() + timedelta(hours=1)
    )
    refused(
        "locked",
        lambda: story_return(story=story, acting_user=people["editor"], comment="Wait."),
    )


def test_story_return_of_an_approved_story_reopens_its_approved_issue(people):
    issue = IssueFactory()
    story = story_in(APPROVED, people["author"], issue=issue)
    Issue.objects.filter(pk=issue.pk).update(status="approved")

    story_return(story=story, acting_user=people["editor"], comment="A fact is wrong.")

    issue.refresh_from_db()
    assert issue.status == "draft"


# Notifications -------------------------------------------------------------------------------


def test_submit_notifies_the_editors_and_not_the_author(people, django_capture_on_commit_callbacks):
    story = story_in(DRAFT, people["author"])
    with django_capture_on_commit_callbacks(execute=True):
        story_submit(story=story, acting_user=people["author"])
    assert [m.to for m in mail.outbox] == [[people["editor"].email]]
    assert story.headline in mail.outbox[0].subject
    assert f"/admin/issues/story/{story.pk}/change/" in mail.outbox[0].body


def test_return_notifies_the_authors_with_the_comment(people, django_capture_on_commit_callbacks):
    story = story_in(SUBMITTED, people["author"])
    story.authors.add(people["colleague"])
    with django_capture_on_commit_callbacks(execute=True):
        story_return(story=story, acting_user=people["editor"], comment="Check the “$2.9 bn”.")
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [people["author"].email, people["colleague"].email]
    )
    assert "Check the “$2.9 bn”." in mail.outbox[0].body


def test_notifications_are_sent_only_after_commit(people, django_capture_on_commit_callbacks):
    story = story_in(SUBMITTED, people["author"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        story_approve(story=story, acting_user=people["editor"])
    assert mail.outbox == []
    # The others refresh the public archive's stamp and search index.
    (notify,) = [c for c in callbacks if "notify_story_event" in repr(c)]
    notify()
    assert [m.to for m in mail.outbox] == [[people["author"].email]]


def test_a_refused_step_notifies_nobody(people, django_capture_on_commit_callbacks):
    story = story_in(DRAFT, people["author"])
    with django_capture_on_commit_callbacks(execute=True):
        refused("forbidden", lambda: story_approve(story=story, acting_user=people["author"]))
    assert mail.outbox == []


# Issues --------------------------------------------------------------------------------------


@pytest.fixture
def approved_issue(people):
    issue = IssueFactory()
    for position in (1, 2):
        story_in(APPROVED, people["author"], issue=issue, position=position)
    return issue


def in_an_hour():
    return timezone.now() + timedelta(hours=1)


ISSUE_STEPS = {
    "approve": ({"draft"}, lambda issue, user: issue_approve(issue=issue, acting_user=user)),
    "schedule": (
        {"approved", "scheduled"},
        lambda issue, user: issue_schedule(issue=issue, publish_at=in_an_hour(), acting_user=user),
    ),
    "unschedule": (
        {"scheduled"},
        lambda issue, user: issue_unschedule(issue=issue, acting_user=user),
    ),
}
ISSUE_TARGETS = {"approve": "approved", "schedule": "scheduled", "unschedule": "approved"}


@pytest.mark.parametrize("step", ISSUE_STEPS)
@pytest.mark.parametrize("state", ["draft", "approved", "scheduled", "sending", "sent"])
@pytest.mark.parametrize("role", ["editor", "author", "keeper", "nobody"])
def test_issue_step_is_allowed_only_for_editors_and_its_states(
    people, approved_issue, step, state, role
):
    publish_at = in_an_hour() if state == "scheduled" else None
    Issue.objects.filter(pk=approved_issue.pk).update(status=state, publish_at=publish_at)
    approved_issue.refresh_from_db()
    sources, call = ISSUE_STEPS[step]

    if role == "editor" and state in sources:
        call(approved_issue, people[role])
        approved_issue.refresh_from_db()
        assert approved_issue.status == ISSUE_TARGETS[step]
        assert (approved_issue.publish_at is not None) == (ISSUE_TARGETS[step] == "scheduled")
        event = approved_issue.events.get()
        assert (event.actor, event.action, event.from_status) == (people[role], step, state)
    else:
        refused(
            "forbidden" if role != "editor" else "state", lambda: call(approved_issue, people[role])
        )
        approved_issue.refresh_from_db()
        assert approved_issue.status == state
        assert not IssueEvent.objects.exists()


def test_issue_approve_needs_every_story_approved(people):
    issue = IssueFactory(title="Weekly")
    story_in(APPROVED, people["author"], issue=issue, position=1)
    story_in(SUBMITTED, people["author"], issue=issue, position=2, headline="Still in review")
    message = refused("stories", lambda: issue_approve(issue=issue, acting_user=people["editor"]))
    assert "“Still in review”" in message


def test_issue_without_stories_cannot_be_approved_or_scheduled(people):
    issue = IssueFactory()
    refused("empty", lambda: issue_approve(issue=issue, acting_user=people["editor"]))
    Issue.objects.filter(pk=issue.pk).update(status="approved")
    issue.refresh_from_db()
    refused(
        "empty",
        lambda: issue_schedule(issue=issue, publish_at=in_an_hour(), acting_user=people["editor"]),
    )


def test_issue_schedule_refuses_a_time_in_the_past(people, approved_issue):
    Issue.objects.filter(pk=approved_issue.pk).update(status="approved")
    past = timezone.now() - timedelta(minutes=5)
    message = refused(
        "past",
        lambda: issue_schedule(issue=approved_issue, publish_at=past, acting_user=people["editor"]),
    )
    assert "already passed" in message
    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.publish_at) == ("approved", None)


def test_issue_schedule_refuses_a_story_unapproved_since_the_issue_was_approved(
    people, approved_issue
):
    Issue.objects.filter(pk=approved_issue.pk).update(status="approved")
    Story.objects.filter(issue=approved_issue, position=2).update(status=SUBMITTED)
    refused(
        "stories",
        lambda: issue_schedule(
            issue=approved_issue, publish_at=in_an_hour(), acting_user=people["editor"]
        ),
    )


def test_issue_schedule_stores_the_time_and_reschedule_moves_it(people, approved_issue):
    Issue.objects.filter(pk=approved_issue.pk).update(status="approved")
    first, second = in_an_hour(), in_an_hour() + timedelta(days=1)
    issue_schedule(issue=approved_issue, publish_at=first, acting_user=people["editor"])
    issue_schedule(issue=approved_issue, publish_at=second, acting_user=people["editor"])
    approved_issue.refresh_from_db()
    assert approved_issue.publish_at == second
    assert [e.publish_at for e in approved_issue.events.order_by("pk")] == [first, second]

    issue_unschedule(issue=approved_issue, acting_user=people["editor"])
    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.publish_at) == ("approved", None)


def test_issue_edited_after_approval_goes_back_to_draft_and_is_refused_when_scheduled(
    people, approved_issue
):
    Issue.objects.filter(pk=approved_issue.pk).update(status="approved")
    issue_edited(issue=approved_issue, acting_user=people["editor"])
    approved_issue.refresh_from_db()
    assert approved_issue.status == "draft"

    Issue.objects.filter(pk=approved_issue.pk).update(status="scheduled", publish_at=in_an_hour())
    refused("locked", lambda: issue_edited(issue=approved_issue, acting_user=people["editor"]))


# Revisions: steps taken on what the person read ----------------------------------------------


@pytest.mark.parametrize(
    ("state", "call"),
    [
        (
            "draft",
            lambda issue, user, revision: issue_approve(
                issue=issue, acting_user=user, revision=revision
            ),
        ),
        (
            "approved",
            lambda issue, user, revision: issue_schedule(
                issue=issue, publish_at=in_an_hour(), acting_user=user, revision=revision
            ),
        ),
        (
            "scheduled",
            lambda issue, user, revision: issue_unschedule(
                issue=issue, acting_user=user, revision=revision
            ),
        ),
    ],
)
def test_issue_step_refuses_a_revision_the_editor_did_not_read(people, approved_issue, state, call):
    publish_at = in_an_hour() if state == "scheduled" else None
    Issue.objects.filter(pk=approved_issue.pk).update(
        status=state, publish_at=publish_at, revision=4
    )
    approved_issue.refresh_from_db()

    message = refused("stale", lambda: call(approved_issue, people["editor"], 3))

    assert "(revision 4) after you read revision 3" in message
    approved_issue.refresh_from_db()
    assert approved_issue.status == state
    call(approved_issue, people["editor"], 4)


def test_issue_schedule_and_unschedule_make_a_new_revision_and_approve_does_not(
    people, approved_issue
):
    issue_approve(issue=approved_issue, acting_user=people["editor"])
    assert approved_issue.revision == 1
    issue_schedule(issue=approved_issue, publish_at=in_an_hour(), acting_user=people["editor"])
    assert approved_issue.revision == 2
    issue_unschedule(issue=approved_issue, acting_user=people["editor"])
    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.revision) == ("approved", 3)


def test_issue_edited_makes_a_new_revision_even_in_draft(people):
    issue = IssueFactory()
    issue_edited(issue=issue, acting_user=people["editor"])
    issue_edited(issue=issue, acting_user=people["editor"])
    issue.refresh_from_db()
    assert (issue.status, issue.revision) == ("draft", 3)
    assert not issue.events.exists()


@pytest.mark.parametrize("step", ["submit", "return"])
def test_story_submit_and_return_refuse_a_revision_not_read(people, step):
    story = story_in(DRAFT if step == "submit" else SUBMITTED, people["author"])
    Story.objects.filter(pk=story.pk).update(revision=2)
    user = people["author"] if step == "submit" else people["editor"]

    if step == "submit":
        refused("stale", lambda: story_submit(story=story, acting_user=user, revision=1))
    else:
        refused(
            "stale",
            lambda: story_return(story=story, acting_user=user, comment="Why?", revision=1),
        )
    story.refresh_from_db()
    assert story.status == (DRAFT if step == "submit" else SUBMITTED)


# The refusal a page shows beforehand is the one the service gives --------------------------


def approve_outcome(issue, user):
    """What issue_approve does for this person now: None when it approves, else its refusal."""
    try:
        issue_approve(issue=issue, acting_user=user)
    except WorkflowError as error:
        return error.message
    return None


@pytest.mark.parametrize(
    "case", ["ready", "a story in review", "no stories", "already approved", "not an editor"]
)
def test_issue_approve_refusal_says_what_issue_approve_would(people, case):
    issue = IssueFactory(title="Weekly")
    if case != "no stories":
        story_in(APPROVED, people["author"], issue=issue, position=1)
    if case == "a story in review":
        story_in(SUBMITTED, people["author"], issue=issue, position=2, headline="Still in review")
    if case == "already approved":
        Issue.objects.filter(pk=issue.pk).update(status=APPROVED)
    user = people["author"] if case == "not an editor" else people["editor"]

    foretold = issue_approve_refusal(issue=issue, acting_user=user)

    assert foretold == approve_outcome(issue, user)
    assert (foretold is None) == (case == "ready")


def test_issue_approve_refusal_names_a_story_whose_approval_no_longer_holds(people, monkeypatch):
    issue = IssueFactory(title="Weekly")
    story_in(APPROVED, people["author"], issue=issue, position=1, headline="Kremlin view")
    monkeypatch.setattr(
        "issues.services._review_problems",
        lambda story, transition: ["KESTREL, which it cites, is burned"],
    )

    foretold = issue_approve_refusal(issue=issue, acting_user=people["editor"])

    assert foretold == (
        "A story's approval no longer holds: “Kremlin view”: KESTREL, which it cites, is burned."
    )
    assert foretold == approve_outcome(issue, people["editor"])


def test_issue_step_refusal_for_a_held_issue_is_the_schedule_refusal(people, monkeypatch):
    issue = IssueFactory(title="Weekly")
    story_in(APPROVED, people["author"], issue=issue, position=1, headline="Kremlin view")
    Issue.objects.filter(pk=issue.pk).update(status=APPROVED)
    monkeypatch.setattr(
        "issues.services._review_problems", lambda story, transition: ["a source is burned"]
    )

    foretold = issue_step_refusal(issue=issue, acting_user=people["editor"], name="schedule")

    message = refused(
        "unsourced",
        lambda: issue_schedule(issue=issue, publish_at=in_an_hour(), acting_user=people["editor"]),
    )
    assert foretold == message
