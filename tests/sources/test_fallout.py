"""The fallout review: everything a contributor or a source touched, decided story by story."""

import functools

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils import timezone

from issues.models import Issue, Story, Withdrawal
from sources.fallout import fallout_review, verdict_record
from sources.models import SourceStatus, StoryFlag, StoryVerdict
from sources.services import SourceRefused
from tests.archive.helpers import story_url
from tests.factories import TEST_PASSWORD, UserFactory

from .fallout import newsroom_fallout

pytestmark = pytest.mark.django_db

REVIEW = reverse("admin:sources_fallout")
NOTE = "Our review found that the author invented this story. We retract it and apologise."


@pytest.fixture
def colleague(newsroom_groups):
    return UserFactory(username="colleague", groups=["Journalists"])


@pytest.fixture
def newsroom(journalist, colleague, editor):
    return newsroom_fallout(contributor=journalist, colleague=colleague, editor=editor)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return functools.partial(django_capture_on_commit_callbacks, execute=True)


def headlines(rows):
    return [row.story.headline for row in rows]


def post(client, user, query, follow=False, **data):
    client.force_login(user)
    return client.post(f"{REVIEW}?{query}", data, follow=follow)


def test_a_contributors_review_lists_what_they_wrote_and_what_cites_their_source(
    newsroom, journalist
):
    rows = fallout_review(person=journalist)

    assert headlines(rows) == [
        "The minister's secret meeting",
        "The budget nobody read",
        "The tanker that never sailed",
        "The governor's second passport",
    ], "newest publication first; the colleague's story citing KESTREL too, not their other one"
    why = {row.story.headline: (row.authored, row.cites) for row in rows}
    assert why["The minister's secret meeting"] == (True, ["KESTREL"])
    assert why["The budget nobody read"] == (False, ["KESTREL"])
    assert why["The tanker that never sailed"] == (True, [])


def test_a_sources_review_lists_the_stories_citing_it(newsroom):
    assert headlines(fallout_review(source=newsroom.source)) == [
        "The minister's secret meeting",
        "The budget nobody read",
    ]


def test_the_page_shows_all_four_with_status_and_publication(client, newsroom, journalist, editor):
    client.force_login(editor)
    response = client.get(f"{REVIEW}?person={journalist.pk}")

    html = response.content.decode()
    assert response.status_code == 200
    for story in vars(newsroom.stories).values():
        listed = f'data-bell-fallout-story="{story.pk}"' in html
        assert listed == (story.headline != "A cold winter ahead"), story.headline
    assert "cites KESTREL" in html
    assert f"{timezone.localtime(newsroom.issues[0].published_at):%-d %b %Y}" in html


def test_journalists_may_not_open_the_review(client, newsroom, journalist, colleague):
    client.force_login(colleague)
    assert client.get(f"{REVIEW}?person={journalist.pk}").status_code == 403
    with pytest.raises(SourceRefused):
        verdict_record(
            stories=[newsroom.stories.budget],
            verdict="verified",
            note="Checked.",
            acting_user=colleague,
        )


def test_a_verdict_is_recorded_on_each_ticked_story_and_on_its_log(
    client, newsroom, journalist, editor
):
    tanker, governor = newsroom.stories.tanker, newsroom.stories.governor

    response = post(
        client,
        editor,
        f"person={journalist.pk}",
        action="verdict",
        verdict="fabricated",
        note="The port has no record of the tanker.",
        story=[tanker.pk, governor.pk],
    )

    assert response.status_code == 302
    assert sorted(StoryVerdict.objects.values_list("story__headline", "verdict")) == [
        ("The governor's second passport", "fabricated"),
        ("The tanker that never sailed", "fabricated"),
    ]
    event = tanker.events.get(action="verdict")
    assert (event.actor, event.comment) == (
        editor,
        "Fabricated: The port has no record of the tanker.",
    )
    page = client.get(f"{REVIEW}?person={journalist.pk}").content.decode()
    assert "The port has no record of the tanker." in page


