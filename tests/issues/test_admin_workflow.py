"""The editorial workflow through the admin, driven with the Django test client.

Every button allowed and refused per role; journalists kept to their own stories by URL and by
crafted POSTs; approval belonging to a revision; stale saves and steps refused with the other
person's change shown; scheduled issues read-only; the calendar and the index. Run on SQLite
and on PostgreSQL.
"""

import html
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import reversion
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from reversion.models import Version

from issues.models import Issue, IssueEvent, Story, StoryEvent
from issues.services import story_approve
from tests.factories import BlockFactory, IssueFactory, NewsletterFactory, StoryFactory, UserFactory
from tests.issues.test_admin import (
    block_key,
    changeform_data,
    form_index,
    issue_change_url,
    login,
    story_change_url,
)

pytestmark = pytest.mark.django_db

RIGA = ZoneInfo("Europe/Riga")
DRAFT, SUBMITTED, RETURNED, APPROVED = "draft", "submitted", "returned", "approved"


# Helpers ------------------------------------------------------------------------------------


def messages_after(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def workflow_url(obj):
    return reverse(f"admin:issues_{obj._meta.model_name}_workflow", args=[obj.pk])


def step(client, obj, action, **data):
    """Press a workflow button: post what its little form posts."""
    obj.refresh_from_db()
    return client.post(
        workflow_url(obj), {"action": action, "based_on_revision": obj.revision, **data}
    )


def story_in(status, *, authors=(), **kwargs):
    story = StoryFactory(authors=list(authors), **kwargs)
    Story.objects.filter(pk=story.pk).update(status=status)
    story.refresh_from_db()
    return story


def issue_in(status, *, publish_at=None, **kwargs):
    issue = IssueFactory(**kwargs)
    Issue.objects.filter(pk=issue.pk).update(status=status, publish_at=publish_at)
    issue.refresh_from_db()
    return issue


def versioned(story, *, user=None, comment="Imported"):
    """Give the story a version, as the importer and the admin do."""
    with reversion.create_revision():
        story.save()
        reversion.set_user(user)
        reversion.set_comment(comment)
    return Version.objects.get_for_object(story).first()


def buttons(page):
    return {
        action
        for action in ("submit", "approve", "return", "schedule", "unschedule")
        if f'name="action" value="{action}"' in page
    }


def save_change_page(client, url, **changes):
    data = changeform_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


@pytest.fixture
def colleague(newsroom_groups):
    return UserFactory(username="colleague", groups=["Journalists"])


@pytest.fixture
def second_editor(newsroom_groups):
    return UserFactory(username="elena", first_name="Elena", last_name="Editor", groups=["Editors"])


@pytest.fixture
def people(editor, journalist, keeper):
    return {"editor": editor, "author": journalist, "keeper": keeper}


def in_hours(hours):
    return timezone.now() + timedelta(hours=hours)


# Story buttons, per role and state --------------------------------------------------------------

STORY_BUTTONS = {
    ("editor", DRAFT): {"submit"},
    ("editor", SUBMITTED): {"approve", "return"},
    ("editor", RETURNED): {"submit"},
    ("editor", APPROVED): {"return"},
    ("author", DRAFT): {"submit"},
    ("author", SUBMITTED): set(),
    ("author", RETURNED): {"submit"},
    ("author", APPROVED): set(),
    ("keeper", DRAFT): set(),
    ("keeper", SUBMITTED): set(),
    ("keeper", RETURNED): set(),
    ("keeper", APPROVED): set(),
}


@pytest.mark.parametrize(("role", "state"), list(STORY_BUTTONS))
def test_story_page_shows_the_steps_the_person_may_take_now(client, people, role, state):
    story = story_in(state, authors=[people["author"]], issue=None, position=None)
    login(client, people[role])

    page = client.get(story_change_url(story)).content.decode()

    assert buttons(page) == STORY_BUTTONS[(role, state)]
    assert 'class="bell-status bell-status-' + state in page


STORY_STEPS = {
    "submit": ({DRAFT, RETURNED}, {"editor", "author"}, SUBMITTED),
    "approve": ({SUBMITTED}, {"editor"}, APPROVED),
    "return": ({SUBMITTED, APPROVED}, {"editor"}, RETURNED),
}


@pytest.mark.parametrize("action", list(STORY_STEPS))
@pytest.mark.parametrize("state", [DRAFT, SUBMITTED, RETURNED, APPROVED])
@pytest.mark.parametrize("role", ["editor", "author", "keeper"])
def test_story_step_through_the_admin_is_taken_or_refused_with_a_message(
    client, people, action, state, role
):
    story = story_in(state, authors=[people["author"]], issue=None, position=None)
    sources, roles, target = STORY_STEPS[action]
    login(client, people[role])

    response = step(client, story, action, comment="Name a second source.")

    assert response.status_code == 302
    assert response.url == story_change_url(story)
    story.refresh_from_db()
    (message,) = messages_after(response)
    if role in roles and state in sources:
        assert story.status == target
        assert story.headline in message
        assert StoryEvent.objects.get(story=story).actor == people[role]
    else:
        assert story.status == state
        assert not StoryEvent.objects.filter(story=story).exists()
        assert story.headline in message  # “You may not approve the story “…”” or its state


def test_story_return_without_a_comment_is_refused_with_a_message(client, editor, journalist):
    story = story_in(SUBMITTED, authors=[journalist])
    login(client, editor)

    response = step(client, story, "return", comment="   ")

    assert messages_after(response) == [
        "Say what the author should change: returning a story needs a comment."
    ]
    story.refresh_from_db()
    assert story.status == SUBMITTED


def test_returned_story_shows_the_comment_to_its_author_above_the_form(client, editor, journalist):
    story = story_in(SUBMITTED, authors=[journalist])
    login(client, editor)
    step(client, story, "return", comment="Who is the “source close to the Kremlin”?")
    login(client, journalist)

    page = client.get(story_change_url(story)).content.decode()

    returned = page[page.index('class="bell-returned"') : page.index('id="story_form"')]
    assert "Returned to the author by editor" in returned
    assert "Who is the “source close to the Kremlin”?" in returned
    # Returned: the author may change it again, and submit it.
    assert 'name="headline"' in page
    assert buttons(page) == {"submit"}


def test_story_page_lists_the_workflow_log_newest_first(client, editor, journalist):
    story = story_in(DRAFT, authors=[journalist], issue=None, position=None)
    login(client, journalist)
    step(client, story, "submit")
    login(client, editor)
    step(client, story, "return", comment="Shorter, please.")
    login(client, journalist)
    step(client, story, "submit")

    page = client.get(story_change_url(story)).content.decode()

    log = page[page.index("Workflow log") :]
    first = log.index("Submitted for review")
    assert log.index("Returned to the author") < log.rindex("Submitted for review")
    assert first < log.index("Returned to the author")
    assert "Shorter, please." in log
    assert "Draft → Submitted" in log and "Submitted → Returned" in log


# Journalists: their own stories only ------------------------------------------------------------


@pytest.fixture
def colleagues_story(colleague):
    story = story_in(SUBMITTED, authors=[colleague], headline="A colleague's scoop")
    versioned(story)
    return story


@pytest.mark.parametrize(
    "page", ["change", "history", "delete", "history_compare", "revision", "workflow"]
)
def test_journalist_gets_404_for_a_colleagues_story_by_url(
    client, journalist, colleagues_story, page
):
    version = Version.objects.get_for_object(colleagues_story).get()
    args = {"revision": [colleagues_story.pk, version.pk]}.get(page, [colleagues_story.pk])
    url = reverse(f"admin:issues_story_{page}", args=args)
    login(client, journalist)

    response = client.post(url, {"action": "approve"}) if page == "workflow" else client.get(url)

    assert response.status_code == 404
    assert "A colleague" not in response.content.decode()


def test_journalist_post_to_a_colleagues_story_changes_nothing(
    client, editor, journalist, colleagues_story
):
    data = changeform_data(login(client, editor).get(story_change_url(colleagues_story)))
    login(client, journalist)

    save = client.post(story_change_url(colleagues_story), {**data, "headline": "Hijacked"})
    approve = step(client, colleagues_story, "approve")

    assert (save.status_code, approve.status_code) == (404, 404)
    colleagues_story.refresh_from_db()
    assert (colleagues_story.headline, colleagues_story.status) == (
        "A colleague's scoop",
        SUBMITTED,
    )


@pytest.mark.parametrize("action", ["approve", "return"])
def test_journalist_crafting_a_review_step_on_their_own_story_is_refused(
    client, journalist, action
):
    story = story_in(SUBMITTED, authors=[journalist])
    login(client, journalist)

    response = step(client, story, action, comment="Looks fine to me.")

    story.refresh_from_db()
    assert story.status == SUBMITTED
    (message,) = messages_after(response)
    assert message.startswith("You may not ")


@pytest.mark.parametrize("action", ["approve", "schedule", "unschedule"])
def test_journalist_crafting_an_issue_step_is_refused(client, journalist, action):
    issue = issue_in(
        {"approve": DRAFT, "schedule": APPROVED, "unschedule": "scheduled"}[action],
        publish_at=in_hours(3) if action == "unschedule" else None,
    )
    story_in(APPROVED, authors=[journalist], issue=issue, position=1)
    login(client, journalist)
    before = issue.status

    response = step(
        client,
        issue,
        action,
        publish_at=(timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )

    issue.refresh_from_db()
    assert issue.status == before
    assert not IssueEvent.objects.exists()
    (message,) = messages_after(response)
    assert message.startswith("You may not ")


def test_journalist_cannot_save_an_issue(client, editor, journalist):
    issue = issue_in(DRAFT)
    data = changeform_data(login(client, editor).get(issue_change_url(issue)))
    login(client, journalist)

    assert client.post(issue_change_url(issue), {**data, "title": "Mine now"}).status_code == 403
    issue.refresh_from_db()
    assert issue.title != "Mine now"


def test_journalist_cannot_edit_their_story_once_submitted(client, editor, journalist):
    story = story_in(SUBMITTED, authors=[journalist])
    BlockFactory(story=story, position=1, text="The first paragraph.")
    data = changeform_data(login(client, editor).get(story_change_url(story)))
    login(client, journalist)

    page = client.get(story_change_url(story)).content.decode()
    response = client.post(story_change_url(story), {**data, "headline": "Changed in review"})

    assert 'name="headline"' not in page
    assert 'name="blocks-0-text"' not in page
    assert "The story is submitted: an editor has it now." in page
    assert response.status_code == 302
    story.refresh_from_db()
    assert story.headline != "Changed in review"
    # What they typed is not lost: the page shows it once, to copy.
    page = client.get(response.url).content.decode()
    assert "Your text that was not saved, to copy" in page
    assert "Changed in review" in page


def test_journalist_starts_a_story_as_its_author_and_submits_it(client, journalist):
    login(client, journalist)
    url = reverse("admin:issues_story_add")
    data = changeform_data(client.get(url))
    data.update({"headline": "My scoop", "blocks-0-text": "It begins."})
    assert client.post(url, data).status_code == 302
    story = Story.objects.get(headline="My scoop")

    step(client, story, "submit")

    story.refresh_from_db()
    assert list(story.authors.all()) == [journalist]
    assert story.status == SUBMITTED


def test_recovering_deleted_stories_is_for_editors_only(client, editor, journalist, colleague):
    story = story_in(DRAFT, authors=[colleague], headline="Deleted secret plan")
    versioned(story)
    login(client, editor)
    client.post(reverse("admin:issues_story_delete", args=[story.pk]), {"post": "yes"})
    deleted = Version.objects.get_deleted(Story).get()
    recoverlist = reverse("admin:issues_story_recoverlist")

    assert "Deleted secret plan" in client.get(recoverlist).content.decode()
    assert (
        "Recover deleted" in client.get(reverse("admin:issues_story_changelist")).content.decode()
    )
    login(client, journalist)
    assert client.get(recoverlist).status_code == 403
    assert client.get(reverse("admin:issues_story_recover", args=[deleted.pk])).status_code == 403
    listing = client.get(reverse("admin:issues_story_changelist")).content.decode()
    assert "Recover deleted" not in listing


# Approval belongs to a revision ---------------------------------------------------------------


@pytest.fixture
def approved_issue(journalist):
    issue = issue_in(APPROVED, title="The Kremlin view")
    for position, headline in enumerate(["First story", "Second story"], 1):
        story = story_in(
            APPROVED, authors=[journalist], issue=issue, position=position, headline=headline
        )
        BlockFactory(story=story, position=1, text=f"{headline}: alpha.")
        BlockFactory(story=story, position=2, text=f"{headline}: bravo.")
    return issue


@pytest.mark.parametrize("change", ["headline", "block text", "block order", "new block"])
def test_editing_an_approved_story_reopens_it_and_its_issue(client, editor, approved_issue, change):
    story = approved_issue.stories.get(headline="First story")
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    if change == "headline":
        data["headline"] = "First story, corrected"
    elif change == "block text":
        data[block_key(data, story, "First story: alpha.", "text")] = "Alpha, corrected."
    elif change == "block order":
        data[block_key(data, story, "First story: alpha.", "position")] = "2"
        data[block_key(data, story, "First story: bravo.", "position")] = "1"
    else:
        data["blocks-2-text"] = "A new closing line."

    response = client.post(url, data)

    assert response.status_code == 302
    story.refresh_from_db()
    approved_issue.refresh_from_db()
    assert (story.status, approved_issue.status) == (SUBMITTED, DRAFT)
    assert story.events.get().action == "reopen"
    assert approved_issue.events.get().action == "reopen"
    told = " ".join(messages_after(response))
    assert "needs to be approved again" in told
    assert f"The issue “{approved_issue}” changed and is back in draft" in told


def test_saving_an_approved_story_unchanged_keeps_it_approved(client, editor, approved_issue):
    story = approved_issue.stories.get(headline="First story")
    login(client, editor)

    assert save_change_page(client, story_change_url(story)).status_code == 302

    story.refresh_from_db()
    approved_issue.refresh_from_db()
    assert (story.status, story.revision, approved_issue.status) == (APPROVED, 1, APPROVED)


def test_moving_an_approved_story_keeps_its_approval_and_reopens_both_issues(
    client, editor, approved_issue
):
    other = issue_in(APPROVED, newsletter=approved_issue.newsletter, title="Next week")
    story_in(APPROVED, issue=other, position=1)
    story = approved_issue.stories.get(headline="Second story")
    login(client, editor)

    response = save_change_page(client, story_change_url(story), issue=str(other.pk))

    assert response.status_code == 302
    story.refresh_from_db()
    approved_issue.refresh_from_db()
    other.refresh_from_db()
    assert story.status == APPROVED
    assert (approved_issue.status, other.status) == (DRAFT, DRAFT)
    assert (approved_issue.revision, other.revision) == (2, 2)


def test_a_story_cannot_be_moved_into_a_scheduled_issue(client, editor, journalist):
    scheduled = issue_in("scheduled", publish_at=in_hours(5), title="Going out")
    story = story_in(APPROVED, authors=[journalist], issue=None, position=None)
    login(client, editor)

    response = save_change_page(client, story_change_url(story), issue=str(scheduled.pk))

    assert response.status_code == 200
    assert "The issue “#" in response.content.decode()
    assert "is scheduled: unschedule it first." in response.content.decode()
    story.refresh_from_db()
    assert story.issue is None


def test_revert_of_an_approved_story_needs_approval_again(client, editor, journalist):
    story = story_in(SUBMITTED, authors=[journalist], issue=None, position=None)
    BlockFactory(story=story, position=1, text="The talks went well.")
    login(client, editor)
    old = versioned(story, user=editor)
    save_change_page(
        client,
        story_change_url(story),
        **{"blocks-0-text": "The talks went badly.", "headline": "Talks: badly"},
    )
    story_approve(story=story, acting_user=editor)
    revert_url = reverse("admin:issues_story_revision", args=[story.pk, old.pk])

    preview = client.get(revert_url)
    response = client.post(revert_url, changeform_data(preview))

    assert response.status_code == 302
    story.refresh_from_db()
    assert story.blocks.get().text == "The talks went well."
    assert story.status == SUBMITTED
    assert story.revision == 3
    assert story.events.first().action == "reopen"


def test_revert_never_approves_a_story(client, editor, journalist):
    story = story_in(APPROVED, authors=[journalist], issue=None, position=None)
    login(client, editor)
    approved_version = versioned(story, user=editor)  # status "approved" in this version
    story_in_review = save_change_page(client, story_change_url(story), headline="Rewritten")
    assert story_in_review.status_code == 302
    story.refresh_from_db()
    assert story.status == SUBMITTED
    revert_url = reverse("admin:issues_story_revision", args=[story.pk, approved_version.pk])

    client.post(revert_url, changeform_data(client.get(revert_url)))

    story.refresh_from_db()
    assert (story.headline, story.status) == (approved_version.field_dict["headline"], SUBMITTED)


def test_journalist_cannot_revert_their_story_while_it_is_in_review(client, journalist):
    story = story_in(DRAFT, authors=[journalist], issue=None, position=None)
    old = versioned(story)
    Story.objects.filter(pk=story.pk).update(status=APPROVED, headline="Approved text")
    login(client, journalist)
    revert_url = reverse("admin:issues_story_revision", args=[story.pk, old.pk])

    response = client.post(revert_url, {"headline": story.headline, "based_on_revision": 1})

    assert response.status_code == 302
    story.refresh_from_db()
    assert (story.headline, story.status) == ("Approved text", APPROVED)
    assert "The story is approved" in messages_after(response)[0]


# Scheduled issues are read-only -----------------------------------------------------------------


@pytest.fixture
def scheduled_issue(journalist):
    issue = issue_in("scheduled", publish_at=in_hours(3), title="Going out")
    story = story_in(APPROVED, authors=[journalist], issue=issue, position=1, headline="Lead")
    BlockFactory(story=story, position=1, text="The lead paragraph.")
    return issue


def test_story_in_a_scheduled_issue_is_read_only_with_the_reason(client, editor, scheduled_issue):
    story = scheduled_issue.stories.get()
    login(client, editor)

    page = client.get(story_change_url(story)).content.decode()

    assert f"The issue “{scheduled_issue}” is scheduled: unschedule it first." in page
    assert 'name="headline"' not in page
    assert 'name="_save"' not in page
    assert buttons(page) == set()


def test_saving_a_story_of_a_scheduled_issue_is_refused_and_keeps_the_text(
    client, editor, scheduled_issue
):
    story = scheduled_issue.stories.get()
    Issue.objects.filter(pk=scheduled_issue.pk).update(status=APPROVED, publish_at=None)
    data = changeform_data(login(client, editor).get(story_change_url(story)))
    Issue.objects.filter(pk=scheduled_issue.pk).update(status="scheduled", publish_at=in_hours(3))

    response = client.post(story_change_url(story), {**data, "headline": "Last-minute change"})

    assert response.status_code == 302
    assert "is scheduled: unschedule it first." in messages_after(response)[0]
    story.refresh_from_db()
    assert story.headline == "Lead"
    assert "Last-minute change" in client.get(response.url).content.decode()


def test_scheduled_issue_page_is_read_only_stories_included(client, editor, scheduled_issue):
    login(client, editor)

    page = client.get(issue_change_url(scheduled_issue)).content.decode()

    assert f"The issue “{scheduled_issue}” is scheduled: unschedule it first." in page
    assert "Scheduled for " in page
    assert 'name="title"' not in page
    assert 'name="stories-0-position"' not in page
    assert "Lead" in page
    assert buttons(page) == {"schedule", "unschedule"}


def test_scheduled_issue_cannot_lose_a_story_by_deletion(client, editor, scheduled_issue):
    story = scheduled_issue.stories.get()
    login(client, editor)

    response = client.post(reverse("admin:issues_story_delete", args=[story.pk]), {"post": "yes"})

    assert response.status_code == 403
    assert Story.objects.filter(pk=story.pk).exists()


# Issue buttons --------------------------------------------------------------------------------

ISSUE_BUTTONS = {
    ("editor", DRAFT): {"approve"},
    ("editor", APPROVED): {"schedule"},
    ("editor", "scheduled"): {"schedule", "unschedule"},
    ("editor", "sent"): set(),
    ("author", DRAFT): set(),
    ("author", APPROVED): set(),
    ("keeper", "scheduled"): set(),
}


@pytest.mark.parametrize(("role", "state"), list(ISSUE_BUTTONS))
def test_issue_page_shows_the_steps_the_person_may_take_now(client, people, role, state):
    issue = issue_in(state, publish_at=in_hours(2) if state == "scheduled" else None)
    login(client, people[role])

    page = client.get(issue_change_url(issue)).content.decode()

    assert buttons(page) == ISSUE_BUTTONS[(role, state)]


ISSUE_STEPS = {
    "approve": ({DRAFT}, APPROVED),
    "schedule": ({APPROVED, "scheduled"}, "scheduled"),
    "unschedule": ({"scheduled"}, APPROVED),
}


@pytest.mark.parametrize("action", list(ISSUE_STEPS))
@pytest.mark.parametrize("state", [DRAFT, APPROVED, "scheduled", "sent"])
@pytest.mark.parametrize("role", ["editor", "author", "keeper"])
def test_issue_step_through_the_admin_is_taken_or_refused_with_a_message(
    client, people, action, state, role
):
    issue = issue_in(state, publish_at=in_hours(2) if state == "scheduled" else None)
    story_in(APPROVED, authors=[people["author"]], issue=issue, position=1)
    sources, target = ISSUE_STEPS[action]
    login(client, people[role])

    response = step(client, issue, action, publish_at="2099-01-27T07:00")

    assert response.status_code == 302
    issue.refresh_from_db()
    (message,) = messages_after(response)
    if role == "editor" and state in sources:
        assert issue.status == target
        assert issue.events.get().actor == people["editor"]
    else:
        assert issue.status == state
        assert not issue.events.exists()
        assert str(issue) in message


def test_issue_approve_is_refused_with_the_stories_not_yet_approved(client, editor):
    issue = issue_in(DRAFT)
    story_in(APPROVED, issue=issue, position=1, headline="Ready")
    story_in(SUBMITTED, issue=issue, position=2, headline="Still in review")
    login(client, editor)

    page = client.get(issue_change_url(issue)).content.decode()
    response = step(client, issue, "approve")

    assert "Not approved yet:" in page and "Still in review" in page
    assert messages_after(response) == [
        "Every story must be approved first; not yet: “Still in review”."
    ]
    issue.refresh_from_db()
    assert issue.status == DRAFT


def test_issue_approve_then_schedule_in_the_newsrooms_zone(client, editor, approved_issue):
    Issue.objects.filter(pk=approved_issue.pk).update(status=DRAFT)
    login(client, editor)
    tomorrow = timezone.localdate() + timedelta(days=1)

    approve = step(client, approved_issue, "approve")
    page = client.get(issue_change_url(approved_issue)).content.decode()
    schedule = step(client, approved_issue, "schedule", publish_at=f"{tomorrow:%Y-%m-%d}T07:00")

    approved_issue.refresh_from_db()
    assert approved_issue.status == "scheduled"
    assert approved_issue.publish_at == datetime(
        tomorrow.year, tomorrow.month, tomorrow.day, 7, 0, tzinfo=RIGA
    )
    assert "is approved" in messages_after(approve)[0]
    assert "Europe/Riga, UTC+0" in page
    (message,) = messages_after(schedule)
    assert f"is scheduled for {tomorrow:%a} {tomorrow.day} {tomorrow:%b} 07:00 (in " in message
    page = client.get(issue_change_url(approved_issue)).content.decode()
    assert f"Scheduled for {tomorrow:%a} {tomorrow.day} {tomorrow:%b} 07:00" in page
    listing = client.get(reverse("admin:issues_issue_changelist")).content.decode()
    assert f"Scheduled for {tomorrow:%a} {tomorrow.day} {tomorrow:%b} 07:00" in listing


@pytest.mark.parametrize(
    ("publish_at", "message"),
    [
        ("2020-01-27T07:00", "has already passed: choose a time in the future."),
        ("", "Give the date and time the issue should go out."),
        ("next tuesday", "Give the date and time as on a calendar"),
    ],
)
def test_issue_schedule_refuses_a_bad_time_with_a_message(
    client, editor, approved_issue, publish_at, message
):
    login(client, editor)

    response = step(client, approved_issue, "schedule", publish_at=publish_at)

    assert message in messages_after(response)[0]
    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.publish_at) == (APPROVED, None)


def test_issue_without_stories_cannot_be_scheduled(client, editor):
    issue = issue_in(APPROVED, title="Empty")
    login(client, editor)

    response = step(client, issue, "schedule", publish_at="2099-01-27T07:00")

    assert messages_after(response) == [f"The issue “{issue}” has no stories yet."]
    issue.refresh_from_db()
    assert issue.status == APPROVED


def test_issue_unschedule_makes_it_editable_again(client, editor, scheduled_issue):
    login(client, editor)

    response = step(client, scheduled_issue, "unschedule")

    scheduled_issue.refresh_from_db()
    assert (scheduled_issue.status, scheduled_issue.publish_at) == (APPROVED, None)
    assert "no longer scheduled" in messages_after(response)[0]
    assert 'name="title"' in client.get(issue_change_url(scheduled_issue)).content.decode()


def test_editing_an_approved_issue_sends_it_back_to_draft(client, editor, approved_issue):
    login(client, editor)

    response = save_change_page(client, issue_change_url(approved_issue), intro="Hello again!")

    assert response.status_code == 302
    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.revision) == (DRAFT, 2)
    assert approved_issue.events.get().action == "reopen"


