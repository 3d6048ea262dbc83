"""Comparing versions: the word and list diffs, reading versions, and the admin pages.

The diff functions are tested on plain data; the admin through the Django test client, on
SQLite and on PostgreSQL.
"""

import pytest
import reversion
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from reversion.models import Version

from issues.history.comparing import (
    IssueSnapshot,
    StorySnapshot,
    issue_compare,
    story_compare,
)
from issues.history.diffing import Change, Item, Op, Segment, items_diff, text_diff
from issues.history.loading import issue_snapshots_load, story_snapshots_load
from issues.models import Block, Story
from tests.factories import BlockFactory, IssueFactory, StoryFactory, UserFactory
from tests.issues.test_admin import (
    block_key,
    changeform_data,
    form_index,
    login,
    save_story,
    story_change_url,
)

EQ, DEL, INS = Op.EQUAL, Op.DELETE, Op.INSERT


def marked(segments, op):
    return [segment.text for segment in segments if segment.op == op]


# Words --------------------------------------------------------------------------------------


def test_text_diff_marks_the_removed_and_the_added_word():
    diff = text_diff("The talks went well in Helsinki.", "The talks went badly in Helsinki.")

    assert diff.old == (
        Segment(EQ, "The talks went "),
        Segment(DEL, "well"),
        Segment(EQ, " in Helsinki."),
    )
    assert diff.new == (
        Segment(EQ, "The talks went "),
        Segment(INS, "badly"),
        Segment(EQ, " in Helsinki."),
    )
    assert diff.changed


def test_text_diff_of_equal_texts_marks_nothing():
    diff = text_diff("Same words.", "Same words.")

    assert diff.old == diff.new == (Segment(EQ, "Same words."),)
    assert not diff.changed


def test_text_diff_joins_neighbouring_changed_words_into_one_change():
    diff = text_diff("the quick brown fox", "a slow brown fox")

    assert diff.old == (Segment(DEL, "the quick"), Segment(EQ, " brown fox"))
    assert diff.new == (Segment(INS, "a slow"), Segment(EQ, " brown fox"))


def test_text_diff_puts_the_space_of_an_added_word_after_it():
    diff = text_diff("The Kremlin expects talks.", "The Kremlin now expects talks.")

    assert diff.new == (
        Segment(EQ, "The Kremlin "),
        Segment(INS, "now "),
        Segment(EQ, "expects talks."),
    )
    assert diff.old == (Segment(EQ, "The Kremlin expects talks."),)


def test_text_diff_marks_punctuation_on_its_own():
    diff = text_diff("Trump's signals", "Trump\N{RIGHT SINGLE QUOTATION MARK}s signals")

    assert marked(diff.old, DEL) == ["'"]
    assert marked(diff.new, INS) == ["\N{RIGHT SINGLE QUOTATION MARK}"]


def test_text_diff_keeps_non_latin_words_whole():
    diff = text_diff("«Москва» ответила быстро", "«Москва» ответила медленно")

    assert marked(diff.old, DEL) == ["быстро"]
    assert marked(diff.new, INS) == ["медленно"]


def test_text_diff_finds_one_word_in_a_long_paragraph():
    words = [f"word{n % 7}" for n in range(400)]
    edited = [*words[:200], "changed", *words[201:]]

    diff = text_diff(" ".join(words), " ".join(edited))

    assert marked(diff.old, DEL) == [words[200]]
    assert marked(diff.new, INS) == ["changed"]


def test_text_diff_of_an_added_text_is_all_inserted():
    diff = text_diff("", "New paragraph.")

    assert diff.old == ()
    assert diff.new == (Segment(INS, "New paragraph."),)


# Ordered lists ------------------------------------------------------------------------------


def paragraphs(*pairs):
    return [Item(key=key, text=text, kind="Paragraph") for key, text in pairs]


def summary(rows):
    """Each row as (change, old number, new number, moved)."""
    return [(row.change, row.old_number, row.new_number, row.moved) for row in rows]


