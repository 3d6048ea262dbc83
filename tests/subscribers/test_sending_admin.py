"""The sending page in the admin: what an editor sees of an issue going out (counts, the bar,
the rate, the failures and the mail server's answers), pause / resume / cancel for those who
may, refusals for those who may not, and the numbers as JSON for the page's poller."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from subscribers.models import Delivery, Dispatch
from tests.factories import StoryFactory, UserFactory
from tests.factories import published_issue as published

pytestmark = pytest.mark.django_db
S = Delivery.Status


def settle(issue, status, count, answer="250 2.0.0 Message accepted for delivery"):
    """The next ``count`` pending deliveries, as a worker would have recorded them."""
    pks = list(
        Delivery.objects.filter(issue=issue, status=S.PENDING)
        .order_by("pk")
        .values_list("pk", flat=True)[:count]
    )
    sent = status in {S.SENT, S.UNCERTAIN}
    Delivery.objects.filter(pk__in=pks).update(
        status=status,
        attempts=1,
        smtp_response=answer,
        sent_at=timezone.now() if sent else None,
    )
    return pks


@pytest.fixture
def sending(newsletter):
    """An issue half-way out: 10 subscribers, 4 sent, 1 refused, 1 skipped, 4 pending."""
    issue, _ = published(newsletter, 10)
    settle(issue, S.SENT, 4)
    (refused,) = settle(issue, S.FAILED, 1, answer="550 5.1.1 No such user here")
    settle(issue, S.SKIPPED, 1)
    return issue, Delivery.objects.get(pk=refused).subscriber


@pytest.fixture
def audience_editor(editor):
    """An editor who may also see subscribers (``subscribers.view_subscriber``)."""
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(
        Permission.objects.get(content_type__app_label="subscribers", codename="view_subscriber")
    )
    return type(editor).objects.get(pk=editor.pk)


def page_url(issue):
    return reverse("subscribers:issue_sending", args=[issue.pk])


def json_url(issue):
    return reverse("subscribers:issue_sending_progress", args=[issue.pk])


def count_cell(page, status):
    found = re.search(rf'data-bell-count="{status}">([^<]*)<', page)
    return found.group(1) if found else None


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def buttons(page):
    return re.findall(r'data-bell-action="(\w+)"', page)


def test_the_page_shows_the_counts_the_bar_and_the_failures(client, audience_editor, sending):
    issue, refused = sending
    client.force_login(audience_editor)

    response = client.get(page_url(issue))

    page = response.content.decode()
    assert response.status_code == 200
    assert '<progress id="bell-sending-progress" value="6" max="10">60.0 %</progress>' in page
    assert {s: count_cell(page, s) for s in S.values} == {
        "sent": "4",
        "uncertain": "0",
        "failed": "1",
        "skipped": "1",
        "cancelled": "0",
        "pending": "4",
        "claimed": "0",
    }
    for words in ("may have arrived twice", "being sent", "after publication"):
        assert words in page
    assert "= the audience" in page and "Warning:" not in page
    assert 'data-bell-field="state_label">Sending<' in page
    # The last minute's messages went out just now: a rate, a time left, the delay.
    assert "messages/s over the last minute" in page
    assert re.search(r'data-bell-field="left">about \d+ s<', page)
    assert "after the scheduled time" in page
    # The failure, with the mail server's answer and the subscriber's page.
    assert refused.email in page
    assert reverse("admin:subscribers_subscriber_change", args=[refused.pk]) in page
    assert "550 5.1.1 No such user here" in page
    assert buttons(page) == ["pause", "cancel"]
    # Still running: the poller is told to poll.
    assert 'data-bell-live="1"' in page
    assert "subscribers/sending.js" in page and "<script>" not in page


def test_an_erased_subscribers_failure_shows_as_erased(client, audience_editor, sending):
    issue, refused = sending
    refused.delete()
    client.force_login(audience_editor)

    page = client.get(page_url(issue)).content.decode()

    assert refused.email not in page
    assert "(erased)" in page and "550 5.1.1 No such user here" in page


# Editors see subscribers (subscribers migration 0009), and so their addresses here too.
@pytest.mark.parametrize("role", ["journalist", "keeper"])
def test_addresses_are_shown_only_to_those_who_may_see_subscribers(client, request, role, sending):
    issue, refused = sending
    Delivery.objects.filter(issue=issue, status=S.FAILED).update(
        smtp_response=f"550 5.1.1 <{refused.email}>: Recipient address rejected"
    )
    Dispatch.objects.filter(issue=issue).update(
        last_error=f"421 4.7.0 Try again later (RCPT TO:{refused.email})"
    )
    client.force_login(request.getfixturevalue(role))

    # The subscriber admin itself is closed to them …
    assert client.get(reverse("admin:subscribers_subscriber_changelist")).status_code == 403
    response = client.get(page_url(issue))
    progress = client.get(json_url(issue))
    panel = client.get(reverse("admin:issues_issue_change", args=[issue.pk]))

    # … and so is every address on the sending page, its JSON and the issue's panel …
    page = response.content.decode()
    assert response.status_code == progress.status_code == 200
    for shown in (page, progress.content.decode(), panel.content.decode()):
        assert refused.email not in shown
        assert refused.email.split("@")[0] not in shown
    # … while the counts and the reasons stay.
    assert count_cell(page, "failed") == "1"
    assert "550 5.1.1 &lt;[address]&gt;: Recipient address rejected" in page
    assert "421 4.7.0 Try again later (RCPT TO:[address])" in page
    assert progress.json()["last_error"] == "421 4.7.0 Try again later (RCPT TO:[address])"
    assert "addresses are shown to those who may see subscribers" in page


@pytest.mark.parametrize(
    ("email", "answer"),
    [
        ("o'brien@mail.example", "550 5.1.1 <{email}>: Recipient address rejected"),
        ('"john smith"@mail.example', "550 5.1.1 {email}... User unknown"),
        ("john.smith@mail.example", "550 5.1.1 {local}%40mail.example: no such user"),
        ("john.smith@mail.example", "552 5.2.2 mailbox of {upper_local} is full"),
        ("john.smith@mail.example", "550 5.1.1 Recipient rejected: {local}@"),  # cut short
    ],
)
def test_addresses_in_any_form_are_masked_for_those_who_may_not_see_subscribers(
    client, journalist, sending, email, answer
):
    issue, refused = sending
    type(refused).objects.filter(pk=refused.pk).update(email=email)
    local = email.rpartition("@")[0]
    shown_answer = answer.format(email=email, local=local, upper_local=local.upper())
    Delivery.objects.filter(issue=issue, status=S.FAILED).update(smtp_response=shown_answer)
    client.force_login(journalist)

    page = client.get(page_url(issue)).content.decode()

    assert "[address]" in page
    for part in ("brien", "john", "JOHN"):
        assert part not in page


def test_counts_that_do_not_add_up_are_a_visible_warning(client, editor, sending):
    issue, _ = sending
    Dispatch.objects.filter(issue=issue).update(audience=12)
    client.force_login(editor)

    page = client.get(page_url(issue)).content.decode()

    assert "Warning:" in page and "does not match the audience of 12" in page


def test_the_mail_servers_trouble_is_shown(client, editor, sending):
    issue, _ = sending
    Dispatch.objects.filter(issue=issue).update(last_error="Connection refused by 127.0.0.1:25")
    client.force_login(editor)

    page = client.get(page_url(issue)).content.decode()

    line = re.search(r'<p class="bell-sending-error[^>]*>(.*?)</p>', page, re.S)
    assert "hidden" not in line.group(0).split(">")[0]
    assert "Mail server trouble" in line.group(1)
    assert "Connection refused by 127.0.0.1:25" in line.group(1)


def test_a_journalist_sees_the_sending_but_no_buttons(client, journalist, sending):
    issue, _ = sending
    client.force_login(journalist)

    response = client.get(page_url(issue))

    page = response.content.decode()
    assert response.status_code == 200
    assert count_cell(page, "sent") == "4"
    assert buttons(page) == []
    assert "Pause sending" not in page and "Cancel sending" not in page


def test_a_journalists_post_is_refused_and_changes_nothing(client, journalist, sending):
    issue, _ = sending
    client.force_login(journalist)

    for data in ({"action": "pause"}, {"action": "cancel", "confirm": "yes"}):
        response = client.post(page_url(issue), data, follow=True)
        assert response.redirect_chain == [(page_url(issue), 302)]
        (message,) = messages_of(response)
        assert message.startswith("You may not")
    # Asking to cancel does not even get the question.
    response = client.post(page_url(issue), {"action": "cancel"}, follow=True)
    assert messages_of(response) == ["You may not cancel the sending of an issue."]

    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.RUNNING
    assert Delivery.objects.filter(issue=issue, status=S.PENDING).count() == 4
    assert not Delivery.objects.filter(issue=issue, status=S.CANCELLED).exists()


def test_pause_then_resume(client, editor, sending):
    issue, _ = sending
    client.force_login(editor)

    response = client.post(page_url(issue), {"action": "pause"}, follow=True)

    assert response.redirect_chain == [(page_url(issue), 302)]
    (message,) = messages_of(response)
    assert "is paused" in message
    page = response.content.decode()
    assert 'data-bell-field="state_label">Paused<' in page
    assert buttons(page) == ["resume", "cancel"]
    assert 'data-bell-live=""' in page
    assert "the sending is paused" in page  # time left
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.PAUSED
    change = client.get(reverse("admin:issues_issue_change", args=[issue.pk])).content.decode()
    assert 'data-bell-field="state_label">Paused<' in change

    # A second pause (another tab) is refused with the service's reason.
    response = client.post(page_url(issue), {"action": "pause"}, follow=True)
    assert messages_of(response) == ["The sending is paused: only a running sending can be paused."]

    response = client.post(page_url(issue), {"action": "resume"}, follow=True)

    (message,) = messages_of(response)
    assert "goes on where it stopped" in message
    page = response.content.decode()
    assert 'data-bell-field="state_label">Sending<' in page
    assert buttons(page) == ["pause", "cancel"]
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.RUNNING


def test_cancel_asks_first_then_cancels_what_is_pending(client, editor, sending):
    issue, _ = sending
    in_flight = settle(issue, S.CLAIMED, 1)
    client.force_login(editor)

    question = client.post(page_url(issue), {"action": "cancel"})

    assert question.status_code == 200
    text = question.content.decode()
    assert "Yes, cancel the sending" in text
    assert "for the 3 deliveries still pending" in text
    assert 'name="confirm" value="yes"' in text
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.RUNNING
    assert not Delivery.objects.filter(issue=issue, status=S.CANCELLED).exists()

    response = client.post(page_url(issue), {"action": "cancel", "confirm": "yes"}, follow=True)

    assert response.redirect_chain == [(page_url(issue), 302)]
    (message,) = messages_of(response)
    assert "is cancelled: 3 deliveries not yet sent will not be" in message
    page = response.content.decode()
    assert 'data-bell-field="state_label">Cancelled<' in page
    assert count_cell(page, "cancelled") == "3" and count_cell(page, "pending") == "0"
    # The batch in flight finishes: its row is left to its worker.
    assert count_cell(page, "claimed") == "1"
    assert Delivery.objects.get(pk=in_flight[0]).status == S.CLAIMED
    assert buttons(page) == []


def test_a_finished_sending_has_no_buttons_and_a_report_link(client, editor, sending):
    issue, _ = sending
    settle(issue, S.SENT, 4)
    from subscribers.dispatch.finish import dispatch_finish_if_done

    assert dispatch_finish_if_done(issue_id=issue.pk)
    client.force_login(editor)

    page = client.get(page_url(issue)).content.decode()

    assert 'data-bell-field="state_label">Finished<' in page
    assert '<progress id="bell-sending-progress" value="10" max="10">100.0 %</progress>' in page
    assert "none: nothing is left to send" in page
    assert buttons(page) == []
    change = client.get(reverse("admin:issues_issue_change", args=[issue.pk])).content.decode()
    assert f'<a href="{page_url(issue)}" class="bell-sending-link">Sending report</a>' in change


def test_the_issue_page_links_to_the_sending_page(client, editor, sending):
    issue, _ = sending
    client.force_login(editor)

    change = client.get(reverse("admin:issues_issue_change", args=[issue.pk])).content.decode()

    assert f'<a href="{page_url(issue)}" class="bell-sending-link">Sending page</a>' in change
    assert "Email preview and test copy" in change


def test_the_issue_page_shows_the_sending_live(client, editor, journalist, sending):
    issue, _ = sending
    for person in (editor, journalist):
        client.force_login(person)
        change = client.get(reverse("admin:issues_issue_change", args=[issue.pk])).content.decode()

        # The bar, the rate, the time left and the failures, and what keeps them live.
        assert re.search(r'<progress id="bell-sending-panel-progress" value="6" max="10"', change)
        assert '<strong data-bell-field="percent">60.0 %</strong>' in change
        assert "messages/s over the last minute" in change
        assert re.search(r'data-bell-field="left">about \d+ s<', change)
        assert count_cell(change, "failed") == "1"
        assert f'data-bell-sending="{json_url(issue)}"' in change
        assert 'data-bell-live="1"' in change
        assert "subscribers/sending.js" in change
        assert f'<a href="{page_url(issue)}">The sending page:' in change


def test_an_unpublished_issue_has_no_sending(client, editor, newsletter):
    issue = StoryFactory(issue__newsletter=newsletter).issue
    client.force_login(editor)

    change = client.get(reverse("admin:issues_issue_change", args=[issue.pk])).content.decode()
    assert "bell-sending-link" not in change
    assert "<progress" not in change and "data-bell-sending" not in change
    page = client.get(page_url(issue)).content.decode()
    assert "it has not been published, so nothing has been sent" in page
    assert "<progress" not in page
    assert client.get(json_url(issue)).status_code == 404
    response = client.post(page_url(issue), {"action": "pause"}, follow=True)
    (message,) = messages_of(response)
    assert "is not being sent" in message


def test_the_json_has_the_same_numbers(client, editor, journalist, sending):
    issue, _ = sending
    client.force_login(editor)

    response = client.get(json_url(issue))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    data = response.json()
    assert data["state"] == "running" and data["state_label"] == "Sending"
    assert data["live"] is True
    assert data["audience"] == 10 and data["total"] == 10 and data["balanced"] is True
    assert data["settled"] == 6 and data["open"] == 4 and data["percent"] == 60.0
    assert data["counts"] == {
        "pending": 4,
        "claimed": 0,
        "sent": 4,
        "failed": 1,
        "skipped": 1,
        "uncertain": 0,
        "cancelled": 0,
    }
    assert data["rate"] > 0 and data["seconds_left"] > 0 and data["lag_seconds"] > 0
    assert data["controls"] == ["pause", "cancel"]
    assert data["text"]["percent"] == "60.0 %"
    assert data["text"]["counts"]["sent"] == "4"
    assert data["text"]["rate"].endswith("messages/s over the last minute")

    # More sent since: the next poll says so.
    settle(issue, S.SENT, 2)
    data = client.get(json_url(issue)).json()
    assert data["settled"] == 8 and data["text"]["percent"] == "80.0 %"

    client.force_login(journalist)
    assert client.get(json_url(issue)).json()["controls"] == []


def test_staff_without_the_view_permission_and_strangers_are_kept_out(client, sending):
    issue, _ = sending
    for url in (page_url(issue), json_url(issue)):
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(UserFactory(username="nobody"))
    assert client.get(page_url(issue)).status_code == 403
    assert client.get(json_url(issue)).status_code == 403
    assert client.post(page_url(issue), {"action": "pause"}).status_code == 403
    assert Dispatch.objects.get(issue=issue).state == Dispatch.State.RUNNING
