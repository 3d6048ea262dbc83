"""The audience in view: who sees subscribers, and importing and exporting members from the
admin (subscribers/audience_admin.py, subscribers/members/uploads.py)."""

import importlib
import io
import time

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import reverse

from subscribers.members.uploads import _progress_key
from subscribers.models import MemberImport, Subscriber, SubscriberStatus
from tests.factories import NewsletterFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:subscribers_subscriber_changelist"
IMPORT = "admin:subscribers_subscriber_import"
EXPORT = "admin:subscribers_subscriber_export"

GHOST_FILE = (
    "email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,created_at,"
    "deleted_at,labels,tiers\n"
    "anna@mail.example,Anna,,true,false,,2024-03-01T10:00:00.000Z,,,\n"
    "not-an-address,Nobody,,true,false,,,,,\n"
    "boris@mail.example,Boris,,false,false,,2024-03-02T10:00:00.000Z,,,\n"
    "ANNA@mail.example,Anna again,,true,false,,,,,\n"
)


def report_url(member_import) -> str:
    return reverse("admin:subscribers_subscriber_import_report", args=[member_import.pk])


def progress_url(member_import) -> str:
    return reverse("admin:subscribers_subscriber_import_progress", args=[member_import.pk])


def upload(client, newsletter, text: str | bytes = GHOST_FILE, name="members.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(
        reverse(IMPORT),
        {"file": SimpleUploadedFile(name, data, "text/csv"), "newsletter": newsletter.pk},
    )


# Who sees subscribers --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["audience_member", "editor"])
def test_audience_and_editors_see_subscribers_with_import_and_export(client, request, role):
    SubscriptionFactory(subscriber__email="anna@mail.example")
    client.force_login(request.getfixturevalue(role))

    response = client.get(reverse(CHANGELIST))

    page = response.content.decode()
    assert response.status_code == 200
    assert "anna@mail.example" in page
    assert f'href="{reverse(IMPORT)}"' in page and "Import members" in page
    assert f'href="{reverse(EXPORT)}"' in page and "Export members" in page


@pytest.mark.parametrize("role", ["journalist", "keeper"])
def test_others_get_the_newsrooms_403_page_not_bare_text(client, request, role):
    client.force_login(request.getfixturevalue(role))

    for url in (reverse(CHANGELIST), reverse(IMPORT), reverse(EXPORT)):
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 403
        assert "You don&#x27;t have access to this page" in page
        assert "Back to the dashboard" in page and f'href="{reverse("admin:index")}"' in page
        assert 'id="site-name"' in page and "BellCMS" in page
        assert "403 Forbidden" not in page


def test_a_journalist_cannot_upload_a_file(client, journalist):
    client.force_login(journalist)
    newsletter = NewsletterFactory()

    assert upload(client, newsletter).status_code == 403
    assert not MemberImport.objects.exists() and not Subscriber.objects.exists()


def test_audience_group_migration_can_run_twice(db):
    migration = importlib.import_module("subscribers.migrations.0009_audience_group")
    state = MigrationExecutor(connection).loader.project_state(
        ("subscribers", "0009_audience_group"), at_end=True
    )

    migration.grant(state.apps, None)
    migration.grant(state.apps, None)

    for name, codenames in migration.GROUP_PERMISSIONS.items():
        granted = Group.objects.get(name=name).permissions.filter(
            content_type__app_label="subscribers"
        )
        assert sorted(granted.values_list("codename", flat=True)) == sorted(codenames)
    assert Group.objects.filter(name="Audience").count() == 1


# Export ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["audience_member", "editor"])
def test_export_downloads_the_commands_csv(client, request, role):
    weekly = NewsletterFactory()
    daily = NewsletterFactory(slug="the-bell-daily", name="The Bell Daily")
    SubscriptionFactory(subscriber__email="anna@mail.example", newsletter=weekly)
    SubscriptionFactory(subscriber__email="=1+2@mail.example", newsletter=daily)
    client.force_login(request.getfixturevalue(role))

    form = client.get(reverse(EXPORT))
    everyone = client.get(reverse(EXPORT), {"download": "1", "newsletter": ""})
    daily_only = client.get(reverse(EXPORT), {"download": "1", "newsletter": daily.pk})

    assert form.status_code == 200 and "Download CSV" in form.content.decode()
    expected = io.StringIO()
    call_command("export_subscribers", stdout=expected)
    body = b"".join(everyone.streaming_content).decode()
    assert everyone.status_code == 200
    assert everyone["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in everyone["Content-Disposition"]
    assert "subscribers-members-" in everyone["Content-Disposition"]
    assert body == expected.getvalue()
    assert body.splitlines()[0].startswith("email,name,note,subscribed_to_emails")
    assert "anna@mail.example" in body and "'=1+2@mail.example" in body
    daily_body = b"".join(daily_only.streaming_content).decode()
    assert "the-bell-daily-members-" in daily_only["Content-Disposition"]
    assert "'=1+2@mail.example" in daily_body and "anna@mail.example" not in daily_body


# Import ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["audience_member", "editor"])
def test_import_creates_subscribers_and_shows_the_report(
    client, request, role, django_capture_on_commit_callbacks
):
    newsletter = NewsletterFactory()
    client.force_login(request.getfixturevalue(role))

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(client, newsletter)

    member_import = MemberImport.objects.get()
    assert response.status_code == 302 and response["Location"] == report_url(member_import)
    anna = Subscriber.objects.get(email="anna@mail.example")
    boris = Subscriber.objects.get(email="boris@mail.example")
    assert anna.status == SubscriberStatus.ACTIVE and boris.status == SubscriberStatus.PENDING
    assert anna.consent_source == "import: members.csv"
    assert Subscriber.objects.count() == 2
    # The report stays; the file, with its addresses, is gone.
    assert member_import.status == MemberImport.Status.DONE
    assert bytes(member_import.data) == b""
    assert (member_import.imported, member_import.active, member_import.problem_count) == (2, 1, 2)

    page = client.get(report_url(member_import)).content.decode()
    assert "Done" in page
    assert "1 active (the file records their consent), 1 waiting until they confirm" in page
    assert "line 3: not a valid email address" in page
    assert "line 5: the same address as line 2" in page
    assert 'http-equiv="refresh"' not in page  # finished: nothing to wait for
    assert "members.csv" in client.get(reverse(IMPORT)).content.decode()  # listed as latest


def test_importing_the_same_file_again_adds_nobody(
    client, audience_member, django_capture_on_commit_callbacks
):
    newsletter = NewsletterFactory()
    client.force_login(audience_member)
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, newsletter)
        upload(client, newsletter)

    again = MemberImport.objects.order_by("pk").last()
    assert Subscriber.objects.count() == 2
    assert (again.imported, again.subscribed) == (0, 0)
    assert again.skipped["existing"] == 2
    assert "2 already subscribers" in client.get(report_url(again)).content.decode()