def test_reordering_an_approved_issue_sends_it_back_to_draft(client, editor, approved_issue):
    login(client, editor)
    url = issue_change_url(approved_issue)
    data = changeform_data(client.get(url))
    first, second = approved_issue.stories.order_by("position")
    data[f"stories-{form_index(data, 'stories', first.pk)}-position"] = "2"
    data[f"stories-{form_index(data, 'stories', second.pk)}-position"] = "1"

    assert client.post(url, data).status_code == 302

    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.revision) == (DRAFT, 2)
    # The stories' own approval stands: their text did not change.
    assert set(approved_issue.stories.values_list("status", flat=True)) == {APPROVED}


def test_saving_an_issue_unchanged_keeps_it_approved(client, editor, approved_issue):
    login(client, editor)

    assert save_change_page(client, issue_change_url(approved_issue)).status_code == 302

    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.revision) == (APPROVED, 1)


# No lost updates ------------------------------------------------------------------------------


def test_stale_story_approve_is_refused_with_the_other_change_shown(
    client, editor, second_editor, journalist
):
    story = story_in(SUBMITTED, authors=[journalist], headline="Talks", issue=None, position=None)
    BlockFactory(story=story, position=1, text="The talks went well.")
    versioned(story, user=journalist)
    login(client, editor)
    read = client.get(story_change_url(story))
    assert read.context["workflow"]["revision"] == 1
    # Meanwhile Elena changes a word.
    login(client, second_editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data["blocks-0-text"] = "The talks went badly."
    assert client.post(url, data).status_code == 302
    login(client, editor)

    response = client.post(workflow_url(story), {"action": "approve", "based_on_revision": "1"})

    story.refresh_from_db()
    assert story.status == SUBMITTED
    assert response.url == f"{story_change_url(story)}?since=1"
    assert "changed (revision 2) after you read revision 1" in messages_after(response)[-1]
    page = client.get(response.url).content.decode()
    conflict = page[page.index('class="bell-conflict') : page.index('id="story_form"')]
    assert "What changed since you opened revision 1 (now revision 2)" in conflict
    assert "Saved since by Elena Editor" in conflict
    assert "<del>well</del>" in conflict and "<ins>badly</ins>" in conflict


def test_stale_story_save_is_refused_showing_theirs_and_keeping_mine(client, editor, second_editor):
    story = StoryFactory(headline="Talks", issue=None, position=None)
    BlockFactory(story=story, position=1, text="The talks went well.")
    versioned(story)
    url = story_change_url(story)
    login(client, editor)
    mine = changeform_data(client.get(url))
    login(client, second_editor)
    theirs = changeform_data(client.get(url))
    theirs["blocks-0-text"] = "The talks went badly."
    assert client.post(url, theirs).status_code == 302
    login(client, editor)

    mine["takeaway"] = "My own takeaway, typed for ten minutes."
    response = client.post(url, mine)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else saved this story (now revision 2) after you opened revision 1." in page
    assert "<del>well</del>" in page and "<ins>badly</ins>" in page
    # Mine is still in the form, to copy; theirs is saved.
    assert "My own takeaway, typed for ten minutes." in page
    assert story.blocks.get().text == "The talks went badly."
    story.refresh_from_db()
    assert story.takeaway != "My own takeaway, typed for ten minutes."


def test_stale_issue_save_is_refused_with_the_other_change_shown(client, editor, second_editor):
    issue = issue_in(DRAFT, title="The Kremlin view", intro="Hello! This week: talks.")
    story_in(DRAFT, issue=issue, position=1, headline="First story")
    url = issue_change_url(issue)
    login(client, editor)
    save_change_page(client, url)  # a first version, as the importer leaves
    mine = changeform_data(client.get(url))
    login(client, second_editor)
    their_title = "The Kremlin\N{RIGHT SINGLE QUOTATION MARK}s view"
    assert save_change_page(client, url, title=their_title).status_code == 302
    login(client, editor)

    response = client.post(url, {**mine, "intro": "Hello! My intro."})

    assert response.status_code == 200
    page = response.content.decode()
    assert "Someone else changed this issue (now revision 2) after you opened revision 1." in page
    assert "<ins>\N{RIGHT SINGLE QUOTATION MARK}s</ins>" in page
    assert "Hello! My intro." in page
    issue.refresh_from_db()
    assert (issue.title, issue.intro) == (their_title, "Hello! This week: talks.")


def test_stale_issue_reorder_is_refused(client, editor, second_editor, approved_issue):
    url = issue_change_url(approved_issue)
    login(client, editor)
    mine = changeform_data(client.get(url))
    login(client, second_editor)
    assert save_change_page(client, url, intro="Hello, changed.").status_code == 302
    login(client, editor)
    first = approved_issue.stories.get(headline="First story")
    mine[f"stories-{form_index(mine, 'stories', first.pk)}-position"] = "2"

    response = client.post(url, mine)

    assert response.status_code == 200
    assert list(approved_issue.stories.order_by("position").values_list("headline", flat=True)) == [
        "First story",
        "Second story",
    ]


@pytest.mark.parametrize("action", ["approve", "schedule", "unschedule"])
def test_stale_issue_step_is_refused_with_the_change_shown(
    client, editor, second_editor, approved_issue, action
):
    status = {"approve": DRAFT, "schedule": APPROVED, "unschedule": "scheduled"}[action]
    login(client, editor)
    save_change_page(client, issue_change_url(approved_issue))  # a first version
    Issue.objects.filter(pk=approved_issue.pk).update(
        status=status, publish_at=in_hours(2) if status == "scheduled" else None
    )
    approved_issue.refresh_from_db()
    seen = approved_issue.revision
    # Meanwhile Elena changes what the issue says (or, when scheduled, when it goes out).
    login(client, second_editor)
    if status == "scheduled":
        step(client, approved_issue, "schedule", publish_at="2099-03-01T07:00")
    else:
        save_change_page(client, issue_change_url(approved_issue), title="A better title")
        Issue.objects.filter(pk=approved_issue.pk).update(status=status)
    approved_issue.refresh_from_db()
    before = (approved_issue.status, approved_issue.publish_at)
    login(client, editor)

    response = client.post(
        workflow_url(approved_issue),
        {"action": action, "based_on_revision": seen, "publish_at": "2099-02-01T07:00"},
    )

    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.publish_at) == before
    assert f"after you read revision {seen}" in messages_after(response)[-1]
    page = client.get(response.url).content.decode()
    assert f"What changed since you opened revision {seen}" in page
    if status != "scheduled":
        assert "<ins>A better title</ins>" in page


