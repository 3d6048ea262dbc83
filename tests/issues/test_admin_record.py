"""The story page's record panel: editors correct and, two at a time, retract."""

import pytest
from django.urls import reverse

from issues.models import Correction, Issue, Withdrawal
from tests.issues.test_admin import login, story_change_url
from tests.issues.test_admin_workflow import messages_after
from tests.issues.test_corrections import published_story

pytestmark = pytest.mark.django_db


def record_url(story):
    return reverse("admin:issues_story_record", args=[story.pk])


def test_story_page_offers_the_record_to_editors_of_published_stories_only(
    client, editor, journalist
):
    story = published_story(authors=[journalist])

    assert "On the record" in login(client, editor).get(story_change_url(story)).content.decode()
    assert (
        "On the record"
        not in login(client, journalist).get(story_change_url(story)).content.decode()
    )


def test_editor_adds_a_correction_from_the_story_page(client, editor):
    story = published_story()
    login(client, editor)

    response = client.post(
        record_url(story),
        {"action": "correct", "kind": "clarification", "note": "The meeting was informal."},
    )

    assert response.url == story_change_url(story)
    assert messages_after(response) == ["Clarification 1 is on the record and in the archive."]
    correction = Correction.objects.get()
    assert (correction.story, correction.note, correction.approved_by) == (
        story,
        "The meeting was informal.",
        editor,
    )
    page = client.get(story_change_url(story)).content.decode()
    assert "The meeting was informal." in page


def test_journalist_posting_to_the_record_is_refused_and_nothing_changes(client, journalist):
    story = published_story(authors=[journalist])
    login(client, journalist)

    for action in ("correct", "retraction", "takedown"):
        response = client.post(
            record_url(story), {"action": action, "kind": "correction", "note": "Mine."}
        )
        assert response.status_code in {302, 403}
    assert not Correction.objects.exists()
    assert not Withdrawal.objects.exists()


def test_two_editors_retract_from_the_story_page(client, editor, second_editor):
    story = published_story()
    login(client, editor)
    client.post(record_url(story), {"action": "retraction", "note": "Fabricated quotes."})
    response = client.post(record_url(story), {"action": "retraction", "note": "Please."})
    assert "another editor must approve it" in messages_after(response)[-1]
    story.issue.refresh_from_db()
    assert story.issue.status == Issue.Status.SENT

    login(client, second_editor)
    page = client.get(story_change_url(story)).content.decode()
    assert "Approve and carry out" in page and "Fabricated quotes." in page
    response = client.post(record_url(story), {"action": "retraction", "note": "Checked."})

    assert "Carried out" in messages_after(response)[-1]
    story.issue.refresh_from_db()
    assert story.issue.status == Issue.Status.RETRACTED
    withdrawal = Withdrawal.objects.get()
    assert (withdrawal.requested_by, withdrawal.approved_by) == (editor, second_editor)
