"""People by name (issues/people.py, issues/admin/people.py): the story's authors picker, the
story list's authors filter and column, and the sources admin's lists, where a newcomer saw
usernames."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.template import Context, Template
from django.urls import reverse

from issues.people import people_by_name, person_label, person_name
from tests.factories import StoryFactory, UserFactory
from tests.issues.test_admin import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def writers(newsroom_groups):
    """Three writers whose usernames sort the other way round from their names."""
    return {
        "zed": UserFactory(username="aa-zed", first_name="Zoya", last_name="Zorina"),
        "anna": UserFactory(username="zz-anna", first_name="Anna", last_name="Ivanova"),
        "nameless": UserFactory(username="mm-kirill"),
    }


def test_person_name_is_the_full_name_or_else_the_username(writers):
    assert person_name(writers["anna"]) == "Anna Ivanova"
    assert person_name(writers["nameless"]) == "mm-kirill"
    assert person_name(None) == ""
    assert person_label(writers["anna"]) == "Anna Ivanova (zz-anna)"
    assert person_label(writers["nameless"]) == "mm-kirill"


def test_people_by_name_orders_by_last_name_with_the_nameless_among_them(writers):
    everyone = get_user_model().objects.filter(pk__in=[w.pk for w in writers.values()])

    people = people_by_name(everyone)

    assert [person.username for person in people] == ["zz-anna", "mm-kirill", "aa-zed"]


def test_story_authors_picker_shows_full_names_ordered_by_name(client, editor, writers):
    login(client, editor)

    response = client.get(reverse("admin:issues_story_add"))
    field = response.context["adminform"].form.fields["authors"]
    labels = [label for _value, label in field.choices]
    page = response.content.decode()

    assert labels.index("Anna Ivanova (zz-anna)") < labels.index("mm-kirill")
    assert labels.index("mm-kirill") < labels.index("Zoya Zorina (aa-zed)")
    assert re.search(
        r'<input type="checkbox" name="authors"[^>]*>\s*Anna Ivanova \(zz-anna\)</label>', page
    )


def test_story_authors_picker_keeps_a_departed_author_by_name(client, editor, writers):
    departed = UserFactory(username="gone", first_name="Olga", last_name="Gone", is_active=False)
    story = StoryFactory(authors=[departed, writers["anna"]])
    login(client, editor)

    response = client.get(reverse("admin:issues_story_change", args=[story.pk]))
    field = response.context["adminform"].form.fields["authors"]
    labels = [label for _value, label in field.choices]

    assert "Olga Gone (gone)" in labels
    assert labels.count("Anna Ivanova (zz-anna)") == 1


def test_story_list_filter_and_column_name_authors_by_full_name(client, editor, writers):
    StoryFactory(headline="By Anna", authors=[writers["anna"]])
    StoryFactory(headline="By Zoya and Kirill", authors=[writers["zed"], writers["nameless"]])
    login(client, editor)

    response = client.get(reverse("admin:issues_story_changelist"))
    (authors_filter,) = [
        spec
        for spec in response.context["cl"].filter_specs
        if getattr(spec, "field_path", None) == "authors"
    ]
    page = response.content.decode()

    assert authors_filter.lookup_choices == [
        (writers["anna"].pk, "Anna Ivanova"),
        (writers["nameless"].pk, "mm-kirill"),
        (writers["zed"].pk, "Zoya Zorina"),
    ]
    assert "Zoya Zorina, mm-kirill" in page or "mm-kirill, Zoya Zorina" in page
    assert "zz-anna" not in page and "aa-zed" not in page


def test_story_list_filter_by_author_still_filters(client, editor, writers):
    StoryFactory(headline="By Anna", authors=[writers["anna"]])
    StoryFactory(headline="By Zoya", authors=[writers["zed"]])
    login(client, editor)

    response = client.get(
        reverse("admin:issues_story_changelist"), {"authors__id__exact": writers["zed"].pk}
    )

    assert [story.headline for story in response.context["cl"].result_list] == ["By Zoya"]


def test_newsletter_default_author_picker_shows_full_names(client, editor, writers):
    editor.is_superuser = True
    editor.save()
    login(client, editor)

    response = client.get(reverse("admin:issues_newsletter_add"))
    field = response.context["adminform"].form.fields["default_author"]
    labels = [label for _value, label in field.choices]

    assert "Anna Ivanova (zz-anna)" in labels


def test_person_filter_names_the_person_in_templates(writers):
    template = Template("{% load issues_admin %}{{ user|person }}|{{ nobody|person }}")

    assert template.render(Context({"user": writers["anna"], "nobody": None})) == "Anna Ivanova|"