def test_stale_revert_is_refused_with_the_other_change_shown(client, editor, second_editor):
    story = StoryFactory(headline="Talks", issue=None, position=None)
    BlockFactory(story=story, position=1, text="The talks went well.")
    old = versioned(story)
    url = story_change_url(story)
    login(client, editor)
    assert save_change_page(client, url, headline="Talks, first rewrite").status_code == 302
    revert_url = reverse("admin:issues_story_revision", args=[story.pk, old.pk])
    preview = changeform_data(client.get(revert_url))
    assert preview["based_on_revision"] == "2"
    login(client, second_editor)
    assert save_change_page(client, url, headline="Talks, second rewrite").status_code == 302
    login(client, editor)

    response = client.post(revert_url, preview)

    assert response.status_code == 302
    assert response.url == f"{url}?since=2"
    assert "Nothing was reverted" in messages_after(response)[-1]
    story.refresh_from_db()
    assert (story.headline, story.revision) == ("Talks, second rewrite", 3)
    page = client.get(response.url).content.decode()
    assert "<ins>second</ins>" in page


# Calendar and index ---------------------------------------------------------------------------


def test_calendar_lists_scheduled_and_sent_issues_by_local_day(client, editor, keeper):
    weekly = NewsletterFactory()
    evening = NewsletterFactory(name="Evening", slug="evening", kicker="EVENING")
    # 23:30 UTC on 30 Nov is 01:30 on 1 Dec in Riga.
    issue_in(
        "scheduled",
        publish_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
        title="Late one",
        newsletter=weekly,
    )
    sent = issue_in(DRAFT, title="Went out", newsletter=evening)
    Issue.objects.filter(pk=sent.pk).update(
        status="sent", published_at=datetime(2026, 12, 3, 5, 0, tzinfo=UTC)
    )
    issue_in(APPROVED, title="Waiting for a date", newsletter=weekly)
    url = reverse("admin:issues_issue_calendar")

    for user in (editor, keeper):
        login(client, user)
        page = client.get(url, {"month": "2026-12"}).content.decode()
        assert "December 2026" in page
        assert page.index("Late one") < page.index("Went out")
        assert ">01:30<" in page and ">07:00<" in page
        assert "1 approved issue has no date yet" in page
        assert "Waiting for a date" not in page
    filtered = client.get(url, {"month": "2026-12", "newsletter": evening.pk}).content.decode()
    assert "Went out" in filtered and "Late one" not in filtered
    november = client.get(url, {"month": "2026-11"}).content.decode()
    assert "Nothing is scheduled or sent in November 2026." in november
    assert "?month=2026-12" in november and "?month=2026-10" in november