def test_items_diff_matches_entries_by_id_through_a_text_change():
    old = paragraphs((1, "Alpha."), (2, "Bravo."))
    new = paragraphs((1, "Alpha."), (2, "Bravo, rewritten."))

    rows = items_diff(old, new)

    assert summary(rows) == [
        (Change.UNCHANGED, 1, 1, False),
        (Change.CHANGED, 2, 2, False),
    ]
    assert marked(rows[1].text.new, INS) == [", rewritten"]


def test_items_diff_shows_an_added_entry_where_it_was_added():
    old = paragraphs((1, "Alpha."), (2, "Bravo."))
    new = paragraphs((1, "Alpha."), (3, "Inserted."), (2, "Bravo."))

    rows = items_diff(old, new)

    assert summary(rows) == [
        (Change.UNCHANGED, 1, 1, False),
        (Change.ADDED, None, 2, False),
        (Change.UNCHANGED, 2, 3, False),
    ]
    assert rows[1].text.new == (Segment(INS, "Inserted."),)


def test_items_diff_shows_a_removed_entry_where_it_used_to_be():
    old = paragraphs((1, "Alpha."), (2, "Bravo."), (3, "Charlie."))
    new = paragraphs((1, "Alpha."), (3, "Charlie."))

    rows = items_diff(old, new)

    assert summary(rows) == [
        (Change.UNCHANGED, 1, 1, False),
        (Change.REMOVED, 2, None, False),
        (Change.UNCHANGED, 3, 2, False),
    ]
    assert rows[1].text.old == (Segment(DEL, "Bravo."),)


def test_items_diff_marks_only_the_entry_that_moved():
    old = paragraphs((1, "Alpha."), (2, "Bravo."), (3, "Charlie."), (4, "Delta."))
    new = paragraphs((4, "Delta."), (1, "Alpha."), (2, "Bravo."), (3, "Charlie."))

    rows = items_diff(old, new)

    assert summary(rows) == [
        (Change.UNCHANGED, 4, 1, True),
        (Change.UNCHANGED, 1, 2, False),
        (Change.UNCHANGED, 2, 3, False),
        (Change.UNCHANGED, 3, 4, False),
    ]


def test_items_diff_marks_one_of_two_swapped_entries():
    old = paragraphs((1, "Alpha."), (2, "Bravo."))
    new = paragraphs((2, "Bravo."), (1, "Alpha."))

    rows = items_diff(old, new)

    assert [row.new.text for row in rows] == ["Bravo.", "Alpha."]
    assert sum(row.moved for row in rows) == 1


def test_items_diff_shows_a_kind_change():
    old = [Item(key=1, text="Trump\N{RIGHT SINGLE QUOTATION MARK}s signals", kind="Paragraph")]
    new = [Item(key=1, text="Trump\N{RIGHT SINGLE QUOTATION MARK}s signals", kind="Sub-heading")]

    (row,) = items_diff(old, new)

    assert row.change == Change.CHANGED
    assert row.kind_changed
    assert not row.text.changed


def test_items_diff_pairs_a_retyped_entry_by_its_place():
    # Deleted and typed again: a new id, in the place of the old one.
    old = paragraphs((1, "Alpha."), (2, "Bravo."), (3, "Charlie."))
    new = paragraphs((1, "Alpha."), (9, "Bravo!"), (3, "Charlie."))

    rows = items_diff(old, new)

    assert summary(rows)[1] == (Change.CHANGED, 2, 2, False)
    assert marked(rows[1].text.old, DEL) == ["."]


def test_items_diff_pairs_entries_without_ids_by_order():
    old = paragraphs((None, "Alpha."), (None, "Bravo."))
    new = paragraphs((None, "Alpha."), (None, "Bravo?"), (None, "Charlie."))

    rows = items_diff(old, new)

    assert [row.change for row in rows] == [Change.UNCHANGED, Change.CHANGED, Change.ADDED]


