"""Attributed claims: which blocks attribute to a source (issues.attribution), and the review
check other apps answer before a story is submitted or approved (story_review_checks)."""

# Curly apostrophes and quotes are the point of several assertions here.
# ruff: noqa: RUF001, RUF003

import pytest
from django.core import mail
from django.urls import reverse

from issues.attribution import (
    DEFAULT_ATTRIBUTION_PATTERNS,
    attributed_blocks,
    attribution_matches,
    attribution_patterns_parse,
    attribution_problem,
)
from issues.importing import issue_import
from issues.models import Block, Story, StoryEvent
from issues.services import (
    WorkflowError,
    issue_approve,
    story_approve,
    story_edited,
    story_return,
    story_submit,
)
from issues.signals import story_review_checks
from tests.factories import (
    TEST_PASSWORD,
    BlockFactory,
    IssueFactory,
    NewsletterFactory,
    StoryFactory,
)

pytestmark = pytest.mark.django_db

# The sample's blocks that attribute to The Bell's own source, by their first four words.
SAMPLE_ATTRIBUTED = [
    ("paragraph", "Following Donald Trump’s inauguration"),  # “… told The Bell that a deal …”
    ("paragraph", "These demands are clearly"),  # “… told The Bell which issues …”
    ("bullet", "Ukraine will be expected"),  # “… the source told The Bell.”
    ("bullet", "Security guarantees for Ukraine,"),  # “The Bell’s source does not believe …”
    ("paragraph", "In general, according to"),  # “… The Bell’s source, Putin is …”
]
BLOOMBERG = (
    "In mid-January a source told Bloomberg that Russia would insist on a sharp reduction in "
    "Ukraine’s ties with NATO."
)


@pytest.fixture
def sample_issue(journalist, sample_path):
    return issue_import(path=sample_path, authors=[journalist])


def first_words(blocks):
    return [(block.kind, " ".join(block.text.split()[:4])) for block in blocks]


# The sample ----------------------------------------------------------------------------------


def test_attributed_blocks_finds_every_block_of_the_sample_citing_the_bells_source(sample_issue):
    first, second = sample_issue.stories.order_by("position")

    assert first_words(attributed_blocks(story=first)) == SAMPLE_ATTRIBUTED
    assert attributed_blocks(story=second) == []


def test_attributed_blocks_leaves_out_a_source_told_bloomberg(sample_issue):
    story = sample_issue.stories.get(position=1)
    bullet = story.blocks.get(text__contains="a source told Bloomberg")
    assert bullet in attributed_blocks(story=story)  # for its “the source told The Bell”

    # The same bullet with only the sentence quoting Bloomberg's source is not caught.
    bullet.text = BLOOMBERG
    bullet.save()

    assert bullet not in attributed_blocks(story=story)
    assert len(attributed_blocks(story=story)) == len(SAMPLE_ATTRIBUTED) - 1


def test_attributed_blocks_passes_over_the_sample_lines_that_only_name_the_bell(sample_issue):
    second = sample_issue.stories.get(position=2)
    assert second.blocks.filter(text__contains="(The Bell has not worked with her)").exists()
    assert attributed_blocks(story=second) == []


# Matching ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "In general, according to The Bell’s source, Putin is prepared.",
        "In general, according to The Bell's source, Putin is prepared.",
        "THE BELL‘S SOURCES disagree.",
        "A source close to the Kremlin told\nThe   Bell which issues matter.",
        "A source told The\u00a0Bell.",
        "“Nothing is agreed,” sources say.",
    ],
)
def test_attribution_matches_whatever_the_apostrophe_case_or_spacing(text):
    assert attribution_matches(text, DEFAULT_ATTRIBUTION_PATTERNS)


def test_attribution_matches_a_curly_pattern_in_straight_text():
    assert attribution_matches("It's what the Kremlin's men say.", ["Kremlin’s men"])
    assert attribution_matches("It’s what the Kremlin’s men say.", ["Kremlin's men"])
    assert attribution_matches("He called it a “quick win”.", ['"quick win"'])