@pytest.mark.parametrize("month", ["9999-12", "0-1", "2026-13", "x", "2026-02-30"])
def test_calendar_survives_any_month(client, editor, month):
    login(client, editor)

    assert client.get(reverse("admin:issues_issue_calendar"), {"month": month}).status_code == 200


def test_calendar_needs_permission_to_see_issues(client, newsroom_groups):
    login(client, UserFactory(username="stranger"))

    assert client.get(reverse("admin:issues_issue_calendar")).status_code == 403


def test_calendar_is_linked_from_the_index_and_the_issue_list(client, editor):
    login(client, editor)
    url = reverse("admin:issues_issue_calendar")

    assert f'href="{url}"' in client.get(reverse("admin:index")).content.decode()
    listing = client.get(reverse("admin:issues_issue_changelist")).content.decode()
    assert f'href="{url}"' in listing


def test_index_tells_an_editor_what_waits_for_review(client, editor, journalist):
    for _ in range(2):
        story_in(SUBMITTED, authors=[journalist])
    story_in(DRAFT, authors=[journalist])
    login(client, editor)

    page = client.get(reverse("admin:index")).content.decode()

    list_url = reverse("admin:issues_story_changelist") + "?status__exact=submitted"
    assert f'<a href="{list_url}">Waiting for review: 2 stories</a>' in page
    assert len(client.get(list_url).context["cl"].result_list) == 2


