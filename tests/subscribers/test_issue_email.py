"""The issue's email for a subscriber, parsed with Python's email package: both parts, the
RFC 8058 and RFC 2919 headers, a stable Message-ID, and links that work."""

import email
import email.policy
import re
from urllib.parse import quote

import pytest
from django.test import Client, override_settings

from issues.rendering import issue_render
from subscribers.dispatch.message import (
    PREFERENCES_PLACEHOLDER,
    UNSUBSCRIBE_PLACEHOLDER,
    issue_mailing_prepare,
    issue_message_for_subscriber,
)
from tests.factories import BlockFactory, NewsletterFactory, StoryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db
HEADLINE = "Putin\N{EN DASH}Trump talks: what to expect"
APOSTROPHE = "\N{RIGHT SINGLE QUOTATION MARK}"
LIST_UNSUBSCRIBE = re.compile(r"^<(https?://[^<>\s]+/u/([^<>/\s]+)/)>, <(mailto:[^<>\s]+)>$")


@pytest.fixture
def issue(newsletter):
    story = StoryFactory(issue__newsletter=newsletter, headline=HEADLINE)
    BlockFactory(
        story=story, text=f"Following Donald Trump{APOSTROPHE}s call, *the Kremlin* waits."
    )
    return story.issue


@pytest.fixture
def subscription(newsletter):
    return SubscriptionFactory(newsletter=newsletter, subscriber__email="anna@example.com")


def parsed(message):
    return email.message_from_bytes(message.message().as_bytes(), policy=email.policy.default)


def test_issue_email_parts_and_headers(issue, subscription):
    message = parsed(
        issue_message_for_subscriber(
            rendered=issue_render(issue=issue), issue=issue, subscriber=subscription.subscriber
        )
    )
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert HEADLINE in text
    assert f"Following Donald Trump{APOSTROPHE}s call, the Kremlin waits." in text
    assert "<em>the Kremlin</em>" in html
    assert message["To"] == "anna@example.com"
    assert message["From"] == "The Bell <weekly@thebell.example>"

    match = LIST_UNSUBSCRIBE.match(" ".join(str(message["List-Unsubscribe"]).split()))
    assert match, message["List-Unsubscribe"]
    https_url, token, mailto = match.groups()
    assert mailto.startswith("mailto:unsubscribe@thebell.example?subject=unsubscribe%20")
    assert quote(token, safe="") in mailto
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == '"The Bell Weekly" <the-bell-weekly.thebell.example>'
    assert re.fullmatch(r"<issue-\d+\.[0-9a-f]{32}@thebell\.example>", message["Message-ID"])
    # The personal links are in both parts, and no placeholder is left anywhere.
    assert https_url in text and https_url in html
    assert "/preferences/" in text and "/preferences/" in html
    raw = message.as_string()
    assert UNSUBSCRIBE_PLACEHOLDER not in raw and PREFERENCES_PLACEHOLDER not in raw
    # The HTML still has its dark-mode and small-screen rules, the footer's too.
    assert "prefers-color-scheme: dark" in html and ".footer-cell" in html


def test_issue_email_unsubscribe_url_get_keeps_post_unsubscribes(issue, subscription):
    message = parsed(
        issue_message_for_subscriber(
            rendered=issue_render(issue=issue), issue=issue, subscriber=subscription.subscriber
        )
    )
    https_url = LIST_UNSUBSCRIBE.match(" ".join(str(message["List-Unsubscribe"]).split())).group(1)
    path = https_url.removeprefix("http://127.0.0.1:8000")
    client = Client(enforce_csrf_checks=True)

    assert client.get(path).status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == "active"

    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == "unsubscribed"


def test_issue_email_message_id_stable_per_issue_and_subscriber(issue, subscription, newsletter):
    other = SubscriptionFactory(newsletter=newsletter).subscriber
    mailing = issue_mailing_prepare(rendered=issue_render(issue=issue), issue=issue)
    first = mailing.message(subscriber=subscription.subscriber)
    again = issue_mailing_prepare(rendered=issue_render(issue=issue), issue=issue).message(
        subscriber=subscription.subscriber
    )
    for_other = mailing.message(subscriber=other)
    assert first.extra_headers["Message-ID"] == again.extra_headers["Message-ID"]
    assert first.extra_headers["Message-ID"] != for_other.extra_headers["Message-ID"]
    assert "anna" not in first.extra_headers["Message-ID"]
    assert first.body != for_other.body  # personal links differ


def test_issue_email_personalising_costs_no_query(issue, subscription, django_assert_num_queries):
    mailing = issue_mailing_prepare(rendered=issue_render(issue=issue), issue=issue)
    subscriber = subscription.subscriber
    with django_assert_num_queries(0):
        for _ in range(3):
            mailing.message(subscriber=subscriber).message().as_bytes()


@override_settings(BELLCMS_BASE_URL="https://thebell.example")
def test_issue_email_non_ascii_list_name_and_https_links():
    newsletter = NewsletterFactory(name="Колокол: еженедельник", slug="kolokol")
    story = StoryFactory(issue__newsletter=newsletter, headline=HEADLINE)
    BlockFactory(story=story, text="Текст.")
    issue = story.issue
    subscription = SubscriptionFactory(newsletter=newsletter, subscriber__email="anna@example.com")
    built = issue_message_for_subscriber(
        rendered=issue_render(issue=issue), issue=issue, subscriber=subscription.subscriber
    )
    raw = built.message().as_bytes()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    # Only the phrase is encoded: the list-id itself is in clear in the raw header.
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    unfolded = re.sub(r"\r?\n[ \t]+", " ", head)
    (raw_list_id,) = re.findall(r"^List-Id: (.*)$", unfolded, flags=re.M)
    assert raw_list_id.endswith(" <kolokol.thebell.example>")
    list_id = str(message["List-Id"])
    assert list_id == "Колокол: еженедельник <kolokol.thebell.example>"
    assert re.search(r"<([^<>]+)>\s*$", list_id).group(1) == "kolokol.thebell.example"
    # Every personal link is https, in the headers and in both parts.
    match = LIST_UNSUBSCRIBE.match(" ".join(str(message["List-Unsubscribe"]).split()))
    https_url = match.group(1)
    assert https_url.startswith("https://thebell.example/u/")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for part in (text, html):
        links = re.findall(r"https?://[^\s\"<>]+", part)
        personal = [link for link in links if "/u/" in link or "/preferences/" in link]
        assert len(personal) >= 2
        assert all(link.startswith("https://thebell.example/") for link in personal)
        assert https_url in part
