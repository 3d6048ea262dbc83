"""A reader signs up in a real Chromium, gets the confirmation at a real SMTP server (aiosmtpd),
follows its link in the browser and is subscribed."""

import pytest
from playwright.sync_api import expect

from subscribers.models import Subscriber
from tests.factories import NewsletterFactory
from tests.smtp import smtp_server_start
from tests.subscribers.conftest import links_in

# The live server only sees committed data, hence transactional tests.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOT = "/tmp/bellcms-subscribe-phone.png"


@pytest.fixture
def smtp(settings, live_server):
    controller, inbox = smtp_server_start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = controller.hostname
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.BELLCMS_BASE_URL = live_server.url
    yield inbox
    controller.stop()


def test_reader_signs_up_confirms_by_email_and_is_active(page, live_server, smtp):
    from django.core.cache import caches

    caches["default"].clear()
    newsletter = NewsletterFactory()
    page.set_viewport_size({"width": 390, "height": 844})

    page.goto(f"{live_server.url}/subscribe/{newsletter.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Subscribe to The Bell Weekly")
    page.get_by_label("Email address").fill("Reader@Example.org")
    page.get_by_label("Name (optional)").fill("Анна")
    page.screenshot(path=SCREENSHOT, full_page=True)
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your inbox")

    messages = smtp.wait_for(1, timeout=30)
    assert len(messages) == 1, "no confirmation reached the SMTP server"
    recipients, message = messages[0]
    assert recipients == ["reader@example.org"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    (link,) = set(links_in(text, "/confirm/"))
    assert Subscriber.objects.get().status == "pending"

    page.goto(link)
    page.get_by_role("button", name="Confirm my subscription").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are subscribed")

    subscriber = Subscriber.objects.get()
    assert subscriber.status == "active"
    assert subscriber.name == "Анна"
    assert subscriber.subscriptions.get().status == "active"