def test_index_tells_a_journalist_what_was_returned_to_them(client, journalist, colleague):
    story_in(RETURNED, authors=[journalist])
    story_in(RETURNED, authors=[colleague])
    login(client, journalist)

    page = client.get(reverse("admin:index")).content.decode()

    list_url = reverse("admin:issues_story_changelist") + "?status__exact=returned"
    assert f'<a href="{list_url}">Returned to you: 1</a>' in page
    assert "Waiting for review" not in page
    assert len(client.get(list_url).context["cl"].result_list) == 1


# Presence -------------------------------------------------------------------------------------


def presence_url(obj):
    return reverse(f"admin:issues_{obj._meta.model_name}_presence", args=[obj.pk])


@pytest.fixture
def _empty_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("_empty_cache")
@pytest.mark.parametrize("kind", ["story", "issue"])
def test_change_page_says_who_else_has_it_open(client, editor, second_editor, kind):
    obj = StoryFactory() if kind == "story" else IssueFactory()
    url = reverse(f"admin:issues_{kind}_change", args=[obj.pk])
    login(client, editor)
    assert "Also open by" not in client.get(url).content.decode()
    login(client, second_editor)

    page = client.get(url).content.decode()

    assert "Also open by editor" in page
    login(client, editor)
    assert client.post(presence_url(obj)).json() == {
        "others": ["Elena Editor"],
        "sentence": "Also open by Elena Editor",
    }
    login(client, second_editor)
    assert client.post(presence_url(obj), {"leave": "1"}).json()["others"] == ["editor"]
    login(client, editor)
    assert client.post(presence_url(obj)).json()["others"] == []