@pytest.mark.parametrize(
    "text",
    [
        "*The Bell's* source does not believe it.",
        "**The Bell’s source** does not believe it.",
        "The *Bell's* source does not believe it.",
        "A source _told_ The Bell.",
        "A source told [The Bell](https://thebell.example/about).",
        "According to [The Bell's source](https://thebell.example/a), Putin is ready.",
    ],
)
def test_attribution_matches_through_markdown_emphasis_and_links(text):
    assert attribution_matches(text, DEFAULT_ATTRIBUTION_PATTERNS)


@pytest.mark.parametrize(
    "text",
    [
        BLOOMBERG,
        "Bellingcat said nobody told The Bellingcat team.",
        "The Bell has not worked with her.",
        "The Bell's sourcebook is online.",
        "Readers told The Bells of St Mary's.",
        "A link to [the source](https://told.the.bell.example).",
    ],
)
def test_attribution_matches_whole_phrases_only(text):
    assert not attribution_matches(text, DEFAULT_ATTRIBUTION_PATTERNS)


def test_attribution_matches_nothing_without_patterns():
    assert not attribution_matches("A source told The Bell.", [])


def test_attribution_patterns_parse_takes_one_phrase_a_line_without_notes():
    text = "# Our own sources\ntold The Bell\n\n   \n  sources say  \n#sources said\n"
    assert attribution_patterns_parse(text) == ["told The Bell", "sources say"]


# The newsletter's patterns -------------------------------------------------------------------


def test_newsletter_attribution_patterns_default_to_the_defaults():
    newsletter = NewsletterFactory()
    newsletter.refresh_from_db()
    assert attribution_patterns_parse(newsletter.attribution_patterns) == list(
        DEFAULT_ATTRIBUTION_PATTERNS
    )
    for phrase in ["told The Bell", "The Bell's source", "according to The Bell's source"]:
        assert phrase in DEFAULT_ATTRIBUTION_PATTERNS


def test_attributed_blocks_uses_the_newsletters_own_patterns():
    newsletter = NewsletterFactory(
        name="Evening", slug="evening", kicker="EVENING", attribution_patterns="told Evening\n"
    )
    story = StoryFactory(issue__newsletter=newsletter)
    ours = BlockFactory(story=story, text="An official told *Evening* so.")
    BlockFactory(story=story, text="A source told The Bell so.")

    assert attributed_blocks(story=story) == [ours]


def test_attributed_blocks_of_a_newsletter_with_no_patterns_is_empty():
    newsletter = NewsletterFactory(
        name="Evening", slug="evening", kicker="EVENING", attribution_patterns="# none\n"
    )
    story = StoryFactory(issue__newsletter=newsletter)
    BlockFactory(story=story, text="A source told The Bell so.")

    assert attributed_blocks(story=story) == []


def test_attributed_blocks_of_a_story_in_no_issue_uses_the_defaults():
    NewsletterFactory(attribution_patterns="told Evening")
    story = StoryFactory(issue=None, position=None)
    block = BlockFactory(story=story, text="A source told The Bell so.")

    assert attributed_blocks(story=story) == [block]


def test_attributed_blocks_leaves_out_sub_headings_and_keeps_the_order():
    story = StoryFactory()
    later = BlockFactory(story=story, position=5, kind=Block.Kind.BULLET, text="Sources say no.")
    BlockFactory(story=story, position=2, kind=Block.Kind.HEADING, text="What sources say")
    earlier = BlockFactory(story=story, position=1, text="A source told The Bell.")

    assert attributed_blocks(story=story) == [earlier, later]


def test_attribution_problem_names_the_block_and_quotes_its_start():
    block = BlockFactory(
        position=3,
        text="A source *close to the Kremlin* told [The Bell](https://thebell.example) which "
        "issues are most crucial to Putin.",
    )
    assert attribution_problem(block) == (
        "paragraph 3: “A source close to the Kremlin told The Bell which issues ar…” "
        "attributes to a source but cites none"
    )


