"""The newsroom's admin, driven through the Django test client.

Run on SQLite and on PostgreSQL: the reordering tests exist because PostgreSQL checks the
non-deferrable position constraints row by row.
"""

import pytest
from django.urls import reverse
from reversion.models import Version

from bellcms.health import worker_heartbeat_record
from issues.models import Block, Issue, Story
from issues.ordering import positions_save
from tests.factories import (
    TEST_PASSWORD,
    BlockFactory,
    IssueFactory,
    NewsletterFactory,
    StoryFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


def form_values(form):
    """What a browser would post for ``form`` as rendered: its bound or initial values."""
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        key = form.add_prefix(name)
        if field.show_hidden_initial:
            # The hidden copy of the value as shown, which the page sends back unchanged.
            shown = form.get_initial_for_field(field, name)
            data[form.add_initial_prefix(name)] = str(getattr(shown, "pk", shown) or "")
        if value is None or value is False:
            continue
        if value is True:
            data[key] = "on"
        elif isinstance(value, list | tuple):
            data[key] = [str(getattr(item, "pk", item)) for item in value]
        else:
            data[key] = str(getattr(value, "pk", value))
    return data


def changeform_data(response):
    """The POST data of an admin change page, unchanged, as the browser would send it."""
    data = form_values(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        data.update(form_values(formset.management_form))
        for form in formset.forms:
            data.update(form_values(form))
    return data


def story_change_url(story):
    return reverse("admin:issues_story_change", args=[story.pk])


def issue_change_url(issue):
    return reverse("admin:issues_issue_change", args=[issue.pk])


def block_texts(story):
    return list(story.blocks.order_by("position").values_list("text", flat=True))


def block_positions(story):
    return list(story.blocks.order_by("position").values_list("position", flat=True))


def headlines(issue):
    return list(issue.stories.order_by("position").values_list("headline", flat=True))


def form_index(data, prefix, pk):
    """The index of the inline form that edits the row ``pk``."""
    for key, value in data.items():
        if key.startswith(f"{prefix}-") and key.endswith("-id") and value == str(pk):
            return int(key.split("-")[1])
    raise AssertionError(f"no {prefix} form for {pk}")


@pytest.fixture
def story():
    story = StoryFactory(headline="Putin-Trump talks: What to expect", position=1)
    for position, text in enumerate(["Alpha paragraph.", "Bravo paragraph.", "Charlie."], 1):
        BlockFactory(story=story, position=position, text=text)
    return story


@pytest.fixture
def issue():
    issue = IssueFactory(title="The Kremlin view", intro="Hello! This week: talks.")
    for position, headline in enumerate(["First story", "Second story", "Third story"], 1):
        StoryFactory(issue=issue, position=position, headline=headline)
    return issue


def save_story(client, story, **changes):
    """Open the story's change page, change some values by block text, and save it."""
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data.update(changes)
    return client.post(url, data)


def block_key(data, story, text, field):
    block = story.blocks.get(text=text)
    return f"blocks-{form_index(data, 'blocks', block.pk)}-{field}"


# Reordering ---------------------------------------------------------------------------------


def test_story_admin_swaps_two_blocks(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Alpha paragraph.", "position")] = "2"
    data[block_key(data, story, "Bravo paragraph.", "position")] = "1"

    response = client.post(url, data)

    assert response.status_code == 302, response.context and response.context["errors"]
    assert block_texts(story) == ["Bravo paragraph.", "Alpha paragraph.", "Charlie."]
    assert block_positions(story) == [1, 2, 3]


def test_issue_admin_swaps_two_stories(client, editor, issue):
    login(client, editor)
    url = issue_change_url(issue)
    data = changeform_data(client.get(url))
    first, second = issue.stories.order_by("position")[:2]
    data[f"stories-{form_index(data, 'stories', first.pk)}-position"] = "2"
    data[f"stories-{form_index(data, 'stories', second.pk)}-position"] = "1"

    response = client.post(url, data)

    assert response.status_code == 302
    assert headlines(issue) == ["Second story", "First story", "Third story"]
    assert list(issue.stories.values_list("position", flat=True).order_by("position")) == [1, 2, 3]


def test_story_admin_duplicate_positions_put_the_moved_row_first(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Charlie.", "position")] = "1"

    assert client.post(url, data).status_code == 302
    assert block_texts(story) == ["Charlie.", "Alpha paragraph.", "Bravo paragraph."]


def test_story_admin_keeps_previous_order_among_unmoved_ties(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    for text in ["Alpha paragraph.", "Bravo paragraph.", "Charlie."]:
        data[block_key(data, story, text, "position")] = "7"

    assert client.post(url, data).status_code == 302
    assert block_texts(story) == ["Alpha paragraph.", "Bravo paragraph.", "Charlie."]
    assert block_positions(story) == [1, 2, 3]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "A position is a whole number, such as 3."),
        ("2.5", "A position is a whole number, such as 3."),
        ("0", "Positions start at 1."),
        ("-4", "Positions start at 1."),
    ],
)
def test_story_admin_rejects_garbage_positions(client, editor, story, value, message):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Bravo paragraph.", "position")] = value

    response = client.post(url, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert block_texts(story) == ["Alpha paragraph.", "Bravo paragraph.", "Charlie."]


def test_story_admin_deletes_then_inserts_blocks_in_one_save(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Alpha paragraph.", "DELETE")] = "on"
    new = int(data["blocks-TOTAL_FORMS"]) - 1  # the empty extra row
    data[f"blocks-{new}-position"] = "1"
    data[f"blocks-{new}-kind"] = Block.Kind.HEADING
    heading = "Trump\N{RIGHT SINGLE QUOTATION MARK}s signals"
    data[f"blocks-{new}-text"] = heading

    assert client.post(url, data).status_code == 302
    assert block_texts(story) == [heading, "Bravo paragraph.", "Charlie."]
    assert block_positions(story) == [1, 2, 3]
    assert story.blocks.get(position=1).kind == Block.Kind.HEADING


def test_story_admin_new_block_offers_the_next_position(client, editor, story):
    login(client, editor)
    response = client.get(story_change_url(story))
    new = int(response.context["inline_admin_formsets"][0].formset.total_form_count()) - 1

    assert response.context["inline_admin_formsets"][0].formset.forms[new]["position"].value() == 4


def test_story_admin_new_block_without_position_goes_last(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    new = int(data["blocks-TOTAL_FORMS"]) - 1
    data[f"blocks-{new}-position"] = ""
    data[f"blocks-{new}-text"] = "A closing bullet."
    data[f"blocks-{new}-kind"] = Block.Kind.BULLET

    assert client.post(url, data).status_code == 302
    assert block_texts(story)[-1] == "A closing bullet."
    assert block_positions(story) == [1, 2, 3, 4]


def test_story_admin_ignores_an_empty_new_row_that_only_has_a_number(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    new = int(data["blocks-TOTAL_FORMS"]) - 1
    # The ordering script numbers every row, this empty one included.
    data[f"blocks-{new}-position"] = "1"

    assert client.post(url, data).status_code == 302
    assert story.blocks.count() == 3


def test_story_admin_places_story_in_an_issue_and_closes_the_gap_it_leaves(client, editor, issue):
    login(client, editor)
    moving = issue.stories.get(headline="First story")
    other = IssueFactory(newsletter=issue.newsletter)
    StoryFactory(issue=other, position=1, headline="Other lead")

    response = save_story(client, moving, issue=str(other.pk), position="1")

    assert response.status_code == 302
    assert headlines(other) == ["First story", "Other lead"]
    assert headlines(issue) == ["Second story", "Third story"]
    assert list(issue.stories.order_by("position").values_list("position", flat=True)) == [1, 2]


def test_story_admin_taking_a_story_out_of_its_issue_clears_its_position(client, editor, issue):
    login(client, editor)
    story = issue.stories.get(headline="Second story")

    assert save_story(client, story, issue="").status_code == 302
    story.refresh_from_db()
    assert (story.issue, story.position) == (None, None)
    assert headlines(issue) == ["First story", "Third story"]


def test_story_admin_delete_closes_the_gap(client, editor, issue):
    login(client, editor)
    story = issue.stories.get(headline="First story")
    url = reverse("admin:issues_story_delete", args=[story.pk])

    assert client.post(url, {"post": "yes"}).status_code == 302
    assert list(issue.stories.order_by("position").values_list("position", flat=True)) == [1, 2]


def test_issue_admin_reordering_leaves_unmoved_stories_out_of_their_history(client, editor, issue):
    login(client, editor)
    url = issue_change_url(issue)
    data = changeform_data(client.get(url))
    first, second, third = issue.stories.order_by("position")
    data[f"stories-{form_index(data, 'stories', first.pk)}-position"] = "2"
    data[f"stories-{form_index(data, 'stories', second.pk)}-position"] = "1"

    assert client.post(url, data).status_code == 302
    assert Version.objects.get_for_object(first).count() == 1
    assert Version.objects.get_for_object(third).count() == 0


def test_positions_save_renumbers_a_sparse_list(story):
    story.blocks.filter(text="Charlie.").update(position=40)
    story.blocks.filter(text="Bravo paragraph.").update(position=17)

    positions_save(parent=story, related_name="blocks", instances=[])

    assert block_positions(story) == [1, 2, 3]
    assert block_texts(story) == ["Alpha paragraph.", "Bravo paragraph.", "Charlie."]


# Revisions and versions ---------------------------------------------------------------------


def test_story_admin_save_increments_revision_and_records_comment(client, editor, story):
    login(client, editor)

    assert (
        save_story(client, story, headline="Putin-Trump talks: what to expect").status_code == 302
    )
    assert save_story(client, story, takeaway="It matters more.").status_code == 302

    story.refresh_from_db()
    assert story.revision == 3
    latest = Version.objects.get_for_object(story).first()
    assert latest.revision.user == editor
    assert "Revision 3." in latest.revision.get_comment()
    assert latest.field_dict["revision"] == 3


def test_story_admin_save_without_changes_keeps_the_revision(client, editor, story):
    login(client, editor)

    assert save_story(client, story).status_code == 302

    story.refresh_from_db()
    assert story.revision == 1


def test_story_admin_refuses_a_save_based_on_an_older_revision(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    mine = changeform_data(client.get(url))
    theirs = changeform_data(client.get(url))
    assert client.post(url, {**theirs, "headline": "Their headline"}).status_code == 302

    response = client.post(url, {**mine, "headline": "My headline"})

    assert response.status_code == 200
    assert "Someone else saved this story (now revision 2) after you opened revision 1." in (
        response.content.decode()
    )
    story.refresh_from_db()
    assert (story.headline, story.revision) == ("Their headline", 2)


def test_story_admin_adding_a_story_starts_at_revision_one(client, editor, issue):
    login(client, editor)
    url = reverse("admin:issues_story_add")
    data = changeform_data(client.get(url))
    new_block = "blocks-0"
    data.update(
        {
            "headline": "Fake news scandals hit Russian independent media",
            "issue": str(issue.pk),
            "position": "",
            f"{new_block}-position": "1",
            f"{new_block}-kind": Block.Kind.PARAGRAPH,
            f"{new_block}-text": "One of the biggest scandals.",
        }
    )

    assert client.post(url, data).status_code == 302
    story = Story.objects.get(headline__startswith="Fake news")
    assert (story.revision, story.position) == (1, 4)
    assert block_texts(story) == ["One of the biggest scandals."]
    assert Version.objects.get_for_object(story).count() == 1


def test_story_admin_version_records_the_order_it_saved(client, editor, story):
    login(client, editor)
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Alpha paragraph.", "position")] = "3"
    assert client.post(url, data).status_code == 302

    revision = Version.objects.get_for_object(story).first().revision
    saved = {
        version.field_dict["text"]: version.field_dict["position"]
        for version in revision.version_set.all()
        if version.content_type.model == "block"
    }
    assert saved == {"Bravo paragraph.": 1, "Charlie.": 2, "Alpha paragraph.": 3}


def test_story_admin_history_lists_versions_with_user_and_comment(client, editor, story):
    login(client, editor)
    save_story(client, story, headline="Talks: what to expect")

    response = client.get(reverse("admin:issues_story_history", args=[story.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert editor.username in page
    assert "Changed Headline. Revision 2." in page


def test_story_admin_revert_restores_text_and_order(client, editor, story):
    login(client, editor)
    save_story(client, story)  # the version to come back to
    first = Version.objects.get_for_object(story).first()
    url = story_change_url(story)
    data = changeform_data(client.get(url))
    data[block_key(data, story, "Alpha paragraph.", "position")] = "2"
    data[block_key(data, story, "Bravo paragraph.", "position")] = "1"
    data[block_key(data, story, "Charlie.", "text")] = "Charlie, rewritten."
    client.post(url, data)
    assert block_texts(story) == ["Bravo paragraph.", "Alpha paragraph.", "Charlie, rewritten."]
    revert_url = reverse("admin:issues_story_revision", args=[story.pk, first.pk])

    preview = client.get(revert_url)
    assert preview.status_code == 200
    assert block_texts(story) == ["Bravo paragraph.", "Alpha paragraph.", "Charlie, rewritten."]

    response = client.post(revert_url, changeform_data(preview))

    assert response.status_code == 302
    assert block_texts(story) == ["Alpha paragraph.", "Bravo paragraph.", "Charlie."]
    assert block_positions(story) == [1, 2, 3]
    story.refresh_from_db()
    # Revision 1 came back with the old text, yet the counter goes on from 2.
    assert story.revision == 3
    assert "Reverted" in Version.objects.get_for_object(story).first().revision.get_comment()


def test_story_admin_revert_puts_story_back_in_its_old_place(client, editor, issue):
    login(client, editor)
    story = issue.stories.get(headline="Third story")
    save_story(client, story, position="1")
    assert headlines(issue) == ["Third story", "First story", "Second story"]
    save_story(client, story, position="3")
    at_one = Version.objects.get_for_object(story)[1]

    preview = client.get(reverse("admin:issues_story_revision", args=[story.pk, at_one.pk]))
    response = client.post(
        reverse("admin:issues_story_revision", args=[story.pk, at_one.pk]),
        changeform_data(preview),
    )

    assert response.status_code == 302
    assert headlines(issue) == ["Third story", "First story", "Second story"]
    assert list(issue.stories.order_by("position").values_list("position", flat=True)) == [1, 2, 3]


def test_story_admin_recover_brings_back_a_deleted_story(client, editor, issue):
    login(client, editor)
    story = issue.stories.get(headline="Second story")
    BlockFactory(story=story, position=1, text="Recovered paragraph.")
    save_story(client, story)
    client.post(reverse("admin:issues_story_delete", args=[story.pk]), {"post": "yes"})
    assert headlines(issue) == ["First story", "Third story"]
    deleted = Version.objects.get_deleted(Story).get()
    recover_url = reverse("admin:issues_story_recover", args=[deleted.pk])

    assert client.get(reverse("admin:issues_story_recoverlist")).status_code == 200
    preview = client.get(recover_url)
    response = client.post(recover_url, changeform_data(preview))

    assert response.status_code == 302
    assert headlines(issue) == ["First story", "Second story", "Third story"]
    assert block_texts(Story.objects.get(headline="Second story")) == ["Recovered paragraph."]


def test_issue_admin_revert_restores_the_title(client, editor, issue):
    login(client, editor)
    url = issue_change_url(issue)
    client.post(url, changeform_data(client.get(url)))
    first = Version.objects.get_for_object(issue).first()
    client.post(url, {**changeform_data(client.get(url)), "title": "A new title"})
    revert_url = reverse("admin:issues_issue_revision", args=[issue.pk, first.pk])

    response = client.post(revert_url, changeform_data(client.get(revert_url)))

    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.title == "The Kremlin view"


# Roles --------------------------------------------------------------------------------------

PAGES = ["issue_list", "issue_change", "issue_add", "story_list", "story_change", "story_add"]
ALLOWED = {
    "editor": set(PAGES),
    "journalist": {"issue_list", "issue_change", "story_list", "story_change", "story_add"},
    "keeper": {"issue_list", "issue_change", "story_list", "story_change"},
    "nobody": set(),
}


def page_url(page, issue):
    story = issue.stories.first()
    return {
        "issue_list": reverse("admin:issues_issue_changelist"),
        "issue_change": issue_change_url(issue),
        "issue_add": reverse("admin:issues_issue_add"),
        "story_list": reverse("admin:issues_story_changelist"),
        "story_change": story_change_url(story),
        "story_add": reverse("admin:issues_story_add"),
    }[page]


@pytest.fixture
def role_user(request, db):
    role = request.param
    groups = {"editor": ["Editors"], "journalist": ["Journalists"], "keeper": ["Source keepers"]}
    return role, UserFactory(username=role, groups=groups.get(role, []))


@pytest.mark.parametrize("role_user", list(ALLOWED), indirect=True)
@pytest.mark.parametrize("page", PAGES)
def test_admin_pages_follow_the_role_permissions(client, role_user, page, issue):
    role, user = role_user
    if role == "journalist":
        issue.stories.first().authors.add(user)
    login(client, user)

    response = client.get(page_url(page, issue))

    assert response.status_code == (200 if page in ALLOWED[role] else 403)


@pytest.mark.parametrize(
    ("role", "page", "status"),
    [
        ("journalist", "issue_change", 403),
        ("keeper", "issue_change", 403),
        ("keeper", "story_change", 403),
        ("journalist", "story_change", 302),
        ("editor", "issue_change", 302),
    ],
)
def test_admin_saves_follow_the_role_permissions(client, issue, editor, role, page, status):
    user = {"editor": editor}.get(role) or UserFactory(
        username=role, groups=[{"journalist": "Journalists", "keeper": "Source keepers"}[role]]
    )
    url = page_url(page, issue)
    issue.stories.first().authors.add(user)
    data = changeform_data(login(client, editor).get(url))
    login(client, user)

    assert client.post(url, data).status_code == status


def test_journalist_sees_issue_stories_without_reordering_them(client, journalist, issue):
    login(client, journalist)

    response = client.get(issue_change_url(issue))

    page = response.content.decode()
    assert 'name="stories-0-position"' not in page
    assert "First story" in page


def test_journalist_cannot_place_a_story_in_an_issue(client, journalist, issue):
    login(client, journalist)
    story = issue.stories.get(headline="Second story")
    story.authors.add(journalist)

    page = client.get(story_change_url(story)).content.decode()
    assert 'name="issue"' not in page
    assert 'name="position"' not in page
    assert 'name="blocks-0-text"' in page

    save_story(client, story, issue="", position="1", headline="Second story, edited")
    story.refresh_from_db()
    assert (story.issue, story.position, story.headline) == (issue, 2, "Second story, edited")


def test_newsletter_admin_is_viewable_by_every_role(client, journalist, keeper):
    newsletter = NewsletterFactory()
    for user in (journalist, keeper):
        login(client, user)
        url = reverse("admin:issues_newsletter_change", args=[newsletter.pk])
        assert client.get(url).status_code == 200
        assert client.get(reverse("admin:issues_newsletter_changelist")).status_code == 200


# Lists: search and filters ------------------------------------------------------------------


def changelist_names(response):
    return [str(row) for row in response.context["cl"].result_list]


def test_story_search_finds_a_word_inside_a_block(client, keeper, story):
    StoryFactory(headline="Fake news scandals hit Russian independent media")
    BlockFactory(story=story, position=4, text="A source close to the Kremlin told The Bell.")
    login(client, keeper)

    response = client.get(reverse("admin:issues_story_changelist"), {"q": "Kremlin"})

    assert changelist_names(response) == ["Putin-Trump talks: What to expect"]


def test_story_search_finds_headline_and_takeaway(client, keeper, story):
    StoryFactory(headline="Fake news scandals", takeaway="Fact-checking gets stricter.")
    login(client, keeper)
    url = reverse("admin:issues_story_changelist")

    assert changelist_names(client.get(url, {"q": "Putin-Trump"})) == [story.headline]
    assert changelist_names(client.get(url, {"q": "fact-checking"})) == ["Fake news scandals"]


def test_story_filters_by_status_newsletter_issue_and_author(client, editor, journalist, issue):
    other_newsletter = NewsletterFactory(name="Evening", slug="evening", kicker="EVENING")
    elsewhere = StoryFactory(issue=IssueFactory(newsletter=other_newsletter), headline="Elsewhere")
    elsewhere.authors.add(journalist)
    Story.objects.filter(headline="Second story").update(status=Story.Status.SUBMITTED)
    login(client, editor)
    url = reverse("admin:issues_story_changelist")

    by_status = client.get(url, {"status__exact": "submitted"})
    by_newsletter = client.get(url, {"issue__newsletter__id__exact": other_newsletter.pk})
    by_issue = client.get(url, {"issue__id__exact": issue.pk})
    by_author = client.get(url, {"authors__id__exact": journalist.pk})

    assert changelist_names(by_status) == ["Second story"]
    assert changelist_names(by_newsletter) == ["Elsewhere"]
    assert sorted(changelist_names(by_issue)) == ["First story", "Second story", "Third story"]
    assert changelist_names(by_author) == ["Elsewhere"]


def test_issue_search_by_title_intro_and_story_headline(client, editor, issue):
    IssueFactory(title="Another week", intro="Hello! Nothing about talks here either.")
    login(client, editor)
    url = reverse("admin:issues_issue_changelist")

    assert changelist_names(client.get(url, {"q": "Kremlin"})) == [str(issue)]
    assert changelist_names(client.get(url, {"q": "Third story"})) == [str(issue)]
    assert len(changelist_names(client.get(url, {"q": "talks"}))) == 2


def test_issue_list_shows_story_counts_and_filters(client, editor, issue):
    other_newsletter = NewsletterFactory(name="Evening", slug="evening", kicker="EVENING")
    IssueFactory(newsletter=other_newsletter, title="Evening edition")
    Issue.objects.filter(pk=issue.pk).update(status=Issue.Status.APPROVED)
    login(client, editor)
    url = reverse("admin:issues_issue_changelist")

    # The search joins the stories; the counts must not multiply.
    searched = client.get(url, {"q": "story"})
    by_newsletter = client.get(url, {"newsletter__id__exact": other_newsletter.pk})
    by_status = client.get(url, {"status__exact": "approved"})

    assert [row.story_count for row in searched.context["cl"].result_list] == [3]
    assert changelist_names(by_newsletter) == [str(Issue.objects.get(title="Evening edition"))]
    assert changelist_names(by_status) == [str(issue)]


def test_issue_change_page_lists_stories_in_order_with_links(client, editor, issue):
    story = issue.stories.get(headline="Second story")
    story.authors.add(editor)
    Story.objects.filter(pk=story.pk).update(status=Story.Status.SUBMITTED)
    login(client, editor)

    page = client.get(issue_change_url(issue)).content.decode()

    assert page.index("First story") < page.index("Second story") < page.index("Third story")
    assert f'href="{story_change_url(story)}">Second story</a>' in page
    assert "Submitted" in page


# Index --------------------------------------------------------------------------------------


def test_admin_index_warns_when_no_worker_was_seen(client, editor):
    login(client, editor)

    page = client.get(reverse("admin:index")).content.decode()

    assert "No background worker has been seen." in page


def test_admin_index_shows_when_the_worker_was_last_seen(client, editor):
    worker_heartbeat_record()
    login(client, editor)

    page = client.get(reverse("admin:index")).content.decode()

    assert "Background worker: last seen 0 s ago" in page


@pytest.fixture(autouse=True)
def _clear_heartbeat():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


# Whose stories, and whose order ---------------------------------------------------------------


def test_journalist_neither_sees_nor_changes_a_colleagues_story(client, journalist, issue):
    own, colleagues = (
        issue.stories.get(headline="First story"),
        issue.stories.get(headline="Second story"),
    )
    own.authors.add(journalist)
    colleagues.authors.add(UserFactory(username="colleague", groups=["Journalists"]))
    login(client, journalist)

    listing = client.get(reverse("admin:issues_story_changelist")).content.decode()
    assert "First story" in listing
    assert "Second story" not in listing
    assert client.get(story_change_url(colleagues)).status_code == 404
    assert client.post(story_change_url(colleagues), {"headline": "Hijacked"}).status_code == 404
    colleagues.refresh_from_db()
    assert colleagues.headline == "Second story"


def test_journalist_becomes_the_author_of_the_story_they_start(client, journalist):
    login(client, journalist)
    url = reverse("admin:issues_story_add")
    data = changeform_data(client.get(url))
    data.update({"headline": "A story of my own", "blocks-0-text": "Its first paragraph."})

    assert client.post(url, data).status_code == 302

    story = Story.objects.get(headline="A story of my own")
    assert list(story.authors.all()) == [journalist]
    listing = client.get(reverse("admin:issues_story_changelist")).content.decode()
    assert "A story of my own" in listing


def test_story_save_keeps_an_issue_order_changed_since_the_form_was_opened(client, editor, issue):
    first = issue.stories.get(headline="First story")
    login(client, editor)
    stale = changeform_data(client.get(story_change_url(first)))
    # Meanwhile another editor moves the story to the end of the issue.
    data = changeform_data(client.get(issue_change_url(issue)))
    for key, value in list(data.items()):
        if key.endswith("-id") and value == str(first.pk):
            data[key.replace("-id", "-position")] = "9"
    assert client.post(issue_change_url(issue), data).status_code == 302
    assert headlines(issue) == ["Second story", "Third story", "First story"]

    stale["headline"] = "First story, typo fixed"
    assert client.post(story_change_url(first), stale).status_code == 302

    assert headlines(issue) == ["Second story", "Third story", "First story, typo fixed"]


def test_story_save_keeps_an_author_whose_account_is_inactive(client, editor, story):
    departed = UserFactory(username="departed", is_active=False)
    story.authors.add(departed)
    login(client, editor)

    assert save_story(client, story, headline="Edited after they left").status_code == 302

    assert list(story.authors.all()) == [departed]


def test_issue_page_links_to_the_email_preview(client, editor, issue):
    login(client, editor)

    page = client.get(issue_change_url(issue)).content.decode()

    preview_url = reverse("subscribers:issue_email_preview", kwargs={"issue_id": issue.pk})
    assert f'href="{preview_url}"' in page
    preview = client.get(preview_url)
    assert preview.status_code == 200
    assert issue.title in preview.content.decode()