@pytest.mark.usefixtures("_empty_cache")
def test_presence_forgets_a_page_not_reported_for_a_while(
    client, editor, second_editor, monkeypatch
):
    from issues.admin import presence

    story = StoryFactory()
    login(client, second_editor)
    client.post(presence_url(story))
    later = presence._now() + presence.SEEN_FOR_SECONDS + 1
    monkeypatch.setattr(presence, "_now", lambda: later)
    login(client, editor)

    assert client.post(presence_url(story)).json()["others"] == []


def test_presence_of_a_colleagues_story_is_not_found(client, journalist, colleagues_story):
    login(client, journalist)

    assert client.post(presence_url(colleagues_story)).status_code == 404
    assert client.get(presence_url(colleagues_story)).status_code == 405


# Reverting and deleting issues' contents --------------------------------------------------------


def test_issue_revert_keeps_status_and_schedule_and_needs_approval_again(
    client, editor, approved_issue
):
    login(client, editor)
    url = issue_change_url(approved_issue)
    save_change_page(client, url)  # the version to come back to
    old = Version.objects.get_for_object(approved_issue).first()
    save_change_page(client, url, title="A new title")
    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.revision) == (DRAFT, 2)
    step(client, approved_issue, "approve")
    revert_url = reverse("admin:issues_issue_revision", args=[approved_issue.pk, old.pk])

    preview = changeform_data(client.get(revert_url))
    assert preview["based_on_revision"] == "2"
    response = client.post(revert_url, preview)

    assert response.status_code == 302
    approved_issue.refresh_from_db()
    # The old title, but not the old approval: the revert is an edit.
    assert approved_issue.title == "The Kremlin view"
    assert (approved_issue.status, approved_issue.revision) == (DRAFT, 3)
    assert approved_issue.events.first().action == "reopen"