def test_newsletter_admin_lets_an_editor_change_the_patterns(client, editor):
    newsletter = NewsletterFactory()
    assert client.login(username=editor.username, password=TEST_PASSWORD)
    url = reverse("admin:issues_newsletter_change", args=[newsletter.pk])

    page = client.get(url).content.decode()
    assert 'name="attribution_patterns"' in page
    assert "Lines starting with # are notes" in page

    fields = ["name", "slug", "kicker", "sender_name", "sender_email", "takeaway_label"]
    data = {field: getattr(newsletter, field) for field in [*fields, "language"]}
    response = client.post(url, {**data, "attribution_patterns": "told The Bell\nsaid to us"})
    assert response.status_code == 302
    newsletter.refresh_from_db()
    assert attribution_patterns_parse(newsletter.attribution_patterns) == [
        "told The Bell",
        "said to us",
    ]


# The review check ----------------------------------------------------------------------------


class UnsourcedCheck:
    """A stand-in for the sources app's receiver: every attributing block not in ``cited``
    is a problem. Records each call."""

    def __init__(self):
        self.calls = []
        self.cited = set()
        self.error = None

    def __call__(self, sender, story, transition, **kwargs):
        self.calls.append((sender, story.pk, transition))
        if self.error:
            raise self.error
        blocks = attributed_blocks(story=story)
        return [attribution_problem(block) for block in blocks if block.pk not in self.cited]


@pytest.fixture
def review_check():
    """This test's check alone: the sources app's own check is set aside meanwhile."""
    check = UnsourcedCheck()
    connected = story_review_checks.receivers
    story_review_checks.receivers = []
    story_review_checks.connect(check, weak=False)
    yield check
    story_review_checks.receivers = connected


def story_with_claims(author, status=Story.Status.DRAFT):
    story = StoryFactory(authors=[author], headline="Kremlin view")
    BlockFactory(story=story, position=1, text="A source close to the Kremlin told The Bell.")
    BlockFactory(story=story, position=2, kind=Block.Kind.HEADING, text="Trump’s signals")
    BlockFactory(story=story, position=3, kind=Block.Kind.BULLET, text="*The Bell’s* source.")
    BlockFactory(story=story, position=4, text="Putin said so on television.")
    Story.objects.filter(pk=story.pk).update(status=status)
    story.refresh_from_db()
    return story


def refused(call):
    with pytest.raises(WorkflowError) as error:
        call()
    assert error.value.code == "unsourced", error.value.message
    return error.value.message


REVIEW_STEPS = {
    "submit": (story_submit, "journalist", "submitted"),
    "approve": (story_approve, "editor", "approved"),
}


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (Story.Status.DRAFT, "submit"),
        (Story.Status.RETURNED, "submit"),
        (Story.Status.SUBMITTED, "approve"),
    ],
)
def test_story_review_step_is_refused_naming_each_block_that_cites_no_source(
    review_check, journalist, editor, django_capture_on_commit_callbacks, status, name
):
    story = story_with_claims(journalist, status)
    step, role, action = REVIEW_STEPS[name]
    user = {"journalist": journalist, "editor": editor}[role]

    with django_capture_on_commit_callbacks(execute=True):
        message = refused(lambda: step(story=story, acting_user=user))

    assert message == (
        f"The story “Kremlin view” cannot be {action} yet. Still to fix: "
        "paragraph 1: “A source close to the Kremlin told The Bell.” attributes to a source "
        "but cites none; bullet point 3: “The Bell’s source.” attributes to a source but "
        "cites none."
    )
    story.refresh_from_db()
    assert story.status == status
    assert not StoryEvent.objects.filter(story=story).exists()
    assert mail.outbox == []
    assert review_check.calls == [(Story, story.pk, name)]


