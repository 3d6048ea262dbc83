"""The audience in a real Chromium: a member of the Audience group imports a members file
through the admin, watches the bar while a real worker imports it, and reads the report; the
subscriber pages pass axe-core."""

import pytest
from django.db import connection, transaction
from playwright.sync_api import expect

from tests.e2e.axe import serious_violations, violations_text
from tests.e2e.test_admin_browser import log_in
from tests.factories import NewsletterFactory, UserFactory

# The live server and the worker only see committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

READERS = 3000
SCREENSHOT = "/tmp/bellcms-members-import.png"
SCREENSHOT_RUNNING = "/tmp/bellcms-members-import-running.png"


@pytest.fixture
def members_file(tmp_path):
    path = tmp_path / "ghost-members.csv"
    rows = "".join(
        f"reader{n}@mail.example,Reader {n},,true,false,,2024-03-01T10:00:00.000Z,,,\n"
        for n in range(READERS)
    )
    path.write_text(
        "email,name,note,subscribed_to_emails,complimentary_plan,stripe_customer_id,"
        "created_at,deleted_at,labels,tiers\n" + rows + "broken-address,Nobody,,true,,,,,,\n",
        encoding="utf-8",
    )
    return path


def test_audience_imports_a_file_and_reads_the_report(
    page, live_server, newsroom_groups, worker, members_file
):
    from subscribers.models import Subscriber

    NewsletterFactory()
    log_in(page, live_server, UserFactory(username="aino", groups=["Audience"]))

    page.goto(f"{live_server.url}/admin/subscribers/subscriber/")
    assert serious_violations(page) == [], violations_text(serious_violations(page))
    page.get_by_role("link", name="Import members").click()
    assert serious_violations(page) == [], violations_text(serious_violations(page))
    page.get_by_label("Members file (CSV)").set_input_files(str(members_file))
    with transaction.atomic():
        # Held until the page has shown the import running: the worker waits to write.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE subscribers_subscriber IN EXCLUSIVE MODE")
        page.get_by_role("button", name="Import").click()

        # The import's page: a bar while the worker imports, moved by what the page fetches.
        expect(page.locator("h1")).to_have_text("Import of ghost-members.csv")
        expect(page.get_by_label("Imported so far")).to_be_visible()
        expect(page.locator("[data-bell-field=status_label]")).to_have_text(
            "Importing", timeout=30_000
        )
        page.screenshot(path=SCREENSHOT_RUNNING, full_page=True)
        assert serious_violations(page) == [], violations_text(serious_violations(page))

    # Once the JSON says it is done, the page reloads itself with the report.
    expect(page.locator(".bell-members-counts")).to_contain_text("New subscribers", timeout=60_000)
    expect(page.locator("progress")).to_have_count(0)
    expect(page.locator("[data-bell-count=imported]")).to_have_text(f"{READERS:,}")
    expect(page.locator(".bell-members-problems")).to_contain_text(
        f"line {READERS + 2}: not a valid email address"
    )
    page.screenshot(path=SCREENSHOT, full_page=True)
    assert serious_violations(page) == [], violations_text(serious_violations(page))
    assert Subscriber.objects.filter(status="active").count() == READERS

    page.get_by_role("link", name="Back to the subscribers").click()
    expect(page.locator("#result_list")).to_contain_text(f"reader{READERS - 1}@mail.example")
    assert serious_violations(page) == [], violations_text(serious_violations(page))