def test_a_refused_step_shows_the_page_again_with_what_was_typed(
    client, newsroom, journalist, editor
):
    tanker = newsroom.stories.tanker

    response = post(
        client,
        editor,
        f"person={journalist.pk}",
        action="verdict",
        verdict="",
        note="Half a day of checking, written down.",
        story=[tanker.pk],
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "Choose a verdict" in html
    assert "Half a day of checking, written down." in html
    assert f'value="{tanker.pk}" id="bell-fallout-{tanker.pk}" aria-label' in html
    assert f'id="bell-fallout-{tanker.pk}" aria-label="{tanker.headline}" checked' in html.replace(
        "&#x27;", "'"
    )
    assert not StoryVerdict.objects.exists()


def test_a_bulk_retraction_needs_a_second_editor_and_keeps_the_addresses(
    client, committed, newsroom, journalist, editor, second_editor
):
    mine = [newsroom.stories.tanker, newsroom.stories.governor, newsroom.stories.minister]
    ticked = [story.pk for story in mine]
    addresses = [story_url(story) for story in mine]
    query = f"person={journalist.pk}"

    with committed():
        response = post(client, editor, query, True, action="retract", note=NOTE, story=ticked)
    assert "Retraction of 3 stories asked for" in response.content.decode()
    assert Withdrawal.objects.open().count() == 3
    for address in addresses:
        assert "invented this story" not in client.get(address).content.decode()

    with committed():
        response = post(client, editor, query, True, action="retract", note=NOTE, story=ticked)
    assert Withdrawal.objects.carried_out().count() == 0, "the one who asked cannot approve"
    assert response.content.decode().count("You asked for this on") == 3

    with committed():
        post(client, second_editor, query, action="retract", note="Agreed.", story=ticked)
    assert Withdrawal.objects.carried_out().count() == 3
    client.logout()
    for story, address in zip(mine, addresses, strict=True):
        response = client.get(address)
        html = response.content.decode()
        assert response.status_code == 200, address
        assert "invented this story" in html
        assert story.blocks.get().text not in html
    first, second = (Issue.objects.get(pk=issue.pk) for issue in newsroom.issues)
    assert first.status == Issue.Status.RETRACTED, "both its stories are retracted"
    assert second.status == Issue.Status.CORRECTED, "the colleague's stories stand"


def test_a_bulk_correction_is_one_public_note_per_story(client, newsroom, journalist, editor):
    budget, weather = newsroom.stories.budget, newsroom.stories.weather

    post(
        client,
        editor,
        f"source={newsroom.source.pk}",
        action="correct",
        kind="editors_note",
        note="This story cited a source whose account we could not confirm.",
        story=[budget.pk, weather.pk],
    )

    assert budget.corrections.get().kind == "editors_note"
    assert not weather.corrections.exists(), "not in this review: not touched"


def test_the_contributor_is_deactivated_and_their_sources_put_under_review(
    client, newsroom, journalist, editor
):
    query = f"person={journalist.pk}"

    post(client, editor, query, action="deactivate", note="Fabricated stories.")
    post(client, editor, query, action="sources_review", note="Brought by a fabricator.")

    journalist.refresh_from_db()
    newsroom.source.refresh_from_db()
    assert not journalist.is_active
    assert LogEntry.objects.get(object_id=str(journalist.pk)).change_message == (
        "Deactivated in a fallout review: Fabricated stories."
    )
    assert newsroom.source.status == SourceStatus.UNDER_REVIEW
    assert sorted(StoryFlag.objects.values_list("story__headline", flat=True)) == [
        "The budget nobody read",
        "The minister's secret meeting",
    ]
    assert client.login(username=journalist.username, password=TEST_PASSWORD) is False


def test_an_editor_cannot_deactivate_themselves(client, newsroom, editor):
    response = post(client, editor, f"person={editor.pk}", action="deactivate", note="Oops.")

    assert response.status_code == 400
    editor.refresh_from_db()
    assert editor.is_active


def test_a_draft_story_lists_the_retracted_headlines_but_never_a_takedown(
    client, newsroom, journalist, editor, second_editor
):
    from issues.services import story_retract, story_takedown

    for who in (editor, second_editor):
        story_retract(story=newsroom.stories.tanker, note=NOTE, acting_user=who)
        story_takedown(story=newsroom.stories.governor, note="A court order.", acting_user=who)

    response = post(client, editor, f"person={journalist.pk}", action="note_draft")

    draft = Story.objects.get(headline="Stories we have retracted")
    assert response["Location"] == reverse("admin:issues_story_change", args=[draft.pk])
    assert (draft.status, draft.issue, list(draft.authors.all())) == ("draft", None, [editor])
    texts = list(draft.blocks.order_by("position").values_list("kind", "text"))
    assert texts[0][0] == "paragraph"
    assert texts[1:] == [
        (
            "bullet",
            "“The tanker that never sailed”, in The Bell Weekly #1 of "
            f"{timezone.localtime(newsroom.issues[0].published_at):%-d %B %Y}. {NOTE}",
        )
    ]
    assert "second passport" not in str(texts) and "court order" not in str(texts)


def test_the_readers_of_both_original_issues_are_told_once_and_a_later_reader_is_not(
    client, committed, mail_server, newsroom, journalist, editor, second_editor
):
    from subscribers.models import Delivery
    from tests.factories import SubscriptionFactory

    def reader(name):
        return SubscriptionFactory(
            newsletter=newsroom.newsletter, subscriber__email=f"{name}@mail.example"
        ).subscriber

    first, second = newsroom.issues
    # Who each issue went to, as its sending recorded them.
    anna, boris, clara = reader("anna"), reader("boris"), reader("clara")
    for issue, got_it in ((first, [anna, boris]), (second, [anna, clara])):
        for subscriber in got_it:
            Delivery.objects.create(issue=issue, subscriber=subscriber, status="sent")
    reader("dmitri")  # joined after both
    mine = [newsroom.stories.tanker, newsroom.stories.governor, newsroom.stories.minister]
    ticked = [story.pk for story in mine]
    query = f"person={journalist.pk}"
    for who in (editor, second_editor):
        post(client, who, query, action="retract", note=NOTE, story=ticked)

    with committed():
        response = post(client, editor, query, True, action="notice", story=ticked)

    assert "3 notices are on their way" in response.content.decode()
    told = {}
    for rcpt_tos, message in mail_server.messages:
        headline = message["Subject"].partition("Retraction: ")[2]
        told.setdefault(headline, []).extend(rcpt_tos)
    assert {headline: sorted(to) for headline, to in told.items()} == {
        "The tanker that never sailed": ["anna@mail.example", "boris@mail.example"],
        "The governor's second passport": ["anna@mail.example", "boris@mail.example"],
        "The minister's secret meeting": ["anna@mail.example", "clara@mail.example"],
    }


def test_a_step_refused_for_every_ticked_story_gives_the_note_back(
    client, newsroom, journalist, editor
):
    unpublished = newsroom.stories.tanker
    Issue.objects.filter(pk=unpublished.issue_id).update(status=Issue.Status.DRAFT)

    response = post(
        client,
        editor,
        f"person={journalist.pk}",
        action="correct",
        kind="correction",
        note="A long note the editor wrote with care.",
        story=[unpublished.pk],
    )

    html = response.content.decode()
    assert response.status_code == 400
    assert "has not been published" in html
    assert "A long note the editor wrote with care." in html


def test_the_review_of_no_one_is_a_404(client, editor):
    client.force_login(editor)
    for query in ("person=abc", "person=99999999999999999999", "source=0", "source=424242"):
        assert client.get(f"{REVIEW}?{query}").status_code == 404, query
