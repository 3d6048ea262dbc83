"""Citations: approved descriptions only, plural needs two sources, citing is a versioned edit,
and submit and approve wait until every attributed claim cites a source or is on the record."""

import pytest
from reversion.models import Version

from issues.importing.services import issue_import
from issues.models import Block, Story
from issues.rendering import issue_render_html, issue_render_text
from issues.services import WorkflowError, story_approve, story_submit
from sources.citing import block_on_record, citation_add, citation_remove, unsourced_blocks
from sources.models import Citation, Source
from sources.services import SourceRefused, source_create
from tests.conftest import SAMPLE_PATH
from tests.factories import BlockFactory, StoryFactory
from tests.sources.conftest import identity, source_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def heron(editor):
    return source_create(
        acting_user=editor,
        codename="HERON",
        identity=identity(name="Another Person", contacts="heron@example.org"),
        descriptors=["a person close to the talks", "sources close to the Kremlin"],
        **source_fields(),
    )


@pytest.fixture
def kestrel(source, editor):
    from django.utils import timezone

    source.descriptors.create(
        text="sources close to the Kremlin",
        plural=True,
        approved_by=editor,
        approved_at=timezone.now(),
    )
    return source


@pytest.fixture
def story(journalist):
    story = StoryFactory(authors=[journalist], headline="Kremlin view")
    BlockFactory(story=story, position=1, text="A source close to the Kremlin told The Bell.")
    BlockFactory(story=story, position=2, kind=Block.Kind.HEADING, text="What Putin wants")
    BlockFactory(story=story, position=3, kind=Block.Kind.BULLET, text="Sources say: no NATO.")
    BlockFactory(story=story, position=4, text="Putin said so on television.")
    return story


def block(story, position):
    return story.blocks.get(position=position)


def test_citation_add_takes_an_approved_description_of_the_source(story, kestrel, journalist):
    citation = citation_add(
        block=block(story, 1),
        sources=[kestrel],
        descriptor="A source with contacts inside the  Kremlin",  # case and spaces aside
        acting_user=journalist,
    )
    assert citation.descriptor == "A source with contacts inside the Kremlin"
    assert list(citation.sources.all()) == [kestrel]
    story.refresh_from_db()
    assert story.revision == 2  # citing is an edit of the story


@pytest.mark.parametrize(
    ("descriptor", "which", "message"),
    [
        ("a senior official", ["kestrel"], "not a description approved for KESTREL"),
        ("sources close to the Kremlin", ["kestrel"], "cite two different sources"),
        ("sources close to the Kremlin", ["kestrel", "kestrel"], "cite two different sources"),
        ("a Kremlin insider", ["kestrel", "heron"], "not a description approved for HERON"),
        ("a person close to the talks", ["heron", "kestrel"], "not a description approved for"),
    ],
)
def test_citation_add_refuses_what_print_may_not_say(
    request, story, kestrel, heron, journalist, descriptor, which, message
):
    sources = [request.getfixturevalue(name) for name in which]
    with pytest.raises(SourceRefused, match=message):
        citation_add(
            block=block(story, 3), sources=sources, descriptor=descriptor, acting_user=journalist
        )
    assert not Citation.objects.exists()


def test_a_plural_description_cites_two_sources(story, kestrel, heron, journalist):
    citation = citation_add(
        block=block(story, 3),
        sources=[kestrel, heron],
        descriptor="sources close to the Kremlin",
        acting_user=journalist,
    )
    assert set(citation.sources.values_list("codename", flat=True)) == {"KESTREL", "HERON"}


def test_citation_add_refuses_headings_burned_sources_and_strangers(
    story, kestrel, journalist, keeper
):
    with pytest.raises(SourceRefused, match="Only paragraphs and bullet points"):
        citation_add(
            block=block(story, 2),
            sources=[kestrel],
            descriptor="a Kremlin insider",
            acting_user=journalist,
        )
    with pytest.raises(SourceRefused, match=r"may not change|may read stories"):
        citation_add(
            block=block(story, 1),
            sources=[kestrel],
            descriptor="a Kremlin insider",
            acting_user=keeper,
        )
    Source.objects.filter(pk=kestrel.pk).update(status="burned")
    kestrel.refresh_from_db()
    with pytest.raises(SourceRefused, match="KESTREL is burned"):
        citation_add(
            block=block(story, 1),
            sources=[kestrel],
            descriptor="a Kremlin insider",
            acting_user=journalist,
        )


