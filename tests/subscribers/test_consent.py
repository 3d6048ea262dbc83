"""No way in undoes what a person told us: an unsubscribe, a suppression, a bounce, a complaint
or an erasure outlives every file, form and admin page (subscribers/consent.py)."""

import csv
import io
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from subscribers.members import members_import
from subscribers.models import Subscriber, Subscription
from subscribers.services import (
    address_is_suppressed,
    address_suppress,
    subscriber_erase,
    subscriber_unsubscribe,
    subscriber_unsubscribe_all,
)
from subscribers.tokens import unsubscribe_token_make
from tests.factories import SubscriberFactory, SubscriptionFactory, UserFactory
from tests.subscribers.conftest import links_in

pytestmark = pytest.mark.django_db

LEFT_DAYS_AGO = 2
# Everyone who told us to stop, and how.
LEFT = "left@example.org"  # the one-click unsubscribe link, two days ago
QUIET = "quiet@example.org"  # unsubscribed by staff before any subscription: no time to compare
SUPPRESSED = "suppressed@example.org"
BOUNCED = "bounced@example.org"
COMPLAINED = "complained@example.org"
ERASED = "erased@example.org"
EVERYONE = [LEFT, QUIET, SUPPRESSED, BOUNCED, COMPLAINED, ERASED]


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@pytest.fixture
def people_who_left(newsletter):
    left = SubscriptionFactory(newsletter=newsletter, subscriber__email=LEFT).subscriber
    subscriber_unsubscribe(token=unsubscribe_token_make(subscriber=left, newsletter=newsletter))
    Subscription.objects.filter(subscriber=left).update(
        unsubscribed_at=timezone.now() - timedelta(days=LEFT_DAYS_AGO)
    )
    quiet = SubscriberFactory(
        email=QUIET, status="pending", consent_at=None, consent_method="", consent_source=""
    )
    subscriber_unsubscribe_all(subscriber=quiet, how="admin")
    for email, reason in [
        (SUPPRESSED, "manual"),
        (BOUNCED, "hard_bounce"),
        (COMPLAINED, "complaint"),
    ]:
        SubscriptionFactory(newsletter=newsletter, subscriber__email=email)
        address_suppress(email=email, reason=reason)
    subscriber_erase(subscriber=SubscriptionFactory(subscriber__email=ERASED).subscriber)
    return state(newsletter)


def state(newsletter) -> dict:
    """Each person's status and subscription to the newsletter, and whether they are suppressed."""
    found = {}
    for email in EVERYONE:
        subscriber = Subscriber.objects.filter(email=email).first()
        subscription = subscriber and subscriber.subscriptions.filter(newsletter=newsletter).first()
        found[email] = (
            subscriber and subscriber.status,
            subscription and subscription.status,
            address_is_suppressed(email=email),
        )
    return found


def import_file(tmp_path, name, rows):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "subscribed_to_emails", "created_at"])
        writer.writerows(rows)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_subscribers", str(path), "--no-progress", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_import_never_undoes_a_stop(tmp_path, newsletter, people_who_left):
    before = people_who_left
    now = timezone.now()
    undated = [[email, "Back again", "true", ""] for email in EVERYONE]
    future = [[email, "Back again", "true", "9999-01-01T00:00:00.000Z"] for email in EVERYONE]
    an_hour_ahead = [
        [email, "Back again", "true", iso(now + timedelta(hours=1))] for email in EVERYONE
    ]
    older = [
        [email, "Back again", "true", iso(now - timedelta(days=LEFT_DAYS_AGO + 1))]
        for email in EVERYONE
    ]

    out, err = import_file(tmp_path, "undated.csv", undated)
    assert state(newsletter) == before
    assert "subscribed 0 existing subscribers" in out
    assert "undated.csv: line 2: unsubscribed; the file gives no date for its consent" in err
    assert "undated.csv: line 3: unsubscribed; the file gives no date for its consent" in err
    for line in (4, 5, 6, 7):
        assert f"undated.csv: line {line}: the address is suppressed" in err

    for name, rows in [("future.csv", future), ("ahead.csv", an_hour_ahead)]:
        out, err = import_file(tmp_path, name, rows)
        assert state(newsletter) == before
        assert "Imported 0 subscribers" in out
        for line in range(2, 8):
            assert f"{name}: line {line}: created_at is in the future" in err

    out, err = import_file(tmp_path, "older.csv", older)
    assert state(newsletter) == before
    assert "older.csv: line 2: unsubscribed after the consent the file records" in err
    assert "older.csv: line 3: unsubscribed; when is not recorded" in err

    # A consent dated after the leaving is the person coming back (a later sign-up in Ghost).
    out, _ = import_file(
        tmp_path, "later.csv", [[LEFT, "Back again", "true", iso(now - timedelta(days=1))]]
    )
    assert "subscribed 1 existing subscribers" in out
    assert state(newsletter)[LEFT] == ("active", "active", False)