def test_story_compare_reads_headline_authors_blocks_then_takeaway():
    old = StorySnapshot(
        headline="Talks: what to expect",
        takeaway="It matters.",
        authors=(Item(key=1, text="Anna"),),
        blocks=tuple(paragraphs((1, "Alpha."), (2, "Bravo."))),
        revision=1,
    )
    new = StorySnapshot(
        headline="Talks: what to expect",
        takeaway="It matters more.",
        authors=(Item(key=1, text="Anna"), Item(key=2, text="Boris")),
        blocks=tuple(paragraphs((2, "Bravo."), (3, "Charlie."))),
        revision=2,
    )

    diff = story_compare(old, new)

    assert [part.label for part in diff.parts] == ["Headline", "Authors", "Blocks", "Takeaway"]
    assert [part.label for part in diff.changed_parts] == ["Authors", "Blocks", "Takeaway"]
    _, authors, blocks, takeaway = diff.parts
    assert [row.change for row in authors.rows] == [Change.UNCHANGED, Change.ADDED]
    assert blocks.summary == "1 added, 1 removed"
    assert marked(takeaway.text.new, INS) == [" more"]


def test_issue_compare_lists_the_stories_in_order():
    old = IssueSnapshot(
        number=7,
        title="The Kremlin view",
        intro="Hello!",
        stories=(Item(key=1, text="First"), Item(key=2, text="Second")),
    )
    new = IssueSnapshot(
        number=7,
        title="The Kremlin\N{RIGHT SINGLE QUOTATION MARK}s view",
        intro="Hello!",
        stories=(Item(key=2, text="Second"), Item(key=1, text="First")),
    )

    number, title, intro, stories = issue_compare(old, new).parts

    assert not number.changed and not intro.changed
    assert title.changed
    assert [row.new.text for row in stories.rows] == ["Second", "First"]
    assert stories.summary == "1 moved"


# Reading versions ---------------------------------------------------------------------------


def version_save(*objects, comment="", user=None):
    """Save the objects in one revision, as the admin does; the first one's new version."""
    with reversion.create_revision():
        for obj in objects:
            obj.save()
        reversion.set_comment(comment)
        reversion.set_user(user)
    return Version.objects.get_for_object(objects[0]).first()


def story_with_blocks(texts, **fields):
    story = StoryFactory(**fields)
    for position, text in enumerate(texts, 1):
        BlockFactory(story=story, position=position, text=text)
    return story


@pytest.mark.django_db
def test_story_snapshots_load_takes_each_storys_own_blocks_from_the_revision():
    anna = UserFactory(username="anna", first_name="Anna", last_name="Lebedeva")
    first = story_with_blocks(["First story, first block."], authors=[anna])
    second = story_with_blocks(["Second story, first block.", "Second story, second block."])
    # One revision for both, as when an editor reorders an issue.
    version_save(first, second)
    first_version = Version.objects.get_for_object(first).get()
    second_version = Version.objects.get_for_object(second).get()

    one, two = story_snapshots_load([first_version, second_version])

    assert [block.text for block in one.blocks] == ["First story, first block."]
    assert [block.text for block in two.blocks] == [
        "Second story, first block.",
        "Second story, second block.",
    ]
    assert [author.text for author in one.authors] == ["Anna Lebedeva"]
    assert one.revision == 1


@pytest.mark.django_db
@pytest.mark.parametrize("blocks", [1, 30])
def test_story_snapshots_load_takes_two_queries_however_many_blocks(
    django_assert_num_queries, blocks
):
    story = story_with_blocks([f"Block {n}." for n in range(blocks)], authors=[UserFactory()])
    old = version_save(story)
    story.blocks.filter(position=1).update(text="Block zero, edited.")
    new = version_save(story)
    old, new = Version.objects.filter(pk__in=[old.pk, new.pk]).order_by("pk")

    # The blocks of both revisions, the authors' names, and the citations of those revisions
    # (the sources app's notes on blocks): the same however long the story.
    with django_assert_num_queries(3):
        before, after = story_snapshots_load([old, new])

    assert len(before.blocks) == len(after.blocks) == blocks
    assert after.blocks[0].text == "Block zero, edited."


# The admin ----------------------------------------------------------------------------------


def history_url(obj):
    return reverse(f"admin:issues_{obj._meta.model_name}_history", args=[obj.pk])


