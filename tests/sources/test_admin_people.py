"""The sources admin names people by their full names: the grants and the reveal log, their
filters, and the source's handler."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sources.services import access_grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_grants_list_and_filter_name_people_by_full_name(
    client, source, keeper, journalist, editor
):
    journalist.first_name, journalist.last_name = "Jonas", "Journalist"
    journalist.save()
    keeper.first_name, keeper.last_name = "Karin", "Keeper"
    keeper.save()
    for user in (journalist, editor):
        access_grant(
            source=source,
            user=user,
            granted_by=keeper,
            reason="Needs to check the story.",
            expires_at=timezone.now() + timedelta(days=3),
        )
    client.force_login(keeper)

    response = client.get(reverse("admin:sources_accessgrant_changelist"))
    page = response.content.decode()
    (people_filter,) = [
        spec for spec in response.context["cl"].filter_specs if spec.field_path == "user"
    ]

    # The editor has no name set: by username, among the others by name.
    assert people_filter.lookup_choices == [
        (editor.pk, "editor"),
        (journalist.pk, "Jonas Journalist"),
    ]
    assert '<td class="field-user_name">Jonas Journalist</td>' in page
    assert '<td class="field-granted_by_name">Karin Keeper</td>' in page


def test_grant_form_picks_people_by_full_name(client, keeper, newsroom_groups):
    UserFactory(username="z-ada", first_name="Ada", last_name="Lovelace")
    client.force_login(keeper)

    response = client.get(reverse("admin:sources_accessgrant_add"))
    labels = [label for _v, label in response.context["adminform"].form.fields["user"].choices]

    assert "Ada Lovelace (z-ada)" in labels


def test_source_page_and_list_name_the_handler_by_full_name(client, source, editor):
    handler = source.handler
    handler.first_name, handler.last_name = "Jonas", "Journalist"
    handler.save()
    client.force_login(editor)

    listing = client.get(reverse("admin:sources_source_changelist")).content.decode()
    page = client.get(reverse("admin:sources_source_change", args=[source.pk])).content.decode()

    assert "Jonas Journalist" in listing
    assert "Jonas Journalist" in page
