"""Correction notices: told to exactly the readers who got the story's issue, once each, by
the same dispatch (its ledger and batches) to a real SMTP server (aiosmtpd)."""

import datetime as dt
import io
import json
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from issues.models import Issue
from issues.services import (
    WorkflowError,
    correction_notice_send,
    story_correct,
    story_retract,
    story_takedown,
)
from subscribers.dispatch.finish import dispatch_wake_quiet
from subscribers.dispatch.loop import dispatch_run
from subscribers.dispatch.progress import dispatch_progress
from subscribers.models import Dispatch
from subscribers.services import subscriber_unsubscribe_all
from tests.factories import (
    BlockFactory,
    StoryFactory,
    SubscriptionFactory,
    issue_published_now,
)

pytestmark = pytest.mark.django_db(transaction=True)
NOTE = "Our review found that the author invented this story. We retract it and apologise."


def readers(newsletter, *names):
    return [
        SubscriptionFactory(
            newsletter=newsletter, subscriber__email=f"{name}@mail.example"
        ).subscriber
        for name in names
    ]


def issue_sent(newsletter, headline):
    """An issue of one story, published and sent to whoever is subscribed now."""
    issue = issue_published_now(newsletter, headline=headline)
    assert dispatch_run(issue_id=issue.pk).again_in is None
    return issue.stories.get()


def retracted(story, editor, second_editor):
    for who in (editor, second_editor):
        story_retract(story=story, note=NOTE, acting_user=who)
    return story


def notice_sent(story, editor):
    """The notice made (its tasks not queued: this test sends them) and sent."""
    with mock.patch("subscribers.dispatch.start.dispatch_enqueue"):
        notice = correction_notice_send(story=story, acting_user=editor)
    assert dispatch_run(notice_id=notice.pk).again_in is None
    return notice


def to(inbox, subject_part):
    return sorted(
        address
        for rcpt_tos, message in inbox.messages
        if subject_part in message["Subject"]
        for address in rcpt_tos
    )


def test_notices_reach_exactly_the_readers_of_each_original_issue_once(
    mail_server, newsletter, editor, second_editor
):
    _anna, _boris, gone = readers(newsletter, "anna", "boris", "gone")
    mail_server.refuse["bounced@mail.example"] = "550 5.1.1 No such user"
    readers(newsletter, "bounced")
    first = issue_sent(newsletter, "The tanker that never sailed")
    readers(newsletter, "clara")
    second = issue_sent(newsletter, "The minister's secret meeting")
    readers(newsletter, "dmitri")  # joined after both: told nothing
    subscriber_unsubscribe_all(subscriber=gone, how="one-click")
    for story in (first, second):
        retracted(story, editor, second_editor)
    mail_server.messages.clear()

    notices = [notice_sent(first, editor), notice_sent(second, editor)]

    assert to(mail_server, "The tanker") == ["anna@mail.example", "boris@mail.example"]
    assert to(mail_server, "The minister") == [
        "anna@mail.example",
        "boris@mail.example",
        "clara@mail.example",
    ]
    for notice in notices:
        progress = dispatch_progress(notice_id=notice.pk)
        assert progress.balanced and progress.open == 0
        notice.refresh_from_db()
        assert notice.sent_at is not None
    # Run again, woken by the scheduler: the ledger has them all; nobody gets a second copy.
    sent = len(mail_server.messages)
    assert dispatch_run(notice_id=notices[0].pk).again_in is None
    dispatch_wake_quiet(now=timezone.now() + dt.timedelta(hours=1))
    assert len(mail_server.messages) == sent == 5


def test_the_notice_tells_what_changed_and_where_the_story_stands(
    mail_server, newsletter, editor, second_editor
):
    readers(newsletter, "anna")
    story = retracted(issue_sent(newsletter, "The tanker that never sailed"), editor, second_editor)
    mail_server.messages.clear()

    notice_sent(story, editor)

    ((_rcpt_tos, message),) = mail_server.messages
    assert message["Subject"] == "THE BELL WEEKLY: Retraction: The tanker that never sailed"
    assert message["Message-ID"].startswith(f"<notice-{story.notices.get().pk}.")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    assert NOTE in text
    assert f"/archive/{newsletter.slug}/{story.issue.number}/{story.slug}/" in text
    assert "What the talks may bring." not in text
    assert story.events.filter(action="notice").exists()