def test_submit_and_approve_wait_for_every_attributed_claim(
    story, kestrel, heron, journalist, editor
):
    with pytest.raises(WorkflowError) as refused:
        story_submit(story=story, acting_user=journalist)
    assert refused.value.code == "unsourced"
    assert "paragraph 1:" in refused.value.message and "bullet point 3:" in refused.value.message
    assert "paragraph 4" not in refused.value.message  # attributes to no anonymous source

    citation_add(
        block=block(story, 1),
        sources=[kestrel],
        descriptor="a Kremlin insider",
        acting_user=journalist,
    )
    with pytest.raises(WorkflowError, match="bullet point 3"):
        story_submit(story=story, acting_user=journalist)
    block_on_record(
        block=block(story, 3),
        note="Quotes the Foreign Ministry's statement of 12 January.",
        acting_user=journalist,
    )
    story_submit(story=story, acting_user=journalist)
    story_approve(story=story, acting_user=editor)
    story.refresh_from_db()
    assert story.status == Story.Status.APPROVED

    # Taking a citation back is an edit: the approval goes, and approval waits again.
    citation_remove(citation=Citation.objects.get(), acting_user=editor)
    story.refresh_from_db()
    assert story.status == Story.Status.SUBMITTED
    with pytest.raises(WorkflowError, match="paragraph 1"):
        story_approve(story=story, acting_user=editor)


def test_the_imported_sample_is_refused_until_its_attributed_paragraphs_are_cited(
    journalist, editor, source
):
    issue = issue_import(path=SAMPLE_PATH, authors=[journalist])
    first = issue.stories.get(position=1)
    with pytest.raises(WorkflowError) as refused:
        story_submit(story=first, acting_user=journalist)
    assert refused.value.message.count("attributes to a source but cites none") == 5

    for claim in unsourced_blocks(story=first):
        citation_add(
            block=claim,
            sources=[source],
            descriptor="a source with contacts inside the Kremlin",
            acting_user=journalist,
        )
    story_submit(story=first, acting_user=journalist)
    first.refresh_from_db()
    assert first.status == Story.Status.SUBMITTED
    # What readers get never names the source.
    for rendered in (issue_render_text(issue=issue), issue_render_html(issue=issue)):
        assert "KESTREL" not in rendered and "Zebulon" not in rendered
        assert "contacts inside the Kremlin told The Bell" in rendered


def test_a_storys_version_holds_its_citations_and_a_revert_brings_them_back(
    story, kestrel, journalist
):
    citation = citation_add(
        block=block(story, 1),
        sources=[kestrel],
        descriptor="a Kremlin insider",
        acting_user=journalist,
    )
    versions = Version.objects.get_for_object(story).order_by("pk")
    with_citation = versions.last()
    cited = [
        v for v in with_citation.revision.version_set.all() if v.content_type.model == "citation"
    ]
    assert [v.field_dict["sources"] for v in cited] == [[kestrel.pk]]

    citation_remove(citation=citation, acting_user=journalist)
    assert not Citation.objects.exists()
    with_citation.revision.revert(delete=True)
    assert Citation.objects.get().descriptor == "a Kremlin insider"
    assert list(Citation.objects.get().sources.all()) == [kestrel]


def test_the_citations_page_cites_and_marks_on_record_and_the_story_page_counts(
    client, story, kestrel, heron, journalist, editor, keeper
):
    from django.urls import reverse

    url = reverse("admin:sources_story_citations", args=[story.pk])
    story_page = reverse("admin:issues_story_change", args=[story.pk])
    client.force_login(journalist)
    assert "2 claims attribute to a source and cite none" in client.get(story_page).content.decode()
    page = client.get(url).content.decode()
    assert "2 claims attribute to a source and cite none" in page
    assert page.count('data-bell-cite="') == 3  # paragraphs and bullets; not the heading

    bullet, paragraph = block(story, 3), block(story, 1)
    response = client.post(
        url,
        {
            "action": "cite",
            "block": bullet.pk,
            f"cite-{bullet.pk}-sources": [kestrel.pk, heron.pk],
            f"cite-{bullet.pk}-descriptor": "sources close to the Kremlin",
        },
        follow=True,
    )
    assert "Cited for bullet point 3." in response.content.decode()
    refused = client.post(
        url,
        {
            "action": "cite",
            "block": paragraph.pk,
            f"cite-{paragraph.pk}-sources": [heron.pk],
            f"cite-{paragraph.pk}-descriptor": "a Kremlin insider",
        },
        follow=True,
    ).content.decode()
    assert "not a description approved for HERON" in refused
    client.post(
        url,
        {"action": "on_record", "block": paragraph.pk, f"record-{paragraph.pk}-note": "Named."},
    )
    panel = client.get(story_page).content.decode()
    assert "Every claim that attributes to a source cites one or is on the record" in panel
    assert "(1 with citations)" in panel

    client.force_login(editor)
    page = client.get(url).content.decode()
    assert "HERON</a> + <a" in page and "KESTREL</a>: “sources close to the Kremlin”" in page
    source_page = client.get(reverse("admin:sources_source_change", args=[kestrel.pk]))
    assert "Kremlin view</a>, bullet point 3" in source_page.content.decode()

    # A keeper reads the page but cannot cite: the story is not theirs to edit.
    client.force_login(keeper)
    page = client.get(url).content.decode()
    assert 'data-bell-cite="' not in page and "may read stories but not change them" in page


