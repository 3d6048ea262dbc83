"""Branded error pages, the favicon and the admin's chrome (bellcms/errors.py, templates/4xx.html,
500.html, templates/admin/base_site.html). Tests run with DEBUG off, as production does."""

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousOperation
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

FAVICON = "bellcms/favicon.svg"


@pytest.mark.django_db
def test_a_missing_public_page_is_the_branded_404(client, settings):
    assert settings.DEBUG is False
    response = client.get("/no-such-page/")

    page = response.content.decode()
    assert response.status_code == 404
    assert "This page does not exist" in page
    assert f'href="{reverse("archive:index")}"' in page  # a next step
    assert f'href="{reverse("subscribers:signup")}"' in page
    assert "subscribers/public.css" in page and FAVICON in page
    assert "Page not found at" not in page and "Traceback" not in page
    assert "Using the URLconf" not in page


@pytest.mark.django_db
def test_an_unpublished_issue_is_the_same_404(client):
    response = client.get("/archive/the-bell-weekly/1/")
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()


@pytest.mark.django_db
def test_a_missing_page_in_the_newsroom_keeps_the_admins_chrome(client, editor):
    client.force_login(editor)

    for url in ("/admin/no-such-thing/", "/newsroom/issues/999999/sending/"):
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 404, url
        assert "This page does not exist" in page
        assert 'id="site-name"' in page and "BellCMS" in page
        assert "Back to the dashboard" in page
        assert "Traceback" not in page


@pytest.mark.django_db
def test_the_newsrooms_own_404_message_is_shown(client, editor):
    client.force_login(editor)
    # The sending page of an issue that does not exist: get_object_or_404's message.
    page = client.get("/newsroom/issues/999999/sending/").content.decode()
    assert "No Issue matches the given query." in page


@pytest.mark.django_db
def test_a_newsroom_403_reads_as_the_cms_and_links_back(client, journalist):
    client.force_login(journalist)
    response = client.get(
        reverse("admin:subscribers_subscriber_changelist"),
        headers={"referer": "http://testserver/admin/issues/story/"},
    )

    page = response.content.decode()
    assert response.status_code == 403
    assert "<title>You don&#x27;t have access to this page | BellCMS</title>" in page
    assert (
        "Back to the page you came from" in page
        and 'href="http://testserver/admin/issues/story/"' in page
    )
    assert "<h1>403 Forbidden</h1>" not in page


def test_a_public_403_is_the_branded_page():
    request = RequestFactory().get("/somewhere/")
    response = defaults.permission_denied(request, exception=Exception())
    assert response.status_code == 403
    page = response.content.decode()
    assert "You don't have access to this page" in page
    assert "<h1>You don't have access to this page</h1>" in page


def test_the_500_page_renders_without_a_request_context_or_database():
    # No django_db mark: any query would fail this test.
    response = defaults.server_error(RequestFactory().get("/"))

    page = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in page
    assert 'href="/"' in page and 'href="/admin/"' in page
    assert "Traceback" not in page and "{%" not in page


def test_the_400_page_renders_without_a_request_context_or_database():
    response = defaults.bad_request(RequestFactory().get("/"), SuspiciousOperation())
    assert response.status_code == 400
    assert "We could not read that request" in response.content.decode()


def test_a_csrf_failure_is_the_branded_page():
    from django.views.csrf import csrf_failure

    response = csrf_failure(RequestFactory().post("/subscribe/"), reason="CSRF cookie not set.")

    page = response.content.decode()
    assert response.status_code == 403
    assert "The form could not be sent" in page and "Nothing was changed." in page
    assert "CSRF cookie not set" not in page


def test_favicon_ico_answers_with_the_bell(client):
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response["Location"] == f"/static/{FAVICON}"
    assert "max-age=86400" in response["Cache-Control"]
    svg = Path(finders.find(FAVICON)).read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<title>BellCMS</title>" in svg


@pytest.mark.django_db
def test_admin_pages_carry_the_favicon_and_the_name(client, editor):
    client.force_login(editor)
    page = client.get(reverse("admin:index")).content.decode()
    assert f'<link rel="icon" href="/static/{FAVICON}" type="image/svg+xml">' in page
    assert "BellCMS</a>" in page
