"""The admin's email preview of an issue and the test copy to the editor."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import BlockFactory, StoryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(newsletter):
    story = StoryFactory(issue__newsletter=newsletter, headline="The shadow fleet")
    BlockFactory(story=story, text="Tankers *sail* on.")
    return story.issue


def test_preview_shows_html_text_and_headers(client, editor, issue):
    client.force_login(editor)
    response = client.get(reverse("subscribers:issue_email_preview", args=[issue.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "The shadow fleet" in page
    assert "srcdoc=" in page and "&lt;em&gt;sail&lt;/em&gt;" in page
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in page
    assert "Send a test copy to me" in page


def test_preview_test_copy_goes_to_the_editor(
    client, editor, issue, django_capture_on_commit_callbacks
):
    client.force_login(editor)
    url = reverse("subscribers:issue_email_preview", args=[issue.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [editor.email]
    assert message.subject.startswith("[Test] THE BELL WEEKLY")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Tankers sail on." in message.body


def test_preview_needs_staff_with_view_permission(client, issue):
    url = reverse("subscribers:issue_email_preview", args=[issue.pk])
    assert client.get(url).status_code == 302  # to the admin login
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url).status_code == 403


def test_preview_is_an_admin_page_with_the_email_in_a_sandboxed_frame(client, editor, issue):
    client.force_login(editor)
    response = client.get(reverse("subscribers:issue_email_preview", args=[issue.pk]))
    page = response.content.decode()
    issue_url = reverse("admin:issues_issue_change", args=[issue.pk])

    # The admin's chrome: its header, the navigation, breadcrumbs back to the issue.
    assert 'id="header"' in page and 'id="nav-sidebar"' in page
    breadcrumbs = page.split('<div class="breadcrumbs">')[1].split("</div>")[0]
    assert f'href="{issue_url}"' in breadcrumbs and str(issue) in breadcrumbs
    assert f"<h1>Email preview: {issue}</h1>" in page
    # The email's own HTML, in a frame that runs none of its scripts.
    frame = page.split("<iframe")[1].split(">")[0]
    assert 'sandbox="allow-same-origin"' in frame
    assert "srcdoc=" in frame and "&lt;em&gt;sail&lt;/em&gt;" in frame