def compare_url(obj, old, new):
    url = reverse(f"admin:issues_{obj._meta.model_name}_history_compare", args=[obj.pk])
    return f"{url}?from={old.pk}&to={new.pk}"


def versions_of(obj):
    """Oldest first."""
    return list(Version.objects.get_for_object(obj).order_by("pk"))


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def story(db):
    story = StoryFactory(headline="Putin-Trump talks: What to expect", position=1)
    for position, text in enumerate(
        ["The talks went well in Helsinki.", "Bravo paragraph.", "Charlie."], 1
    ):
        BlockFactory(story=story, position=position, text=text)
    return story


def test_history_page_offers_two_columns_of_versions_to_compare(client, editor, story):
    login(client, editor)
    save_story(client, story)
    save_story(client, story, headline="Talks: what to expect")
    old, new = versions_of(story)

    response = client.get(history_url(story))

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('type="radio" name="from"') == 2
    assert page.count('type="radio" name="to"') == 2
    # Preselected: the latest change.
    assert f'name="from" value="{old.pk}" id="bell-from-{old.pk}" checked' in page
    assert f'name="to" value="{new.pk}" id="bell-to-{new.pk}" checked' in page
    assert "revision 2" in page and "revision 1" in page
    assert "Changed Headline. Revision 2." in page
    assert editor.username in page
    assert compare_url(story, old, new).replace("&", "&amp;") in page  # compare with previous
    assert page.index("revision 2") < page.index("revision 1")  # newest first


def test_compare_marks_the_removed_and_the_added_word(client, editor, story):
    login(client, editor)
    save_story(client, story)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "The talks went well in Helsinki.", "text")] = (
        "The talks went badly in Helsinki."
    )
    assert client.post(url, data).status_code == 302
    old, new = versions_of(story)

    response = client.get(compare_url(story, old, new))

    page = response.content.decode()
    assert response.status_code == 200
    assert "<del>well</del>" in page
    assert "<ins>badly</ins>" in page
    assert "revision 1" in page and "revision 2" in page
    assert "Blocks (1 changed)" in page.replace('<span class="bell-diff-count">', "").replace(
        "</span>", ""
    )


def test_compare_shows_added_removed_moved_and_retyped_blocks(client, editor, story):
    login(client, editor)
    save_story(client, story)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Bravo paragraph.", "DELETE")] = "on"
    data[block_key(data, story, "Charlie.", "position")] = "1"
    data[block_key(data, story, "Charlie.", "kind")] = Block.Kind.HEADING
    new_row = int(data["blocks-TOTAL_FORMS"]) - 1
    data[f"blocks-{new_row}-text"] = "A new closing bullet."
    data[f"blocks-{new_row}-kind"] = Block.Kind.BULLET
    data[f"blocks-{new_row}-position"] = ""
    assert client.post(url, data).status_code == 302
    old, new = versions_of(story)

    response = client.get(compare_url(story, old, new))

    blocks = response.context["diff"].parts[2]
    assert [(row.change, row.moved, row.kind_changed) for row in blocks.rows] == [
        (Change.CHANGED, True, True),  # Charlie, now a sub-heading at the top
        (Change.UNCHANGED, False, False),
        (Change.REMOVED, False, False),
        (Change.ADDED, False, False),
    ]
    page = response.content.decode()
    assert "moved from 3 to 1" in page
    assert "Paragraph → Sub-heading" in page
    assert "<del>Bravo paragraph.</del>" in page
    assert "<ins>A new closing bullet.</ins>" in page


def test_compare_shows_block_text_escaped(client, editor, story):
    login(client, editor)
    save_story(client, story)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Charlie.", "text")] = "Charlie <script>alert(1)</script> & co."
    assert client.post(url, data).status_code == 302
    old, new = versions_of(story)

    page = client.get(compare_url(story, old, new)).content.decode()

    assert "<script>alert(1)" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co." in page.replace("<ins>", "").replace(
        "</ins>", ""
    )