def test_issue_revert_of_a_scheduled_issue_is_refused(client, editor, scheduled_issue):
    login(client, editor)
    with reversion.create_revision():
        scheduled_issue.save()
    old = Version.objects.get_for_object(scheduled_issue).get()
    revert_url = reverse("admin:issues_issue_revision", args=[scheduled_issue.pk, old.pk])

    response = client.get(revert_url)

    assert response.status_code == 302
    assert "is scheduled: unschedule it first." in messages_after(response)[-1]
    scheduled_issue.refresh_from_db()
    assert scheduled_issue.status == "scheduled"


def test_stale_issue_revert_is_refused(client, editor, second_editor, approved_issue):
    login(client, editor)
    url = issue_change_url(approved_issue)
    save_change_page(client, url)
    old = Version.objects.get_for_object(approved_issue).first()
    revert_url = reverse("admin:issues_issue_revision", args=[approved_issue.pk, old.pk])
    preview = changeform_data(client.get(revert_url))
    login(client, second_editor)
    save_change_page(client, url, title="Elena's title")
    login(client, editor)

    response = client.post(revert_url, {**preview, "title": "Mine"})

    assert response.url == f"{url}?since=1"
    assert "Nothing was reverted" in messages_after(response)[-1]
    approved_issue.refresh_from_db()
    assert approved_issue.title == "Elena's title"


