"""The story editor's server side: drafts kept, refused, restored and dropped; the table view.

The editor itself is tested in Chromium (tests/e2e/test_editor_browser.py); these drive the
draft address and the change page with the test client, on SQLite and on PostgreSQL.
"""

import json

import pytest
import reversion
from django.urls import reverse
from reversion.models import Version

from issues.drafts import DRAFT_MAX_BLOCKS
from issues.models import Story, StoryDraft
from tests.factories import BlockFactory, StoryFactory, UserFactory
from tests.issues.test_admin import changeform_data, login, story_change_url

pytestmark = pytest.mark.django_db


def draft_url(story=None):
    if story is None:
        return reverse("admin:issues_story_draft_new")
    return reverse("admin:issues_story_draft", args=[story.pk])


def send_draft(client, story, content, base_revision=1):
    return client.post(
        draft_url(story),
        json.dumps({"baseRevision": base_revision, "content": content}),
        content_type="application/json",
    )


def content(headline="Talks in Riyadh", blocks=(("paragraph", "They meet on Tuesday."),)):
    return {
        "headline": headline,
        "takeaway": "",
        "blocks": [{"id": None, "kind": kind, "text": text} for kind, text in blocks],
    }


def editor_data(response):
    return response.context["story_editor"]["data"]


@pytest.fixture
def story(journalist):
    story = StoryFactory(headline="Talks", authors=[journalist])
    BlockFactory(story=story, position=1, text="They meet.")
    return story


def test_draft_is_kept_and_comes_back_on_the_page(client, journalist, story):
    login(client, journalist)
    response = send_draft(client, story, content())
    assert response.status_code == 200
    assert response.json()["revision"] == 1

    data = editor_data(client.get(story_change_url(story)))
    assert data["draft"]["headline"] == "Talks in Riyadh"
    assert [b["text"] for b in data["draft"]["blocks"]] == ["They meet on Tuesday."]
    assert data["draft"]["stale"] is False
    # The stored story is untouched: a draft is not a save, and not a version.
    story.refresh_from_db()
    assert (story.headline, story.revision) == ("Talks", 1)
    assert not reversion.is_registered(StoryDraft)
    assert Version.objects.get_for_object(story).count() == 0


def test_a_draft_of_a_new_story_comes_back_on_the_add_page(client, journalist):
    login(client, journalist)
    assert send_draft(client, None, content(), base_revision=None).status_code == 200
    data = editor_data(client.get(reverse("admin:issues_story_add")))
    assert data["draft"]["headline"] == "Talks in Riyadh"


def test_saving_the_story_drops_the_draft(client, journalist, story):
    login(client, journalist)
    send_draft(client, story, content())
    data = changeform_data(client.get(story_change_url(story)))
    data["headline"] = "Talks in Riyadh"
    assert client.post(story_change_url(story), data).status_code == 302
    assert not StoryDraft.objects.exists()
    assert editor_data(client.get(story_change_url(story)))["draft"] is None


def test_a_draft_older_than_the_story_shows_what_changed_since(client, journalist, story):
    login(client, journalist)
    send_draft(client, story, content())
    # A colleague saves revision 2 meanwhile.
    with reversion.create_revision():
        Story.objects.filter(pk=story.pk).update(headline="Talks postponed", revision=2)
        reversion.add_to_revision(Story.objects.get(pk=story.pk))

    response = client.get(story_change_url(story))
    draft = editor_data(response)["draft"]
    assert draft["stale"] is True and draft["baseRevision"] == 1
    page = response.content.decode()
    assert "the story has been saved since" in page
    assert response.context["workflow"]["changes_since"] is not None
    # Saving from here is based on what the person has now seen: revision 2.
    assert response.context["adminform"].form["based_on_revision"].value() == 2


def test_draft_of_a_colleagues_story_is_not_found(client, newsroom_groups, story):
    other = UserFactory(username="other", groups=["Journalists"])
    login(client, other)
    assert send_draft(client, story, content()).status_code == 404
    assert not StoryDraft.objects.exists()


def test_draft_of_a_story_in_review_is_refused_with_the_reason(client, journalist, story):
    Story.objects.filter(pk=story.pk).update(status="submitted")
    login(client, journalist)
    response = send_draft(client, story, content())
    assert response.status_code == 403
    assert "editor" in response.json()["error"]
    assert not StoryDraft.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        json.dumps({"content": {"headline": "x", "takeaway": "", "blocks": "no"}}).encode(),
        json.dumps(
            {"content": {"headline": "x", "takeaway": "", "blocks": [{"kind": "image"}]}}
        ).encode(),
        json.dumps({"content": {"headline": 3, "takeaway": "", "blocks": []}}).encode(),
        json.dumps(
            {
                "content": {
                    "headline": "x",
                    "takeaway": "",
                    "blocks": [{"kind": "paragraph", "text": "x"}] * (DRAFT_MAX_BLOCKS + 1),
                }
            }
        ).encode(),
    ],
    ids=[
        "not-json",
        "not-an-object",
        "blocks-not-a-list",
        "unknown-kind",
        "headline-not-text",
        "too-many",
    ],
)
def test_a_malformed_draft_is_refused_and_nothing_kept(client, journalist, story, body):
    login(client, journalist)
    response = client.post(draft_url(story), body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]
    assert not StoryDraft.objects.exists()


def test_throwing_the_draft_away(client, journalist, story):
    login(client, journalist)
    send_draft(client, story, content())
    response = client.post(
        draft_url(story), json.dumps({"discard": True}), content_type="application/json"
    )
    assert response.json() == {"discarded": True}
    assert not StoryDraft.objects.exists()


def test_drafts_are_each_persons_own(client, journalist, editor, story):
    login(client, journalist)
    send_draft(client, story, content(headline="Mine"))
    login(client, editor)
    assert editor_data(client.get(story_change_url(story)))["draft"] is None


def test_the_table_of_blocks_is_kept_for_the_session(client, journalist, story):
    login(client, journalist)
    assert "story_editor" in client.get(story_change_url(story)).context
    table = client.get(story_change_url(story) + "?blocks=form")
    assert "story_editor" not in table.context and table.context["story_editor_table"]
    assert "story_editor" not in client.get(story_change_url(story)).context
    client.get(story_change_url(story) + "?blocks=document")
    assert "story_editor" in client.get(story_change_url(story)).context


def test_a_refused_block_is_shown_in_the_table_with_its_error(client, journalist, story):
    login(client, journalist)
    data = changeform_data(client.get(story_change_url(story)))
    data["blocks-0-kind"] = "image"  # what no editor sends: the server refuses it
    response = client.post(story_change_url(story), data)
    assert response.status_code == 200
    assert "story_editor" not in response.context and response.context["story_editor_table"]
    assert "Select a valid choice" in response.content.decode()
