"""Review notifications cross the real pieces: committed to PostgreSQL, queued on Redis, sent
by a Celery worker process to an SMTP server."""

import pytest

from issues.services import story_return, story_submit
from tests.factories import StoryFactory

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]


def test_submit_and_return_reach_the_other_side_through_a_real_worker(
    smtp, worker, editor, journalist
):
    _, inbox = smtp
    story = StoryFactory(headline="Sanctions: the “shadow fleet”", authors=[journalist])

    story_submit(story=story, acting_user=journalist)
    story_return(story=story, acting_user=editor, comment="Which tanker? Name it.")

    messages = inbox.wait_for(2, timeout=60)
    assert len(messages) == 2, "the worker did not deliver both notifications"
    by_recipient = {tuple(rcpt): message for rcpt, message in messages}
    for_editor = by_recipient[(editor.email,)]
    for_author = by_recipient[(journalist.email,)]
    # Django 5.2 folds a non-ASCII subject onto a continuation line; a strict parser keeps the
    # folding space in front, mail clients drop it.
    assert for_editor["Subject"].strip() == "For review: Sanctions: the “shadow fleet”"
    assert for_author["Subject"].strip() == "Returned to you: Sanctions: the “shadow fleet”"
    assert "Which tanker? Name it." in for_author.get_content()