def test_deleting_a_story_reopens_its_approved_issue(client, editor, approved_issue):
    story = approved_issue.stories.get(headline="Second story")
    login(client, editor)

    response = client.post(reverse("admin:issues_story_delete", args=[story.pk]), {"post": "yes"})

    assert response.status_code == 302
    approved_issue.refresh_from_db()
    assert (approved_issue.status, approved_issue.revision) == (DRAFT, 2)


def test_deleting_selected_stories_refuses_those_of_a_scheduled_issue(
    client, editor, scheduled_issue
):
    kept = scheduled_issue.stories.get()
    loose = story_in(DRAFT, issue=None, position=None, headline="Loose draft")
    login(client, editor)
    url = reverse("admin:issues_story_changelist")
    selected = {"action": "delete_selected", "_selected_action": [kept.pk, loose.pk]}

    confirmation = client.post(url, selected).content.decode()
    response = client.post(url, {**selected, "post": "yes"})

    assert "Cannot delete stories" in confirmation
    assert response.status_code == 403
    assert Story.objects.filter(pk__in=[kept.pk, loose.pk]).count() == 2


def test_recovering_a_story_into_a_scheduled_issue_is_refused(client, editor, journalist):
    issue = issue_in(DRAFT, title="Will be scheduled")
    story = story_in(APPROVED, authors=[journalist], issue=issue, position=1, headline="Gone")
    versioned(story)
    login(client, editor)
    client.post(reverse("admin:issues_story_delete", args=[story.pk]), {"post": "yes"})
    Issue.objects.filter(pk=issue.pk).update(status="scheduled", publish_at=in_hours(3))
    deleted = Version.objects.get_deleted(Story).get()

    response = client.post(reverse("admin:issues_story_recover", args=[deleted.pk]), {})

    assert response.status_code == 302
    assert "is scheduled: unschedule it first." in messages_after(response)[-1]
    assert not Story.objects.filter(headline="Gone").exists()


def test_recovered_approved_story_comes_back_in_review(client, editor, journalist):
    story = story_in(APPROVED, authors=[journalist], issue=None, position=None, headline="Back")
    versioned(story)
    login(client, editor)
    client.post(reverse("admin:issues_story_delete", args=[story.pk]), {"post": "yes"})
    deleted = Version.objects.get_deleted(Story).get()
    recover_url = reverse("admin:issues_story_recover", args=[deleted.pk])

    response = client.post(recover_url, changeform_data(client.get(recover_url)))

    assert response.status_code == 302
    assert Story.objects.get(headline="Back").status == SUBMITTED


def test_refused_schedule_keeps_the_time_that_was_typed(client, editor):
    issue = issue_in(APPROVED, title="Empty")
    login(client, editor)

    response = step(client, issue, "schedule", publish_at="2099-01-27T07:00")
    page = client.get(response.url).content.decode()

    assert response.url == f"{issue_change_url(issue)}?publish_at=2099-01-27T07%3A00"
    assert 'value="2099-01-27T07:00"' in page


# A step that would be refused is shown disabled, with the reason beside it ------------------


def approve_button(page):
    """The issue page's approve button as rendered, or None."""
    match = re.search(r"<button[^>]*>Approve the issue</button>", page)
    return match.group(0) if match else None


def refusal_shown(page, step_name):
    match = re.search(rf'<span id="bell-refusal-{step_name}"[^>]*>(?P<reason>[^<]*)</span>', page)
    return html.unescape(match.group("reason")) if match else None


def test_issue_approve_button_is_disabled_with_the_reason_when_refused(client, editor):
    issue = issue_in(DRAFT)
    story_in(APPROVED, issue=issue, position=1, headline="Ready")
    story_in(SUBMITTED, issue=issue, position=2, headline="Still in review")
    login(client, editor)

    page = client.get(issue_change_url(issue)).content.decode()
    button = approve_button(page)
    reason = refusal_shown(page, "approve")
    pressed_anyway = messages_after(step(client, issue, "approve"))

    assert " disabled" in button and 'aria-disabled="true"' in button
    assert 'aria-describedby="bell-refusal-approve"' in button
    # In words on the page, not only in a tooltip, and the very words the service refuses with.
    assert reason == "Every story must be approved first; not yet: “Still in review”."
    assert pressed_anyway == [reason]


def test_issue_approve_button_is_enabled_when_approving_would_go_through(client, editor):
    issue = issue_in(DRAFT)
    story_in(APPROVED, issue=issue, position=1, headline="Ready")
    login(client, editor)

    page = client.get(issue_change_url(issue)).content.decode()

    assert "disabled" not in approve_button(page)
    assert refusal_shown(page, "approve") is None
    step(client, issue, "approve")
    issue.refresh_from_db()
    assert issue.status == APPROVED


def test_issue_approve_button_of_an_empty_issue_says_it_has_no_stories(client, editor):
    issue = issue_in(DRAFT, title="Nothing yet")
    login(client, editor)

    page = client.get(issue_change_url(issue)).content.decode()

    assert "disabled" in approve_button(page)
    assert refusal_shown(page, "approve") == f"The issue “{issue}” has no stories yet."


def test_issue_held_for_a_source_in_doubt_shows_schedule_disabled_with_why(
    client, editor, monkeypatch
):
    issue = issue_in(APPROVED)
    story_in(APPROVED, issue=issue, position=1, headline="Kremlin view")
    monkeypatch.setattr(
        "issues.services._review_problems",
        lambda story, transition: ["KESTREL, which it cites, is burned"],
    )
    login(client, editor)

    page = client.get(issue_change_url(issue)).content.decode()
    schedule = re.search(r'<button[^>]*aria-describedby="bell-refusal-schedule"[^>]*>', page)

    assert schedule is not None and " disabled" in schedule.group(0)
    assert refusal_shown(page, "schedule") == (
        "A story's approval no longer holds: “Kremlin view”: KESTREL, which it cites, is burned."
    )