def test_compare_queries_do_not_grow_with_the_blocks(client, editor):
    login(client, editor)

    def compare_queries(blocks):
        story = story_with_blocks([f"Block {n}." for n in range(blocks)], authors=[editor])
        old = version_save(story)
        story.blocks.update(text="Every block, edited.")
        new = version_save(story)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(compare_url(story, old, new))
        assert response.status_code == 200
        assert len(response.context["diff"].parts[2].rows) == blocks
        return len(queries)

    assert compare_queries(2) == compare_queries(40)


def test_compare_is_not_shown_to_a_journalist_who_may_not_see_the_story(client, journalist, story):
    old = version_save(story)
    new = version_save(story)
    login(client, journalist)

    response = client.get(compare_url(story, old, new))

    # The same answer as for a story that does not exist: nothing tells it is there.
    assert response.status_code == 404
    assert "diff" not in (response.context or {})


def test_compare_is_shown_to_the_journalist_who_writes_the_story(client, journalist, story):
    story.authors.add(journalist)
    old = version_save(story)
    new = version_save(story)
    login(client, journalist)

    assert client.get(compare_url(story, old, new)).status_code == 200


def test_compare_is_refused_without_permission_to_view(client, story, newsroom_groups):
    stranger = UserFactory(username="stranger")
    old = version_save(story)
    new = version_save(story)
    login(client, stranger)

    assert client.get(compare_url(story, old, new)).status_code == 403
    assert client.get(history_url(story)).status_code == 403


def test_compare_for_a_reader_offers_no_revert(client, keeper, story):
    old = version_save(story)
    new = version_save(story)
    login(client, keeper)

    response = client.get(compare_url(story, old, new))

    assert response.status_code == 200
    assert "revert to this version" not in response.content.decode()


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?from={old}",
        "?from=abc&to={new}",
        "?from={old}&to=2.5",
        "?from={other}&to={new}",
        "?from={old}&to=999999",
        "?from={old}&to=99999999999999999999999",
        "?from=-1&to={new}",
    ],
)
def test_compare_with_bad_parameters_explains_and_goes_back_to_the_history(
    client, editor, story, query
):
    old = version_save(story)
    new = version_save(story)
    other = version_save(StoryFactory())
    login(client, editor)
    url = reverse("admin:issues_story_history_compare", args=[story.pk])

    response = client.get(url + query.format(old=old.pk, new=new.pk, other=other.pk))

    assert response.status_code == 302
    assert response.url == history_url(story)
    (message,) = messages_of(client.get(response.url))
    assert message.startswith(("Choose two versions", "These are not two versions of this story"))


def test_compare_of_a_story_that_does_not_exist_goes_to_the_index(client, editor):
    login(client, editor)

    response = client.get(
        reverse("admin:issues_story_history_compare", args=["404"]) + "?from=1&to=2"
    )

    assert response.status_code == 302
    assert response.url == reverse("admin:index")


def test_compare_of_one_version_with_itself_shows_no_differences(client, editor, story):
    version = version_save(story)
    login(client, editor)

    response = client.get(compare_url(story, version, version))

    assert response.status_code == 200
    assert "No differences between these two versions." in response.content.decode()


# Issues -------------------------------------------------------------------------------------


@pytest.fixture
def issue(db):
    """An issue and its stories, each with a first version, as the importer leaves them."""
    issue = IssueFactory(title="The Kremlin view", intro="Hello! This week: talks.")
    stories = [
        StoryFactory(issue=issue, position=position, headline=headline)
        for position, headline in enumerate(["First story", "Second story", "Third story"], 1)
    ]
    version_save(issue, *stories, comment="Imported")
    return issue


def issue_change_url(issue):
    return reverse("admin:issues_issue_change", args=[issue.pk])