def test_a_notice_tells_only_what_is_new_and_refuses_when_nothing_is(
    mail_server, newsletter, editor
):
    readers(newsletter, "anna")
    story = issue_sent(newsletter, "The tanker that never sailed")
    with pytest.raises(WorkflowError, match="no correction or withdrawal"):
        correction_notice_send(story=story, acting_user=editor)
    story_correct(story=story, note="It sailed on Monday.", kind="correction", acting_user=editor)
    notice_sent(story, editor)
    with pytest.raises(WorkflowError, match="Nothing to tell"):
        correction_notice_send(story=story, acting_user=editor)

    story_correct(story=story, note="The port was Ust-Luga.", kind="correction", acting_user=editor)
    mail_server.messages.clear()
    notice_sent(story, editor)

    text = mail_server.messages[0][1].get_body(("plain",)).get_content()
    assert "The port was Ust-Luga." in text and "It sailed on Monday." not in text


def test_a_takedown_notice_never_names_the_story(mail_server, newsletter, editor, second_editor):
    readers(newsletter, "anna")
    story = issue_sent(newsletter, "The governor's second passport")
    for who in (editor, second_editor):
        story_takedown(story=story, note="A court order in case 12-345.", acting_user=who)
    mail_server.messages.clear()

    notice_sent(story, editor)

    message = mail_server.messages[0][1]
    whole = message.as_string()
    assert "passport" not in whole.lower() and "12-345" not in whole
    assert "removed" in message["Subject"]


def test_journalists_may_not_send_notices(newsletter, journalist, editor):
    story = StoryFactory(
        issue__newsletter=newsletter,
        issue__status=Issue.Status.SENT,
        issue__published_at=timezone.now(),
    )
    BlockFactory(story=story)
    story_correct(story=story, note="A date was wrong.", kind="correction", acting_user=editor)

    with pytest.raises(WorkflowError) as refused:
        correction_notice_send(story=story, acting_user=journalist)

    assert refused.value.code == "forbidden"
    assert not Dispatch.objects.filter(notice__isnull=False).exists()


def test_the_story_page_sends_the_notice_and_links_its_sending_report(
    client, mail_server, newsletter, editor, second_editor
):
    readers(newsletter, "anna", "boris")
    story = retracted(issue_sent(newsletter, "The tanker that never sailed"), editor, second_editor)
    mail_server.messages.clear()
    client.force_login(editor)

    response = client.post(
        reverse("admin:issues_story_record", args=[story.pk]), {"action": "notice"}, follow=True
    )

    html = response.content.decode()
    assert "The notice is on its way to the readers who got issue #" in html
    assert to(mail_server, "The tanker") == ["anna@mail.example", "boris@mail.example"]
    notice = story.notices.get()
    report = reverse("subscribers:notice_sending", args=[notice.pk])
    assert report in html
    page = client.get(report).content.decode()
    assert "to the readers of issue #" in page and "Back to the story" in page
    numbers = client.get(reverse("subscribers:notice_sending_progress", args=[notice.pk])).json()
    assert (numbers["audience"], numbers["counts"]["sent"], numbers["controls"]) == (2, 2, [])
    assert numbers["text"]["issue_status"] == "sent"
    assert numbers["text"]["lag"].endswith("s after the notice was made")


def test_dispatch_status_reports_a_notices_sending(mail_server, newsletter, editor, second_editor):
    readers(newsletter, "anna", "boris")
    story = retracted(issue_sent(newsletter, "The tanker that never sailed"), editor, second_editor)
    notice = notice_sent(story, editor)

    out = io.StringIO()
    call_command("dispatch_status", str(notice.pk), "--notice", stdout=out)
    text = out.getvalue()
    out = io.StringIO()
    call_command("dispatch_status", str(notice.pk), "--notice", "--json", stdout=out)

    assert text.startswith(f"Correction notice {notice.pk} “The tanker that never sailed”")
    assert "2  sent" in text and "= audience" in text
    assert "s after the notice was made" in text
    report = json.loads(out.getvalue())
    assert (report["notice"], report["status"], report["counts"]["sent"]) == (notice.pk, "sent", 2)
    with pytest.raises(CommandError, match="no correction notice"):
        call_command("dispatch_status", "999999", "--notice")
