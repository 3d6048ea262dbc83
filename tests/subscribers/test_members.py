"""import_subscribers and export_subscribers: Ghost's columns, bad rows by line, idempotent."""

import csv
import io
import random

import pytest
from django.core.management import CommandError, call_command

from subscribers.members import GHOST_COLUMNS
from subscribers.models import Subscriber, Subscription
from subscribers.services import address_suppress
from tests.factories import NewsletterFactory

pytestmark = pytest.mark.django_db


def ghost_row(n, **overrides):
    row = {
        "email": f"Member{n}@Example.org",
        "name": f"Member {n}",
        "note": "",
        "subscribed_to_emails": "true" if n % 4 else "false",
        "complimentary_plan": "true" if n % 50 == 0 else "false",
        "stripe_customer_id": f"cus_{n}" if n % 10 == 0 else "",
        "created_at": "2023-05-04T10:11:12.000Z",
        "deleted_at": "",
        "labels": "import-2023, vip" if n % 7 == 0 else "",
        "tiers": "",
    }
    row.update(overrides)
    return row


def write_csv(path, rows, columns=GHOST_COLUMNS):
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_ghost_csv_of_10000_rows_with_bad_rows(tmp_path, newsletter):
    rows = [ghost_row(n) for n in range(1, 10_001)]
    # Line numbers: the header is line 1, so rows[i] is on line i + 2.
    rows[9]["email"] = "not an address"  # line 11
    rows[99]["email"] = rows[0]["email"].upper()  # line 101: same as line 2
    rows[199]["deleted_at"] = "2024-01-01T00:00:00.000Z"  # line 201
    rows[299]["subscribed_to_emails"] = "perhaps"  # line 301
    rows[399]["created_at"] = "last Tuesday"  # line 401
    rows[499]["name"] = "Evil\r\nBcc: all@example.org"  # line 501
    rows[599]["email"] = "x@example.org\nBcc: all@example.org"
    path = write_csv(tmp_path / "members.csv", rows)

    out, err = run("import_subscribers", str(path))

    assert Subscriber.objects.count() == 10_000 - 7
    expected_active = sum(
        1
        for i, row in enumerate(rows)
        if row["subscribed_to_emails"] == "true" and i not in {9, 99, 199, 299, 399, 499, 599}
    )
    assert Subscriber.objects.filter(status="active").count() == expected_active
    assert Subscription.objects.filter(status="active").count() == expected_active
    assert not Subscriber.objects.filter(status="active", consent_at__isnull=True).exists()
    assert f"Imported {10_000 - 7} subscribers ({expected_active} active)" in out
    for message in [
        "members.csv: line 11: not a valid email address",
        "members.csv: line 101: the same address as line 2",
        "members.csv: line 201: deleted in Ghost",
        "members.csv: line 301: subscribed_to_emails must be true or false",
        "members.csv: line 401: created_at is not a date and time",
        "members.csv: line 501: A name must be a single line of text.",
        "members.csv: line 602: not a valid email address",  # line 501 spans two lines
    ]:
        assert message in err
    assert "[##############################]" in err  # the progress bar, on stderr
    member = Subscriber.objects.get(email="member50@example.org")
    assert (member.tier, member.stripe_customer_id) == ("complimentary", "cus_50")
    assert Subscriber.objects.get(email="member20@example.org").tier == "paid"
    assert Subscriber.objects.get(email="member4@example.org").status == "pending"
    assert Subscriber.objects.get(email="member1@example.org").consent_method == "import"

    # Importing the same file again adds nothing.
    out, err = run("import_subscribers", str(path))
    assert Subscriber.objects.count() == 10_000 - 7
    assert "Imported 0 subscribers" in out
    assert f"{10_000 - 7} existing" in out


def test_import_plain_email_name_csv_waits_for_consent(tmp_path, newsletter):
    path = tmp_path / "plain.csv"
    path.write_text("email,name\nanna@example.com,Anna\nboris@пример.рф,Борис\n", encoding="utf-8")
    out, _ = run("import_subscribers", str(path))
    assert "Imported 2 subscribers (0 active)" in out
    assert set(Subscriber.objects.values_list("email", "status")) == {
        ("anna@example.com", "pending"),
        ("boris@xn--e1afmkfd.xn--p1ai", "pending"),
    }
    # On the newsletter's list, waiting: nobody is mailed.
    assert set(Subscription.objects.values_list("status", flat=True)) == {"pending"}
    assert not Subscriber.objects.subscribed_to(newsletter).exists()