def test_story_review_step_passes_when_every_receiver_answers_nothing(
    review_check, journalist, editor
):
    story = story_with_claims(journalist)
    review_check.cited = set(story.blocks.values_list("pk", flat=True))

    story_submit(story=story, acting_user=journalist)
    story_approve(story=story, acting_user=editor)

    story.refresh_from_db()
    assert story.status == Story.Status.APPROVED
    assert list(story.events.order_by("pk").values_list("action", flat=True)) == [
        "submit",
        "approve",
    ]
    assert [call[2] for call in review_check.calls] == ["submit", "approve"]


def test_story_submit_of_the_sample_is_refused_until_its_attributed_blocks_are_cited(
    review_check, journalist, sample_issue
):
    story = sample_issue.stories.get(position=1)

    message = refused(lambda: story_submit(story=story, acting_user=journalist))
    for block in attributed_blocks(story=story):
        assert attribution_problem(block) in message
    assert message.count("attributes to a source but cites none") == len(SAMPLE_ATTRIBUTED)

    review_check.cited = {block.pk for block in attributed_blocks(story=story)}
    story_submit(story=story, acting_user=journalist)
    story.refresh_from_db()
    assert story.status == Story.Status.SUBMITTED


def test_story_review_checks_are_not_asked_before_the_person_and_state_are(
    review_check, journalist, editor
):
    colleague_story = story_with_claims(editor)
    with pytest.raises(WorkflowError) as error:
        story_submit(story=colleague_story, acting_user=journalist)
    assert error.value.code == "forbidden"

    approved = story_with_claims(journalist, Story.Status.APPROVED)
    with pytest.raises(WorkflowError) as error:
        story_approve(story=approved, acting_user=editor)
    assert error.value.code == "state"

    draft = story_with_claims(journalist)
    with pytest.raises(WorkflowError) as error:
        story_submit(story=draft, acting_user=journalist, revision=draft.revision + 1)
    assert error.value.code == "stale"

    assert review_check.calls == []


def test_story_review_checks_are_not_sent_for_other_story_steps(review_check, journalist, editor):
    approved = story_with_claims(journalist, Story.Status.APPROVED)
    story_edited(story=approved, acting_user=editor)  # reopen: back to submitted
    story_return(story=approved, acting_user=editor, comment="Cite the Kremlin source.")
    approved.refresh_from_db()
    assert approved.status == Story.Status.RETURNED

    assert review_check.calls == []


def test_issue_approve_asks_each_storys_review_checks_again(review_check, journalist, editor):
    """An approval can stop holding after it was given (a cited source burned since)."""
    story = story_with_claims(journalist, Story.Status.APPROVED)
    issue = IssueFactory()
    Story.objects.filter(pk=story.pk).update(issue=issue, position=1)

    with pytest.raises(WorkflowError) as refused:
        issue_approve(issue=issue, acting_user=editor)
    assert refused.value.code == "unsourced"
    assert "Kremlin view" in refused.value.message and "paragraph 1" in refused.value.message
    assert review_check.calls == [(Story, story.pk, "approve")]

    review_check.cited = {block.pk for block in story.blocks.all()}
    issue_approve(issue=issue, acting_user=editor)
    issue.refresh_from_db()
    assert issue.status == issue.Status.APPROVED


def test_story_review_check_error_is_not_swallowed(review_check, journalist):
    story = story_with_claims(journalist)
    review_check.error = RuntimeError("the check broke")

    with pytest.raises(RuntimeError, match="the check broke"):
        story_submit(story=story, acting_user=journalist)

    story.refresh_from_db()
    assert story.status == Story.Status.DRAFT
    assert not StoryEvent.objects.filter(story=story).exists()


def test_story_review_checks_without_receivers_let_the_story_through(journalist, monkeypatch):
    monkeypatch.setattr(story_review_checks, "receivers", [])
    story = story_with_claims(journalist)
    story_submit(story=story, acting_user=journalist)
    story.refresh_from_db()
    assert story.status == Story.Status.SUBMITTED