def test_citations_survive_editing_reordering_and_a_revert_in_the_story_admin(
    client, story, kestrel, journalist, editor
):
    from django.urls import reverse

    from tests.issues.test_admin import block_key, changeform_data

    url = reverse("admin:issues_story_change", args=[story.pk])
    cited = block(story, 1)
    citation_add(
        block=cited, sources=[kestrel], descriptor="a Kremlin insider", acting_user=journalist
    )
    client.force_login(editor)

    # The cited paragraph's text is edited and it moves below the bullet.
    data = changeform_data(client.get(url))
    text = "A source close to the Kremlin told The Bell: no deal before May."
    data[block_key(data, story, cited.text, "text")] = text
    data[block_key(data, story, cited.text, "position")] = "3"
    data[block_key(data, story, "Sources say: no NATO.", "position")] = "1"
    response = client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    cited.refresh_from_db()
    assert cited.text == text and cited.position == 3
    assert list(Citation.objects.values_list("block_id", flat=True)) == [cited.pk]

    # Taken off, then the version that had it brought back from History.
    citation_remove(citation=Citation.objects.get(), acting_user=editor)
    versions = list(Version.objects.get_for_object(story).order_by("pk"))
    with_citation = next(
        v
        for v in reversed(versions)
        if any(x.content_type.model == "citation" for x in v.revision.version_set.all())
    )
    revert = reverse("admin:issues_story_revision", args=[story.pk, with_citation.pk])
    response = client.post(revert, changeform_data(client.get(revert)))
    assert response.status_code == 302, response.context and response.context["errors"]
    (back,) = Citation.objects.all()
    assert back.block_id == cited.pk and list(back.sources.all()) == [kestrel]


def test_the_storys_history_shows_the_codenames_it_cites(client, story, kestrel, editor):
    from django.urls import reverse

    citation = citation_add(
        block=block(story, 1),
        sources=[kestrel],
        descriptor="a Kremlin insider",
        acting_user=editor,
    )
    citation_remove(citation=citation, acting_user=editor)
    cited, uncited = Version.objects.get_for_object(story).order_by("pk")
    client.force_login(editor)

    url = reverse("admin:issues_story_history_compare", args=[story.pk])
    page = client.get(f"{url}?from={cited.pk}&to={uncited.pk}").content.decode()

    assert "Blocks (1 changed)" in " ".join(page.split())
    assert "cites KESTREL: “a Kremlin insider”" in page


def test_a_journalists_descriptions_wait_for_an_editor_who_says_if_they_are_plural(
    client, story, journalist, editor
):
    from django.urls import reverse

    from tests.issues.test_admin import changeform_data

    heron = source_create(
        acting_user=journalist,
        codename="HERON",
        identity=identity(name="Other Person"),
        descriptors=["a source familiar with both sides"],  # "both" reads as plural
        **source_fields(),
    )
    (proposed,) = heron.descriptors.all()
    assert proposed.approved_by is None and proposed.plural
    with pytest.raises(SourceRefused, match="not a description approved for HERON"):
        citation_add(
            block=block(story, 1),
            sources=[heron],
            descriptor="a source familiar with both sides",
            acting_user=journalist,
        )

    # The editor approves it, and says it speaks of one person.
    client.force_login(editor)
    url = reverse("admin:sources_source_change", args=[heron.pk])
    data = changeform_data(client.get(url))
    data["descriptors-0-approved"] = "on"
    data.pop("descriptors-0-plural", None)
    assert client.post(url, data).status_code == 302
    proposed.refresh_from_db()
    assert (proposed.approved_by, proposed.plural) == (editor, False)

    citation = citation_add(
        block=block(story, 1),
        sources=[heron],
        descriptor="a source familiar with both sides",
        acting_user=journalist,
    )
    assert list(citation.sources.all()) == [heron]
