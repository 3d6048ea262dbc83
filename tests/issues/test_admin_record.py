"""The story page's record panel: editors correct and, two at a time, retract."""

import pytest
from django.test import Client
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


def correction_form(story, **fixes):
    """The correction form as the page sends it: every text field, as loaded, then ``fixes``."""
    story.refresh_from_db()
    fields = {
        "action": "correct",
        "kind": "correction",
        "note": "The talks were on Wednesday.",
        "fix-revision": str(story.revision),
        "fix-headline": story.headline,
        "fix-takeaway": story.takeaway,
    }
    for block in story.blocks.all():
        fields[f"fix-block-{block.position}"] = block.text
    return {**fields, **fixes}


def test_the_correction_form_fixes_the_text_in_the_same_step(client, editor):
    story = published_story()
    login(client, editor)
    page = client.get(story_change_url(story)).content.decode()
    assert 'name="fix-block-1"' in page and "The talks were held on Tuesday." in page

    client.post(
        record_url(story),
        correction_form(story, **{"fix-block-1": "The talks were held on Wednesday."}),
    )

    story.refresh_from_db()
    correction = Correction.objects.get()
    assert story.blocks.get(position=1).text == "The talks were held on Wednesday."
    assert story.blocks.get(position=2).text == "Both sides agreed to meet again."
    assert (correction.revision, correction.fixed_revision, story.revision) == (1, 2, 2)


def test_a_correction_without_a_fix_leaves_the_text_alone(client, editor):
    story = published_story()
    login(client, editor)

    client.post(record_url(story), correction_form(story))

    story.refresh_from_db()
    assert (Correction.objects.get().fixed_revision, story.revision) == (None, 1)


def test_a_fix_typed_on_a_stale_page_is_refused_and_given_back(client, editor, second_editor):
    story = published_story()
    login(client, editor)
    stale = correction_form(story, **{"fix-block-2": "Both delegations agreed to meet."})
    login(Client(), second_editor).post(
        record_url(story),
        correction_form(story, **{"fix-block-1": "The talks were held on Wednesday."}),
    )

    response = login(client, editor).post(record_url(story), stale)

    assert "changed since you opened the page" in messages_after(response)[0]
    story.refresh_from_db()
    assert story.blocks.get(position=1).text == "The talks were held on Wednesday.", "kept"
    assert Correction.objects.count() == 1
    page = client.get(story_change_url(story)).content.decode()
    assert "Both delegations agreed to meet." in page, "what was typed is shown again"


def test_history_and_compare_pages_show_the_record_steps(client, editor, second_editor):
    import reversion
    from reversion.models import Version

    story = published_story()
    with reversion.create_revision():
        story.save()  # the version readers got
    login(client, editor).post(
        record_url(story),
        correction_form(story, **{"fix-block-1": "The talks were held on Wednesday."}),
    )
    login(Client(), second_editor).post(
        record_url(story), {"action": "retraction", "note": "We could not confirm the talks."}
    )
    history = reverse("admin:issues_story_history", args=[story.pk])

    page = client.get(history).content.decode()

    log = page.split('id="bell-events-title"', 1)[1]
    assert "Corrected" in log and "The talks were on Wednesday." in log
    assert "Retraction requested" in log and "We could not confirm the talks." in log
    first, fixed = Version.objects.get_for_object(story).order_by("pk")
    compare = client.get(
        reverse("admin:issues_story_history_compare", args=[story.pk]),
        {"from": first.pk, "to": fixed.pk},
    ).content.decode()
    between = compare.split("Steps between these two versions", 1)[1]
    assert "The talks were on Wednesday." in between
    assert "Retraction requested" not in between, "it came after the fix"