def test_the_admin_cannot_subscribe_again_anyone_who_stopped(client, newsletter, people_who_left):
    client.force_login(UserFactory(username="admin", is_superuser=True))
    add = reverse("admin:subscribers_subscriber_add")

    for email in EVERYONE:
        response = client.post(add, {"email": email, "name": "Back", "tier": "free"})
        assert response.status_code == 200, email  # the form again, with the reason
        page = response.content.decode()
        assert (
            "This address is suppressed" in page
            if address_is_suppressed(email=email)
            else "Subscriber with this Email address already exists" in page
        ), email

    left = Subscriber.objects.get(email=LEFT)
    subscription = left.subscriptions.get()
    response = client.post(
        reverse("admin:subscribers_subscriber_change", args=[left.pk]),
        {
            "name": "Left",
            "tier": "free",
            "note": "",
            "labels": "",
            "stripe_customer_id": "",
            # Fields the page shows read-only, forged into the post.
            "status": "active",
            "consent_at": "2030-01-01 00:00:00",
            "subscriptions-TOTAL_FORMS": "1",
            "subscriptions-INITIAL_FORMS": "1",
            "subscriptions-0-id": str(subscription.pk),
            "subscriptions-0-subscriber": str(left.pk),
            "subscriptions-0-status": "active",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Subscriber.objects.get(pk=left.pk).name == "Left"  # the edit itself went through
    assert state(newsletter) == people_who_left


def test_signing_up_again_needs_the_persons_own_click(
    client, newsletter, people_who_left, django_capture_on_commit_callbacks
):
    url = reverse("subscribers:signup_newsletter", args=[newsletter.slug])
    for n, email in enumerate(EVERYONE):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url,
                {"email": email, "name": "Back", "newsletter": newsletter.slug},
                REMOTE_ADDR=f"203.0.113.{n + 1}",
            )
        assert response.status_code == 302

    # Nobody is subscribed by the form alone (one with no subscription left gets a pending
    # one); suppressed and erased addresses get no mail at all.
    assert state(newsletter) == {
        **people_who_left,
        QUIET: ("unsubscribed", "pending", False),
    }
    assert sorted(address for message in mail.outbox for address in message.to) == [LEFT, QUIET]

    # The person's own click on the link mailed to them is a new consent, dated now.
    (message,) = [message for message in mail.outbox if message.to == [LEFT]]
    (link,) = set(links_in(message.body, "/confirm/"))
    response = client.post(link.removeprefix("http://127.0.0.1:8000"))
    assert response.status_code == 200
    assert state(newsletter)[LEFT] == ("active", "active", False)


def test_the_ghost_migrations_members_follow_the_same_rule(newsletter, people_who_left):
    members = [
        # As Ghost's JSON export gives them: booleans, nulls, its own date format.
        {"email": LEFT, "name": "Left", "subscribed": True, "created_at": None},
        {"email": QUIET, "name": None, "subscribed": True, "created_at": "2024-03-01 10:00:00"},
        {"email": SUPPRESSED, "subscribed": True, "created_at": "2024-03-01 10:00:00"},
        {"email": BOUNCED, "subscribed": True, "created_at": "9999-12-31 23:59:59"},
        {"email": COMPLAINED, "subscribed": True, "created_at": "2024-03-01 10:00:00"},
        {"email": ERASED, "subscribed": True, "created_at": "2024-03-01 10:00:00"},
    ]

    report = members_import(
        records=enumerate(members, start=1),
        newsletter=newsletter,
        source="ghost-export.json",
        consent_column="subscribed",
        unit="member",
    )

    assert state(newsletter) == people_who_left
    assert (report.imported, report.subscribed) == (0, 0)
    assert dict(report.problems) == {
        1: "member 1: unsubscribed; the file gives no date for its consent",
        2: "member 2: unsubscribed; when is not recorded, so only a new sign-up brings them back",
        3: "member 3: the address is suppressed",
        4: "member 4: created_at is in the future: '9999-12-31 23:59:59'",
        5: "member 5: the address is suppressed",
        6: "member 6: the address is suppressed",
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("how", ["unsubscribe", "bounce"])
def test_a_stop_that_comes_in_while_an_import_runs_is_kept(newsletter, how):
    """The import locks the stored subscribers it read: a one-click unsubscribe or a bounce
    arriving meanwhile waits for it, then wins, instead of being overwritten."""
    import threading

    from django.db import connection

    from subscribers.members import subscribers_import

    if connection.vendor != "postgresql":
        pytest.skip("a second connection shares the test database only on PostgreSQL")
    known = SubscriptionFactory(
        newsletter=newsletter,
        status="pending",
        subscriber__email="known@example.org",
        subscriber__status="pending",
        subscriber__consent_at=None,
        subscriber__consent_method="",
    ).subscriber
    data = (
        "email,subscribed_to_emails,created_at\n"
        f"known@example.org,true,{iso(timezone.now() - timedelta(days=1))}\n"
        + "".join(f"new{n}@example.org,true,\n" for n in range(3))
    ).encode()
    finished = threading.Event()

    def stop():
        try:
            if how == "unsubscribe":
                subscriber_unsubscribe(
                    token=unsubscribe_token_make(subscriber=known, newsletter=newsletter)
                )
            else:
                address_suppress(email="known@example.org", reason="hard_bounce")
            finished.set()
        finally:
            connection.close()

    other = threading.Thread(target=stop)

    def progress(phase, done, total):
        if phase == "writing" and not other.is_alive() and not finished.is_set():
            other.start()
            # It waits for the import's lock on the subscriber.
            assert not finished.wait(timeout=1)

    report = subscribers_import(data=data, newsletter=newsletter, source="m.csv", progress=progress)
    other.join(timeout=10)

    assert finished.is_set() and report.subscribed == 1
    known.refresh_from_db()
    assert known.status == ("unsubscribed" if how == "unsubscribe" else "bounced")
    assert list(known.subscriptions.values_list("status", flat=True)) == ["unsubscribed"]


def test_a_lifted_suppression_lets_only_the_persons_own_signup_through(
    client, tmp_path, newsletter, people_who_left, django_capture_on_commit_callbacks
):
    from django.test import Client

    from subscribers.addresses import suppression_hash
    from subscribers.models import Suppression

    client.force_login(UserFactory(username="admin", is_superuser=True))
    suppression = Suppression.objects.get(address_hash=suppression_hash(ERASED))
    # The entry is the only record that the person asked us to stop: nobody deletes it.
    delete = reverse("admin:subscribers_suppression_delete", args=[suppression.pk])
    assert client.get(delete).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403

    # The person asks to come back; staff lift the entry.
    response = client.post(
        reverse("admin:subscribers_suppression_changelist"),
        {"action": "lift", "_selected_action": [suppression.pk]},
        follow=True,
    )
    assert "Lifted 1 suppression" in response.content.decode()

    # An old file and the admin's add form still cannot bring the address back …
    yesterday = iso(timezone.now() - timedelta(days=1))
    _, err = import_file(tmp_path, "old.csv", [[ERASED, "Erased", "true", yesterday]])
    assert "old.csv: line 2: the address is suppressed" in err
    page = client.post(
        reverse("admin:subscribers_subscriber_add"),
        {"email": ERASED, "name": "Erased", "tier": "free"},
    ).content.decode()
    assert "This address is suppressed" in page
    assert state(newsletter)[ERASED] == (None, None, True)

    # … the person's own sign-up does, once they confirm from the email.
    reader = Client()
    with django_capture_on_commit_callbacks(execute=True):
        reader.post(
            reverse("subscribers:signup_newsletter", args=[newsletter.slug]),
            {"email": ERASED, "newsletter": newsletter.slug},
            REMOTE_ADDR="203.0.113.9",
        )
    (message,) = mail.outbox
    (link,) = set(links_in(message.body, "/confirm/"))
    assert reader.post(link.removeprefix("http://127.0.0.1:8000")).status_code == 200
    assert state(newsletter)[ERASED] == ("active", "active", False)

    # A new bounce suppresses the address again, for good.
    address_suppress(email=ERASED, reason="hard_bounce")
    assert state(newsletter)[ERASED] == ("bounced", "unsubscribed", True)


def test_a_new_stop_rearms_a_lifted_suppression(
    client, newsletter, people_who_left, django_capture_on_commit_callbacks
):
    from subscribers.addresses import suppression_hash
    from subscribers.models import Suppression
    from subscribers.services import suppression_lift

    suppression = Suppression.objects.get(address_hash=suppression_hash(SUPPRESSED))
    assert suppression_lift(suppression=suppression)
    address_suppress(email=SUPPRESSED, reason="complaint")  # before the person signed up

    suppression.refresh_from_db()
    assert (suppression.reason, suppression.lifted_at) == ("complaint", None)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("subscribers:signup_newsletter", args=[newsletter.slug]),
            {"email": SUPPRESSED, "newsletter": newsletter.slug},
        )
    assert mail.outbox == []
