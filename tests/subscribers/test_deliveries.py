"""The audience snapshot: one Delivery per subscriber an issue goes to, taken at publication."""

import datetime as dt
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from issues.models import Issue
from issues.scheduling import publish_due_issues
from subscribers.models import Delivery, Subscriber, Subscription
from subscribers.services import address_suppress
from tests.factories import IssueFactory, SubscriberFactory, SubscriptionFactory
from tests.processes import MANAGE, ROOT, clean_env

MINUTE = dt.timedelta(minutes=1)


def due_issue(newsletter):
    return IssueFactory(
        newsletter=newsletter,
        status=Issue.Status.SCHEDULED,
        publish_at=timezone.now() - MINUTE,
    )


def subscribed(newsletter, **fields):
    return SubscriptionFactory(newsletter=newsletter, **fields).subscriber


@pytest.mark.django_db
def test_snapshot_takes_exactly_the_active_subscribed_and_not_suppressed(newsletter):
    from tests.factories import NewsletterFactory

    readers = [subscribed(newsletter) for _ in range(3)]
    subscribed(newsletter, status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=timezone.now())
    subscribed(newsletter, status=Subscription.Status.PENDING, confirmed_at=None)
    subscribed(newsletter, subscriber=SubscriberFactory(status=Subscriber.Status.PENDING))
    subscribed(newsletter, subscriber=SubscriberFactory(status=Subscriber.Status.BOUNCED))
    subscribed(newsletter, subscriber=SubscriberFactory(status=Subscriber.Status.UNSUBSCRIBED))
    complained = subscribed(newsletter)
    address_suppress(email=complained.email, reason="complaint")
    manual = subscribed(newsletter)
    address_suppress(email=manual.email.upper(), reason="manual")
    other = NewsletterFactory(name="Other", slug="other", kicker="OTHER")
    subscribed(other)
    issue = due_issue(newsletter)

    publish_due_issues()

    deliveries = Delivery.objects.filter(issue=issue)
    assert sorted(deliveries.values_list("subscriber_id", flat=True)) == sorted(
        reader.pk for reader in readers
    )
    assert {(d.status, d.attempts, d.message_id, d.sent_at) for d in deliveries} == {
        (Delivery.Status.PENDING, 0, "", None)
    }
    assert Delivery.objects.count() == len(readers)


@pytest.mark.django_db
def test_snapshot_twice_creates_no_duplicate_deliveries(newsletter):
    from subscribers.dispatch.start import deliveries_snapshot

    readers = [subscribed(newsletter) for _ in range(4)]
    issue = due_issue(newsletter)
    publish_due_issues()
    publish_due_issues()
    assert Delivery.objects.filter(issue=issue).count() == len(readers)

    # A second snapshot of the same issue adds only whoever is missing.
    late = subscribed(newsletter)
    assert deliveries_snapshot(issue=issue) == 1
    assert Delivery.objects.filter(issue=issue).count() == len(readers) + 1
    assert Delivery.objects.filter(issue=issue, subscriber=late).exists()


@pytest.mark.django_db
def test_snapshot_is_one_insert_for_500_subscribers(newsletter):
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(
            email=f"bulk{n}@mail.example",
            status=Subscriber.Status.ACTIVE,
            consent_at=now,
            consent_method="import",
        )
        for n in range(500)
    )
    Subscription.objects.bulk_create(
        Subscription(
            subscriber=subscriber,
            newsletter=newsletter,
            status=Subscription.Status.ACTIVE,
            confirmed_at=now,
        )
        for subscriber in subscribers
    )
    issue = due_issue(newsletter)
    table = Delivery._meta.db_table

    with CaptureQueriesContext(connection) as queries:
        publish_due_issues()

    inserts = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().upper().startswith("INSERT") and table in query["sql"]
    ]
    assert len(inserts) == 1
    assert Delivery.objects.filter(issue=issue).count() == 500


@pytest.mark.django_db
def test_snapshot_rolls_back_with_the_publication(newsletter):
    from issues.signals import issue_published

    subscribed(newsletter)
    issue = due_issue(newsletter)

    def fail(sender, **kwargs):
        # Connected after the snapshot's receiver, so it runs once the rows are inserted.
        assert Delivery.objects.filter(issue=kwargs["issue"]).exists()
        raise RuntimeError("a later receiver failed")

    issue_published.connect(fail, dispatch_uid="test.fail")
    try:
        with pytest.raises(RuntimeError):
            publish_due_issues()
    finally:
        issue_published.disconnect(dispatch_uid="test.fail")
    assert not Delivery.objects.exists()
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SCHEDULED


@pytest.mark.django_db(transaction=True)
def test_publish_due_in_two_processes_at_once_snapshots_each_audience_once(newsletter):
    if connection.vendor != "postgresql":
        pytest.skip("a second process shares the test database only on PostgreSQL")
    readers = [subscribed(newsletter) for _ in range(50)]
    issues = [due_issue(newsletter) for _ in range(3)]
    db = connection.settings_dict
    env = clean_env(
        DJANGO_SETTINGS_MODULE="bellcms.settings.test",
        DATABASE_URL=(
            f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
    )
    processes = [
        subprocess.Popen(
            [*MANAGE, "publish_due"], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=60)[0] for process in processes]

    assert [process.returncode for process in processes] == [0, 0]
    printed = [line for output in outputs for line in output.splitlines() if "(id " in line]
    assert sorted(printed) == sorted(
        f"Published {newsletter.slug} {issue} (id {issue.pk})" for issue in issues
    )
    for issue in issues:
        assert Delivery.objects.filter(issue=issue).count() == len(readers)
