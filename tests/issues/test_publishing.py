"""The scheduler pass: due issues go to sending and into the archive, once, at their time."""

import datetime as dt
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from issues.models import Issue, IssueEvent
from issues.scheduling import publish_due_issues
from issues.services import WorkflowError, issue_publish
from issues.signals import issue_published
from tests.factories import IssueFactory

MINUTE = dt.timedelta(minutes=1)


def scheduled(*, publish_at):
    return IssueFactory(status=Issue.Status.SCHEDULED, publish_at=publish_at)


@pytest.mark.django_db
def test_publish_due_issues_publishes_only_due_scheduled_issues():
    now = timezone.now()
    due = [scheduled(publish_at=now - MINUTE), scheduled(publish_at=now)]
    later = scheduled(publish_at=now + MINUTE)
    approved = IssueFactory(status=Issue.Status.APPROVED)

    published = publish_due_issues(now=now)

    assert sorted(published) == sorted(issue.pk for issue in due)
    for issue in due:
        issue.refresh_from_db()
        assert issue.status == Issue.Status.SENDING
        assert now <= issue.published_at <= timezone.now()
        event = issue.events.get()
        assert (event.action, event.from_status, event.to_status, event.actor) == (
            "publish",
            "scheduled",
            "sending",
            None,
        )
    later.refresh_from_db()
    approved.refresh_from_db()
    assert (later.status, later.published_at) == (Issue.Status.SCHEDULED, None)
    assert (approved.status, approved.published_at) == (Issue.Status.APPROVED, None)


@pytest.mark.django_db
def test_publish_due_issues_shows_the_issue_in_the_archive_only_from_then():
    issue = scheduled(publish_at=timezone.now() - MINUTE)
    assert not Issue.objects.published().filter(pk=issue.pk).exists()

    publish_due_issues()

    assert Issue.objects.published().filter(pk=issue.pk).exists()


@pytest.mark.django_db
def test_publish_due_issues_twice_publishes_nothing_twice():
    issue = scheduled(publish_at=timezone.now() - MINUTE)

    assert publish_due_issues() == [issue.pk]
    assert publish_due_issues() == []
    assert IssueEvent.objects.filter(issue=issue, action="publish").count() == 1


@pytest.mark.django_db
def test_issue_publish_refuses_an_issue_not_yet_due_or_not_scheduled():
    early = scheduled(publish_at=timezone.now() + MINUTE)
    with pytest.raises(WorkflowError) as refused:
        issue_publish(issue=early)
    assert refused.value.code == "early"
    with pytest.raises(WorkflowError) as refused:
        issue_publish(issue=IssueFactory(status=Issue.Status.APPROVED))
    assert refused.value.code == "state"


@pytest.mark.django_db
def test_issue_publish_rolls_back_with_a_failing_receiver():
    issue = scheduled(publish_at=timezone.now() - MINUTE)

    def refuse(sender, **kwargs):
        raise RuntimeError("snapshot failed")

    issue_published.connect(refuse, dispatch_uid="test.refuse")
    try:
        with pytest.raises(RuntimeError):
            publish_due_issues()
    finally:
        issue_published.disconnect(dispatch_uid="test.refuse")
    issue.refresh_from_db()
    assert (issue.status, issue.published_at) == (Issue.Status.SCHEDULED, None)
    assert not issue.events.exists()


@pytest.mark.django_db
def test_publish_due_command_prints_what_it_published():
    issue = scheduled(publish_at=timezone.now() - MINUTE)
    out = StringIO()
    call_command("publish_due", stdout=out)
    assert f"(id {issue.pk})" in out.getvalue()
    out = StringIO()
    call_command("publish_due", stdout=out)
    assert out.getvalue().strip() == "Nothing due."


@pytest.mark.django_db
def test_publish_due_task_publishes_due_issues():
    from issues.tasks import publish_due

    issue = scheduled(publish_at=timezone.now() - MINUTE)
    assert publish_due.delay().get() == [issue.pk]


def test_publish_due_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["publish-due-issues"]
    assert entry["task"] == "issues.tasks.publish_due"
    assert entry["schedule"] <= dt.timedelta(seconds=60)
    assert entry["options"]["expires"] < entry["schedule"].total_seconds()


@pytest.mark.django_db(transaction=True)
def test_publish_due_issues_in_two_processes_at_once_publishes_each_issue_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks (SKIP LOCKED) need PostgreSQL")
    issues = [scheduled(publish_at=timezone.now() - MINUTE) for _ in range(3)]
    start = threading.Barrier(2)
    results, errors = [], []

    def hold(sender, **kwargs):
        # Keep the first pass's transaction open while the second one looks for due issues.
        threading.Event().wait(0.3)

    def one_pass():
        try:
            start.wait()
            results.append(publish_due_issues())
        except Exception as error:  # reported in the main thread
            errors.append(error)
        finally:
            connection.close()

    issue_published.connect(hold, dispatch_uid="test.hold")
    try:
        threads = [threading.Thread(target=one_pass) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        issue_published.disconnect(dispatch_uid="test.hold")

    assert errors == []
    published = [pk for result in results for pk in result]
    assert sorted(published) == sorted(issue.pk for issue in issues)
    assert IssueEvent.objects.filter(action="publish").count() == len(issues)