def test_a_file_that_cannot_be_read_is_refused_whole(
    client, audience_member, django_capture_on_commit_callbacks
):
    newsletter = NewsletterFactory()
    client.force_login(audience_member)

    with django_capture_on_commit_callbacks(execute=True):
        upload(client, newsletter, "email,name\nanna@mail.example,Anna\n".encode("utf-16"))

    member_import = MemberImport.objects.get()
    page = client.get(report_url(member_import)).content.decode()
    assert member_import.status == MemberImport.Status.REFUSED
    assert not Subscriber.objects.exists()
    assert "The file was not imported:" in page and "Nothing was written." in page
    assert "NUL bytes" in page or "UTF-8" in page


def test_a_file_over_the_limit_is_refused_before_it_is_stored(client, audience_member, settings):
    settings.SUBSCRIBERS_IMPORT_MAX_BYTES = 100
    client.force_login(audience_member)

    response = upload(client, NewsletterFactory())

    assert response.status_code == 200
    assert "The file is larger than 100" in response.content.decode()
    assert not MemberImport.objects.exists()


def test_a_waiting_import_shows_a_bar_that_polls_and_reloads_without_javascript(
    client, audience_member
):
    client.force_login(audience_member)
    upload(client, NewsletterFactory())  # on_commit callbacks not run: the task never starts
    member_import = MemberImport.objects.get()

    page = client.get(report_url(member_import)).content.decode()
    progress = client.get(progress_url(member_import)).json()

    assert "<progress" in page and 'data-bell-import="' + progress_url(member_import) in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert "subscribers/members_import.js" in page
    assert progress["status"] == "queued" and progress["finished"] is False
    assert progress["percent"] is None
    assert progress["text"]["phase"].startswith("Waiting for the background worker")
    # The file waits in the row, not in the task's arguments.
    assert bytes(member_import.data) == GHOST_FILE.encode()


def test_a_running_import_reports_how_far_it_got(client, audience_member):
    client.force_login(audience_member)
    upload(client, NewsletterFactory())
    member_import = MemberImport.objects.get()
    MemberImport.objects.filter(pk=member_import.pk).update(status=MemberImport.Status.RUNNING)
    cache.set(_progress_key(member_import.pk), {"phase": "writing", "done": 500, "total": 1000})

    progress = client.get(progress_url(member_import)).json()

    assert progress["status"] == "running" and progress["percent"] == 65.0
    assert progress["text"] == {"percent": "65 %", "phase": "Writing subscribers: 500 of 1,000"}


def test_another_persons_progress_needs_import_permission(client, journalist, audience_member):
    client.force_login(audience_member)
    upload(client, NewsletterFactory())
    member_import = MemberImport.objects.get()
    client.force_login(journalist)

    assert client.get(progress_url(member_import)).status_code == 403
    assert client.get(report_url(member_import)).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_worker_imports_an_uploaded_file(client, newsroom_groups, worker):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="aino", groups=["Audience"]))
    newsletter = NewsletterFactory()
    rows = "".join(f"reader{n}@mail.example,Reader {n}\n" for n in range(2500))

    response = upload(client, newsletter, "email,name\n" + rows)

    member_import = MemberImport.objects.get()
    assert response["Location"] == report_url(member_import)
    deadline = time.monotonic() + 60
    while not (progress := client.get(progress_url(member_import)).json())["finished"]:
        assert time.monotonic() < deadline, f"not imported; see {worker}"
        time.sleep(0.2)
    assert progress["status"] == "done" and progress["percent"] == 100.0
    assert Subscriber.objects.filter(status=SubscriberStatus.PENDING).count() == 2500
    page = client.get(report_url(member_import)).content.decode()
    assert "0 active (the file records their consent), 2,500 waiting until they confirm" in page
