"""`manage.py demo`: the sample issue and one user per role, with the passwords it prints."""

import io

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from issues.models import Issue, Story

pytestmark = pytest.mark.django_db


def run_demo():
    out = io.StringIO()
    call_command("demo", stdout=out)
    lines = out.getvalue().splitlines()
    passwords = dict(line.split() for line in lines if line.startswith("  "))
    return lines, passwords


def test_demo_creates_users_who_can_log_in_with_the_printed_passwords():
    _, passwords = run_demo()
    groups = {
        "editor": "Editors",
        "editor2": "Editors",
        "journalist": "Journalists",
        "keeper": "Source keepers",
        "audience": "Audience",
    }
    assert set(passwords) == set(groups)
    for username, password in passwords.items():
        user = authenticate(username=username, password=password)
        assert user is not None and user.is_staff
        assert list(user.groups.values_list("name", flat=True)) == [groups[username]]


def draft():
    return Issue.objects.get(status=Issue.Status.DRAFT)


def test_demo_imports_the_sample_once_with_the_journalist_as_author(client):
    lines, _ = run_demo()
    issue = draft()
    assert any(line.startswith("Sample issue:") and f"id {issue.pk}" in line for line in lines)
    assert [s.headline for s in issue.stories.order_by("position")] == [
        "Putin-Trump talks: What to expect",
        "Fake news scandals hit Russian independent media",
    ]
    assert set(Story.objects.values_list("authors__username", flat=True)) == {"journalist"}
    # The same text went out a week ago as #1: the public archive has an issue to show.
    (back_issue,) = Issue.objects.published()
    assert (back_issue.number, issue.number) == (1, 2)
    assert set(back_issue.stories.values_list("status", flat=True)) == {"approved"}
    assert client.get(f"/archive/{back_issue.newsletter.slug}/1/").status_code == 200
    assert client.get(f"/archive/{back_issue.newsletter.slug}/2/").status_code == 404

    _, new_passwords = run_demo()
    assert Issue.objects.count() == 2
    assert authenticate(username="editor", password=new_passwords["editor"]) is not None


def test_demo_registers_one_source_the_journalist_can_cite_in_the_sample():
    from sources.citing import unsourced_blocks
    from sources.models import Source

    lines, _ = run_demo()
    run_demo()
    (source,) = Source.objects.all()
    assert source.codename == "KESTREL" and source.handler.username == "journalist"
    assert any(line.startswith("Demo source: KESTREL") for line in lines)
    # The sample's attributed claims wait for the journalist to cite it.
    story = draft().stories.get(position=1)
    assert len(unsourced_blocks(story=story)) == 5