def test_import_skips_suppressed_addresses(tmp_path, newsletter):
    address_suppress(email="gone@example.com", reason="complaint")
    path = write_csv(tmp_path / "m.csv", [ghost_row(1, email="Gone@Example.com"), ghost_row(2)])
    _, err = run("import_subscribers", str(path))
    assert "line 2: the address is suppressed" in err
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["member2@example.org"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"email,name\nanna@example.com,Anna\nbob@example.com,B\xe9b\n", "line 3: not valid UTF-8"),
        (b"mail,full name\nanna@example.com,Anna\n", "line 1: missing column 'email'"),
        (b"", "the file is empty"),
        (b"email,name\nanna@example.com,\x00Anna\n", "line 2: the file contains NUL bytes"),
        (b'email,name\nanna@example.com,"Anna\nbob@example.com,Bob\n', "unexpected end of data"),
    ],
)
def test_import_unreadable_file_writes_nothing(tmp_path, newsletter, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run("import_subscribers", str(path))
    assert message in str(error.value)
    assert "nothing was imported" in str(error.value)
    assert not Subscriber.objects.exists()


def test_import_needs_a_newsletter_when_there_are_several(tmp_path, newsletter):
    NewsletterFactory(slug="daily", name="Daily")
    path = write_csv(tmp_path / "m.csv", [ghost_row(1)])
    with pytest.raises(CommandError, match="--newsletter"):
        run("import_subscribers", str(path))
    run("import_subscribers", str(path), "--newsletter", "daily")
    assert Subscription.objects.get().newsletter.slug == "daily"


def test_import_missing_file_is_a_clear_error(tmp_path, newsletter):
    with pytest.raises(CommandError, match="No such file"):
        run("import_subscribers", str(tmp_path / "nope.csv"))


def test_export_writes_ghost_columns_and_reads_back(tmp_path, newsletter):
    rows = [ghost_row(n) for n in range(1, 21)]
    rows[0]["name"] = '=HYPERLINK("http://evil.example")'
    run("import_subscribers", str(write_csv(tmp_path / "in.csv", rows)))
    before = sorted(
        Subscriber.objects.values_list("email", "name", "status", "tier", "labels", "created_at")
    )

    out, _ = run("export_subscribers")
    exported = list(csv.DictReader(io.StringIO(out)))
    assert list(exported[0].keys()) == GHOST_COLUMNS
    assert len(exported) == 20
    by_email = {row["email"]: row for row in exported}
    assert by_email["member1@example.org"]["name"].startswith("'=")  # no formula in a spreadsheet
    assert by_email["member1@example.org"]["subscribed_to_emails"] == "true"
    assert by_email["member4@example.org"]["subscribed_to_emails"] == "false"

    (tmp_path / "out.csv").write_text(out, encoding="utf-8")
    Subscriber.objects.all().delete()
    run("import_subscribers", str(tmp_path / "out.csv"))
    after = sorted(
        Subscriber.objects.values_list("email", "name", "status", "tier", "labels", "created_at")
    )
    assert after == before


def test_export_to_a_file(tmp_path, newsletter):
    run("import_subscribers", str(write_csv(tmp_path / "in.csv", [ghost_row(1)])))
    _, err = run("export_subscribers", "--output", str(tmp_path / "out.csv"))
    assert "Exported 1 subscribers" in err
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").startswith(",".join(GHOST_COLUMNS))


def test_import_rows_in_random_order_are_still_reported_by_line(tmp_path, newsletter):
    rows = [ghost_row(n) for n in range(1, 101)]
    random.Random(4).shuffle(rows)
    rows[42]["email"] = "broken@"
    path = write_csv(tmp_path / "m.csv", rows)
    _, err = run("import_subscribers", str(path))
    assert "line 44: not a valid email address" in err


@pytest.mark.parametrize("email", ["=1+2@example.com", "+7-495@example.com", "-x@example.com"])
def test_export_escapes_a_formula_in_the_email_column_and_reads_back(
    tmp_path, newsletter, email, django_capture_on_commit_callbacks
):
    from subscribers.services import subscriber_subscribe

    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email=email, newsletter=newsletter)
    out, _ = run("export_subscribers")
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert row["email"] == "'" + email  # a spreadsheet shows it, never runs it
    (tmp_path / "out.csv").write_text(out, encoding="utf-8")
    Subscriber.objects.all().delete()
    run("import_subscribers", str(tmp_path / "out.csv"))
    assert list(Subscriber.objects.values_list("email", flat=True)) == [email]