def test_issue_compare_shows_title_and_the_new_order_of_stories(client, editor, issue):
    login(client, editor)
    url = issue_change_url(issue)
    data = changeform_data(client.get(url))
    first, second, _ = issue.stories.order_by("position")
    data["title"] = "The Kremlin\N{RIGHT SINGLE QUOTATION MARK}s view"
    data[f"stories-{form_index(data, 'stories', first.pk)}-position"] = "2"
    data[f"stories-{form_index(data, 'stories', second.pk)}-position"] = "1"
    assert client.post(url, data).status_code == 302
    old, new = versions_of(issue)

    response = client.get(compare_url(issue, old, new))

    assert response.status_code == 200
    number, title, intro, stories = response.context["diff"].parts
    assert (number.changed, title.changed, intro.changed) == (False, True, False)
    assert [row.old.text for row in stories.rows] == [
        "Second story",
        "First story",
        "Third story",
    ]
    assert [row.new.text for row in stories.rows] == [
        "Second story",
        "First story",
        "Third story",
    ]
    assert [row.old_number for row in stories.rows] == [2, 1, 3]
    assert stories.summary == "1 moved"
    assert "<ins>\N{RIGHT SINGLE QUOTATION MARK}s</ins>" in response.content.decode()


def test_issue_history_page_offers_versions_to_compare_with_revisions(client, editor, issue):
    login(client, editor)
    url = issue_change_url(issue)
    assert client.post(url, {**changeform_data(client.get(url)), "title": "New"}).status_code == 302
    old, new = versions_of(issue)

    page = client.get(history_url(issue)).content.decode()

    assert page.count('type="radio" name="to"') == 2
    assert compare_url(issue, old, new).replace("&", "&amp;") in page
    # The issue's own counter: the import's version, then the edit's.
    assert 'revision">revision 1<' in page
    assert 'revision">revision 2<' in page


def test_issue_snapshots_load_follows_stories_in_and_out_of_the_issue(client, editor, issue):
    login(client, editor)
    first_version = version_save(issue)
    leaving = issue.stories.get(headline="Second story")
    other = IssueFactory(newsletter=issue.newsletter)
    assert save_story(client, leaving, issue=str(other.pk), position="1").status_code == 302
    joining = StoryFactory(issue=None, position=None, headline="A late story")
    assert save_story(client, joining, issue=str(issue.pk), position="").status_code == 302
    deleted = issue.stories.get(headline="Third story")
    version_save(deleted)
    client.post(reverse("admin:issues_story_delete", args=[deleted.pk]), {"post": "yes"})
    last_version = version_save(issue)

    before, after = issue_snapshots_load([first_version, last_version])

    assert [story.text for story in before.stories] == [
        "First story",
        "Second story",
        "Third story",
    ]
    assert [story.text for story in after.stories] == ["First story", "A late story"]


# Recovering a deleted story -----------------------------------------------------------------


def test_recover_brings_back_a_deleted_story_with_its_blocks(client, editor, story):
    login(client, editor)
    BlockFactory(story=story, position=4, kind=Block.Kind.BULLET, text="A bullet point.")
    story.authors.add(editor)
    save_story(client, story, headline="Talks: what to expect")
    texts = list(story.blocks.order_by("position").values_list("kind", "text"))
    story_id = story.pk
    assert (
        client.post(
            reverse("admin:issues_story_delete", args=[story.pk]), {"post": "yes"}
        ).status_code
        == 302
    )
    assert not Story.objects.filter(pk=story_id).exists()
    assert not Block.objects.filter(story_id=story_id).exists()

    listing = client.get(reverse("admin:issues_story_recoverlist"))
    deleted = Version.objects.get_deleted(Story).get()
    recover_url = reverse("admin:issues_story_recover", args=[deleted.pk])
    assert recover_url in listing.content.decode()
    assert "Talks: what to expect" in listing.content.decode()
    preview = client.get(recover_url)
    assert preview.status_code == 200
    assert not Story.objects.filter(pk=story_id).exists()  # a preview changes nothing
    response = client.post(recover_url, changeform_data(preview))

    assert response.status_code == 302
    recovered = Story.objects.get(pk=story_id)
    assert recovered.headline == "Talks: what to expect"
    assert list(recovered.blocks.order_by("position").values_list("kind", "text")) == texts
    assert list(recovered.authors.all()) == [editor]
    assert not Version.objects.get_deleted(Story).exists()
    # Its history goes on, and the recovered version compares with the one before.
    versions = versions_of(recovered)
    assert "Reverted" in versions[-1].revision.get_comment()
    assert client.get(compare_url(recovered, versions[-2], versions[-1])).status_code == 200
