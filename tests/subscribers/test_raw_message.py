"""The issue email dispatch sends as bytes reads exactly like the Django-built message: same
headers, same text and HTML (personal links included), valid MIME, lines within RFC 5322's
limits, non-ASCII subjects and names encoded."""

import email
import email.policy

import pytest

from issues.rendering import issue_render
from subscribers.dispatch.message import issue_mailing_prepare
from subscribers.dispatch.wire import RawIssueMessage, wire_unstuff
from tests.factories import BlockFactory, StoryFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db

SAME_HEADERS = ["From", "To", "Subject", "Message-ID", "List-Id", "List-Unsubscribe-Post"]


@pytest.fixture
def mailing(newsletter):
    newsletter.name = "Белл Weekly"
    newsletter.sender_name = "Редакция The Bell"
    newsletter.save()
    story = StoryFactory(
        issue__newsletter=newsletter, headline="Путин и Трамп: чего ждать — and a long headline"
    )
    BlockFactory(story=story, text="Line with trailing spaces   \nand a . dot line\n" + "x" * 300)
    BlockFactory(story=story, text=".NET and .. two dots start this paragraph")
    BlockFactory(story=story, text="Кремль ждёт. " * 40)
    return issue_mailing_prepare(rendered=issue_render(issue=story.issue), issue=story.issue)


def parse(wire: bytes):
    # As a server stores it: one leading dot of each dot-stuffed line removed.
    return email.message_from_bytes(wire_unstuff(wire), policy=email.policy.default)


def test_raw_message_reads_like_the_django_message(mailing, newsletter):
    subscriber = SubscriptionFactory(newsletter=newsletter).subscriber
    raw_message = RawIssueMessage(mailing)
    raw = raw_message.render(raw_message.personal(subscriber=subscriber))
    ours = parse(raw)
    # As Django's SMTP backend puts it on the wire.
    django = email.message_from_bytes(
        mailing.message(subscriber=subscriber).message().as_bytes(linesep="\r\n"),
        policy=email.policy.default,
    )

    assert not ours.defects
    for name in SAME_HEADERS:
        assert str(ours[name]) == str(django[name]), name
    assert " ".join(str(ours["List-Unsubscribe"]).split()) == " ".join(
        str(django["List-Unsubscribe"]).split()
    )
    assert ours["Date"] and ours["MIME-Version"] == "1.0"
    for kind in ("plain", "html"):
        ours_part = ours.get_body(preferencelist=(kind,))
        django_part = django.get_body(preferencelist=(kind,))
        assert ours_part.get_content() == django_part.get_content(), kind
        assert ours_part.get_content_charset() == "utf-8"
    assert ours.get_body(preferencelist=("plain",)).get_content().count("/u/") == 1
    # On the wire: CRLF only, 7-bit, every line within 998 octets (78 for encoded ones).
    assert b"\n" not in raw.replace(b"\r\n", b"")
    assert raw.isascii()
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998
    assert raw_message.from_address == newsletter.sender_email
    # Dot-stuffed: the paragraph that starts with a dot has two on the wire, one stored.
    assert b"\r\n..NET and" in raw
    assert ".NET and .. two dots" in ours.get_body(("plain",)).get_content()


def test_raw_message_differs_only_in_personal_parts(mailing, newsletter):
    first, second = (SubscriptionFactory(newsletter=newsletter).subscriber for _ in range(2))
    raw_message = RawIssueMessage(mailing)
    one = parse(raw_message.render(raw_message.personal(subscriber=first)))
    two = parse(raw_message.render(raw_message.personal(subscriber=second)))
    assert one["To"] == first.email and two["To"] == second.email
    assert one["Message-ID"] != two["Message-ID"]
    assert one["List-Unsubscribe"] != two["List-Unsubscribe"]
    assert str(one["Subject"]) == str(two["Subject"])