def test_import_subscribes_known_addresses_only_with_consent_and_stays_idempotent(
    tmp_path, newsletter, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from subscribers.services import subscriber_subscribe
    from tests.factories import SubscriberFactory, SubscriptionFactory

    other = NewsletterFactory(slug="the-bell-daily", name="The Bell Daily")
    # Active, but subscribed to another newsletter only.
    SubscriptionFactory(newsletter=other, subscriber__email="reader@example.org")
    # Signed up through the form, never confirmed.
    with django_capture_on_commit_callbacks(execute=True):
        subscriber_subscribe(email="pending@example.org", newsletter=newsletter)
        subscriber_subscribe(email="waiting@example.org", newsletter=newsletter)
    # Left after the consent the file records; and one who left before a fresh consent.
    SubscriptionFactory(
        newsletter=newsletter,
        subscriber__email="left@example.org",
        subscriber__status="unsubscribed",
        status="unsubscribed",
        unsubscribed_at=timezone.now(),
    )
    SubscriptionFactory(
        newsletter=newsletter,
        subscriber__email="back@example.org",
        subscriber__status="unsubscribed",
        status="unsubscribed",
        unsubscribed_at=timezone.now() - timezone.timedelta(days=30),
    )
    # Suppressed, with its row still here.
    SubscriberFactory(email="gone@example.org", status="unsubscribed")
    address_suppress(email="gone@example.org", reason="manual")
    SubscriptionFactory(newsletter=newsletter, subscriber__email="already@example.org")

    fresh = timezone.now().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    path = write_csv(
        tmp_path / "m.csv",
        [
            ghost_row(1, email="Reader@Example.org", subscribed_to_emails="true"),
            ghost_row(2, email="pending@example.org", subscribed_to_emails="true"),
            ghost_row(3, email="waiting@example.org", subscribed_to_emails="false"),
            ghost_row(4, email="left@example.org", subscribed_to_emails="true"),
            ghost_row(5, email="back@example.org", subscribed_to_emails="true", created_at=fresh),
            ghost_row(6, email="gone@example.org", subscribed_to_emails="true"),
            ghost_row(7, email="already@example.org", subscribed_to_emails="true"),
        ],
    )
    out, err = run("import_subscribers", str(path), "--newsletter", newsletter.slug)

    def state(email):
        subscriber = Subscriber.objects.get(email=email)
        subscription = subscriber.subscriptions.filter(newsletter=newsletter).first()
        return subscriber.status, subscription.status if subscription else None

    reader = Subscriber.objects.get(email="reader@example.org")
    assert state("reader@example.org") == ("active", "active")
    assert reader.consent_method == "double_opt_in"  # their own consent record stays
    assert state("pending@example.org") == ("active", "active")
    assert Subscriber.objects.get(email="pending@example.org").consent_method == "import"
    assert state("waiting@example.org") == ("pending", "pending")
    assert state("left@example.org") == ("unsubscribed", "unsubscribed")
    assert state("back@example.org") == ("active", "active")
    assert state("gone@example.org") == ("unsubscribed", None)
    assert state("already@example.org") == ("active", "active")
    assert "subscribed 3 existing subscribers" in out
    assert "line 4: already a subscriber; no consent in the file" in err
    assert "line 5: unsubscribed after the consent the file records" in err
    assert "line 7: the address is suppressed" in err
    assert "line 8: already subscribed" in err

    counts = (Subscriber.objects.count(), Subscription.objects.count())
    active = Subscription.objects.filter(status="active").count()
    out, _ = run("import_subscribers", str(path), "--newsletter", newsletter.slug)
    assert "Imported 0 subscribers" in out
    assert "subscribed 0 existing subscribers" in out
    assert (Subscriber.objects.count(), Subscription.objects.count()) == counts
    assert Subscription.objects.filter(status="active").count() == active


FIXTURES = __import__("pathlib").Path(__file__).parent / "fixtures"


@pytest.mark.parametrize(
    ("created_at", "message"),
    [
        ("9999-12-31T23:59:59Z", "created_at is in the future: '9999-12-31T23:59:59Z'"),
        ("2999-01-01T00:00:00.000Z", "created_at is in the future"),
        ("1989-12-31T23:59:59Z", "created_at is before 1990"),
        ("0001-01-01T00:00:00+01:00", "created_at is out of range"),
        ("9999-12-31T23:59:59-05:00", "created_at is out of range"),
        ("2023-02-30T10:00:00Z", "created_at is not a date and time"),
    ],
)
def test_import_refuses_a_date_out_of_bounds_as_a_row_error(
    tmp_path, newsletter, created_at, message
):
    rows = [ghost_row(1, created_at=created_at), ghost_row(2)]
    out, err = run("import_subscribers", str(write_csv(tmp_path / "m.csv", rows)))

    assert f"m.csv: line 2: {message}" in err
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["member2@example.org"]
    assert "Imported 1 subscribers" in out and "skipped 1 (1 invalid)" in out


def test_import_takes_a_date_a_moment_ahead_and_an_undated_consent(tmp_path, newsletter):
    from django.utils import timezone

    ahead = timezone.now() + timezone.timedelta(minutes=2)
    rows = [
        ghost_row(1, created_at=ahead.strftime("%Y-%m-%dT%H:%M:%S.000Z")),  # a clock ahead
        ghost_row(2, created_at=""),
    ]
    out, err = run("import_subscribers", str(write_csv(tmp_path / "m.csv", rows)))

    assert "Imported 2 subscribers (2 active)" in out, err
    undated = Subscriber.objects.get(email="member2@example.org")
    assert undated.consent_source == "import: m.csv (no consent date in the file)"
    assert abs(undated.consent_at - timezone.now()) < timezone.timedelta(minutes=1)


def test_import_reads_ghost_3s_subscribed_column(newsletter):
    path = FIXTURES / "ghost3-members.csv"

    out, err = run("import_subscribers", str(path), "--no-progress")

    assert Subscriber.objects.count() == 20
    assert Subscriber.objects.filter(status="active").count() == 16
    assert Subscription.objects.filter(newsletter=newsletter, status="active").count() == 16
    assert set(Subscriber.objects.filter(status="pending").values_list("email", flat=True)) == {
        "dmitri@ghost3.example",
        "irina@ghost3.example",
        "nikolai@ghost3.example",
        "roman@ghost3.example",
    }
    anna = Subscriber.objects.get(email="anna@ghost3.example")
    assert anna.consent_at.isoformat() == "2019-01-01T08:00:00+00:00"
    assert "Imported 20 subscribers (16 active)" in out and err == ""
    # Ghost's own member id is not kept, and the summary says so.
    assert "Ignored columns, not read by BellCMS: id." in out


def test_import_names_the_columns_it_does_not_read(tmp_path, newsletter):
    path = tmp_path / "gifts.csv"
    path.write_text(
        "email,gift_id,import_tier,name,Subscribed_To_Emails,,labels\n"
        "member+gift@example.com,abc123abc123abc123abc123,Premium Tier,Gift,true,x,vip\n",
        encoding="utf-8",
    )

    out, _ = run("import_subscribers", str(path), "--no-progress")

    assert "Imported 1 subscribers (1 active)" in out
    assert "Ignored columns, not read by BellCMS: gift_id, import_tier, (unnamed column 6)." in out
    assert Subscriber.objects.get().labels == "vip"


@pytest.mark.parametrize(
    "content",
    [
        "email,name,note,subscribed_to_emails,labels,created_at\n",
        "email,name\r\n\r\n , \r\n",
    ],
    ids=["ghost-headers-only", "blank-rows"],
)
def test_import_of_a_header_without_rows_fails_and_says_so(tmp_path, newsletter, content):
    path = tmp_path / "empty.csv"
    path.write_text(content, encoding="utf-8")
    out = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import_subscribers", str(path), stdout=out)

    assert (
        str(raised.value) == "empty.csv: the file has a header but no rows; nothing was imported."
    )
    assert not Subscriber.objects.exists()


def test_export_import_export_gives_the_same_file(tmp_path, newsletter):
    """The formula guard goes both ways: every value comes back exactly as it was."""
    from django.utils import timezone

    from subscribers.models import Subscriber as S
    from tests.factories import SubscriberFactory, SubscriptionFactory

    tricky = [
        "'=SUM(A1)",  # a name that begins with '= keeps its quote
        "=SUM(A1)",
        "''=x",
        "'Tis the season",
        "-5",
        "+44 123",
        "@handle",
        "'@x",
        "O'Brien",
        "Łukasz Ström",
    ]
    created = timezone.now().replace(microsecond=0) - timezone.timedelta(days=3)
    for n, name in enumerate(tricky):
        SubscriptionFactory(
            newsletter=newsletter,
            subscriber__email=f"person{n}@example.org",
            subscriber__name=name,
            subscriber__note=f"{name}\nsecond line" if n % 2 else "",
            subscriber__labels="'=label, vip" if n == 3 else "",
            subscriber__tier=["free", "paid", "complimentary"][n % 3],
            subscriber__stripe_customer_id="=cus_1" if n == 1 else "",
            subscriber__created_at=created,
        )
    SubscriberFactory(
        email="waiting@example.org", status="pending", consent_at=None, created_at=created
    )
    stored = sorted(S.objects.values_list("email", "name", "note", "labels", "tier", "status"))

    first, _ = run("export_subscribers")
    (tmp_path / "first.csv").write_text(first, encoding="utf-8")
    S.objects.all().delete()
    out, err = run("import_subscribers", str(tmp_path / "first.csv"), "--no-progress")
    second, _ = run("export_subscribers")

    assert err == "" and "Imported 11 subscribers (10 active)" in out
    assert (
        sorted(S.objects.values_list("email", "name", "note", "labels", "tier", "status")) == stored
    )
    assert S.objects.get(email="person0@example.org").name == "'=SUM(A1)"
    assert second == first
    by_email = {row["email"]: row for row in csv.DictReader(io.StringIO(first))}
    assert by_email["person1@example.org"]["name"] == "'=SUM(A1)"  # never run as a formula
    assert by_email["person0@example.org"]["name"] == "''=SUM(A1)"


@pytest.mark.parametrize(
    ("column", "limit"), [("note", 2000), ("labels", 500), ("stripe_customer_id", 100)]
)
def test_import_refuses_a_value_too_long_to_store_rather_than_cut_it(
    tmp_path, newsletter, column, limit
):
    rows = [ghost_row(1, **{column: "x" * limit}), ghost_row(2, **{column: "y" * (limit + 1)})]
    _, err = run("import_subscribers", str(write_csv(tmp_path / "m.csv", rows)))

    assert f"m.csv: line 3: {column} is longer than {limit} characters ({limit + 1})" in err
    (stored,) = Subscriber.objects.all()
    assert getattr(stored, column) == "x" * limit


def test_export_of_one_newsletter_round_trips_too(tmp_path, newsletter):
    from django.utils import timezone

    from subscribers.models import Subscriber as S
    from tests.factories import SubscriptionFactory

    other = NewsletterFactory(slug="the-bell-daily", name="The Bell Daily")
    SubscriptionFactory(newsletter=newsletter, subscriber__email="reader@example.org")
    SubscriptionFactory(
        newsletter=newsletter,
        subscriber__email="left@example.org",
        subscriber__status="unsubscribed",
        status="unsubscribed",
        unsubscribed_at=timezone.now(),
    )
    SubscriptionFactory(newsletter=other, subscriber__email="daily@example.org")

    first, _ = run("export_subscribers", "--newsletter", newsletter.slug)
    (tmp_path / "weekly.csv").write_text(first, encoding="utf-8")
    S.objects.all().delete()
    run("import_subscribers", str(tmp_path / "weekly.csv"), "--newsletter", newsletter.slug)
    second, _ = run("export_subscribers", "--newsletter", newsletter.slug)

    assert [row["email"] for row in csv.DictReader(io.StringIO(first))] == [
        "reader@example.org",
        "left@example.org",
    ]
    assert second == first
    # The one who left comes back as pending, on the newsletter's list: no mail until they
    # confirm.
    left = S.objects.get(email="left@example.org")
    assert left.status == "pending"
    assert list(left.subscriptions.values_list("newsletter__slug", "status")) == [
        (newsletter.slug, "pending")
    ]
