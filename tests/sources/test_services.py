"""Sources through their services: records, sealing, duplicates, grants and the reveal log."""

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone
from reversion.models import Version

from sources.keys import KeyUnavailable
from sources.models import AccessGrant, RevealEvent, Source, SourceIdentity
from sources.services import (
    RevealRefused,
    SourceRefused,
    access_grant,
    access_revoke,
    identity_replace,
    identity_reveal,
    source_create,
    source_possible_duplicates,
    source_verify,
)
from tests.factories import UserFactory
from tests.sources.conftest import PLANTED_NAME, identity, source_fields

pytestmark = pytest.mark.django_db


def grant_for(source, user, keeper, *, days=7):
    return access_grant(
        source=source,
        user=user,
        granted_by=keeper,
        reason="Checking the Kremlin story before publication.",
        expires_at=timezone.now() + timedelta(days=days),
    )


def test_source_create_keeps_the_public_record_and_seals_the_identity(source, journalist):
    assert str(source) == "KESTREL"
    assert source.handler == journalist
    assert [(d.text, d.plural) for d in source.descriptors.all()] == [
        ("a source with contacts inside the Kremlin", False),
        ("a Kremlin insider", False),
    ]
    sealed = SourceIdentity.objects.get(source=source)
    for field in SourceIdentity.SEALED_FIELDS:
        assert PLANTED_NAME.encode() not in bytes(getattr(sealed, field))
    # The version of the source holds its record and descriptors, never its identity.
    (version,) = Version.objects.get_for_object(source)
    assert version.field_dict["codename"] == "KESTREL"
    assert PLANTED_NAME not in version.serialized_data
    assert not Version.objects.filter(content_type__model="sourceidentity").exists()


@pytest.mark.parametrize(
    "reason",
    [
        "requested anonymity",
        "The source requested anonymity.",
        "Spoke on condition of anonymity",
        "asked not to be named",
        "",
    ],
)
def test_source_create_refuses_boilerplate_as_the_reason_for_anonymity(journalist, reason):
    with pytest.raises(SourceRefused) as refused:
        source_create(
            acting_user=journalist,
            codename="OSPREY",
            identity=identity(),
            descriptors=["an official"],
            **source_fields(anonymity_reason=reason),
        )
    assert refused.value.code == "anonymity_reason"
    assert not Source.objects.exists()


def test_source_create_takes_a_reason_that_says_what_the_source_risks(journalist):
    source = source_create(
        acting_user=journalist,
        codename="OSPREY",
        identity=identity(),
        descriptors=["two people familiar with the talks"],
        **source_fields(anonymity_reason="Requested anonymity: would lose the job at once."),
    )
    assert source.descriptors.get().plural


def test_source_create_without_keys_writes_nothing_and_says_what_to_set(journalist, settings):
    settings.SOURCE_MASTER_KEY = ""
    with pytest.raises(KeyUnavailable, match="SOURCE_MASTER_KEY is not set"):
        source_create(
            acting_user=journalist,
            codename="OSPREY",
            identity=identity(),
            descriptors=["an official"],
            **source_fields(),
        )
    assert not Source.objects.exists()


def test_a_second_registration_of_the_same_person_is_a_possible_duplicate(source, editor):
    again = source_create(
        acting_user=editor,
        codename="HERON",
        # Same person, written differently; one contact shared.
        identity=identity(name="quartermaine-vasquez, ZEBULON", contacts="+7 (915) 555 01 23"),
        descriptors=["an official"],
        **source_fields(),
    )
    stranger = source_create(
        acting_user=editor,
        codename="PLOVER",
        identity=identity(name="Someone Else Entirely", contacts="other@example.org"),
        descriptors=["an official"],
        **source_fields(),
    )
    assert source_possible_duplicates(source=again) == [source]
    assert source_possible_duplicates(source=stranger) == []
    assert PLANTED_NAME.lower() not in str(list(again.digests.values()))


def test_source_verify_needs_an_editor_who_is_not_the_handler(source, journalist, editor):
    with pytest.raises(SourceRefused):
        source_verify(source=source, acting_user=journalist)
    mine = source_create(
        acting_user=editor,
        codename="HERON",
        identity=identity(name="Another Person"),
        descriptors=["an official"],
        **source_fields(),
    )
    with pytest.raises(SourceRefused, match="cannot verify their own"):
        source_verify(source=mine, acting_user=editor)
    verified = source_verify(source=source, acting_user=editor)
    assert verified.verified_by == editor and verified.verified_at is not None


def test_the_database_refuses_a_source_verified_by_its_handler(source, journalist):
    with pytest.raises(DatabaseError), transaction.atomic():
        Source.objects.filter(pk=source.pk).update(verified_by=journalist)


def test_only_keepers_grant_and_revoke(source, journalist, editor, keeper):
    for who in (journalist, editor):
        with pytest.raises(SourceRefused):
            grant_for(source, journalist, who)
    grant = grant_for(source, journalist, keeper)
    with pytest.raises(SourceRefused):
        access_revoke(grant=grant, acting_user=editor)
    assert access_revoke(grant=grant, acting_user=keeper)
    assert not access_revoke(grant=grant, acting_user=keeper)


@pytest.mark.parametrize("days", [0, -1, 91])
def test_a_grant_expires_in_the_future_within_90_days(source, journalist, keeper, days):
    with pytest.raises(SourceRefused, match="within 90 days"):
        grant_for(source, journalist, keeper, days=days)


CASES = ["with grant", "without grant", "expired grant", "revoked grant", "no reason"]


@pytest.mark.parametrize("role", ["journalist", "editor", "keeper", "superuser"])
@pytest.mark.parametrize("case", CASES)
def test_identity_reveal_access_matrix(request, source, keeper, role, case):
    user = (
        UserFactory(username="root", is_superuser=True)
        if role == "superuser"
        else request.getfixturevalue(role)
    )
    reason = "" if case == "no reason" else "Checking the quote."
    if case in {"with grant", "expired grant", "revoked grant", "no reason"}:
        grant = grant_for(source, user, keeper)
        if case == "expired grant":
            AccessGrant.objects.filter(pk=grant.pk).update(
                created_at=timezone.now() - timedelta(days=10),
                expires_at=timezone.now() - timedelta(seconds=1),
            )
        if case == "revoked grant":
            access_revoke(grant=grant, acting_user=keeper)

    if case == "with grant":
        revealed = identity_reveal(user=user, source=source, reason=reason)
        assert revealed["name"] == PLANTED_NAME
        assert revealed["contacts"] == "+7 915 555-01-23\nzq.signal.handle"
    else:
        # Being a superuser, a keeper or the handler is not a grant.
        with pytest.raises(RevealRefused) as refused:
            identity_reveal(user=user, source=source, reason=reason)
        assert "Ask a source keeper" in refused.value.message
        assert PLANTED_NAME not in refused.value.message

    (event,) = RevealEvent.objects.all()
    assert (event.user, event.source) == (user, source)
    assert event.outcome == ("revealed" if case == "with grant" else "refused")
    expected_refusal = {
        "with grant": "",
        "no reason": "no reason given",
    }.get(case, "no access grant in force")
    assert event.refusal == expected_refusal


def test_the_reveal_log_refuses_update_and_delete_in_the_database(source, journalist, keeper):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    grant_for(source, journalist, keeper)
    identity_reveal(user=journalist, source=source, reason="Checking the quote.")
    for statement in (
        "UPDATE sources_revealevent SET outcome = 'refused', reason = ''",
        "DELETE FROM sources_revealevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert RevealEvent.objects.get().outcome == "revealed"


def test_the_reveal_log_refuses_truncate_too(db):
    if connection.vendor != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    # The test settings allow it for the flush between tests; nothing else does.
    for table in ("sources_revealevent", "sources_source CASCADE"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute("SET LOCAL bellcms.reveal_log_truncate = 'no'")
            cursor.execute(f"TRUNCATE {table}")


def test_a_wrong_or_missing_master_key_fails_reveals_clearly(source, journalist, keeper):
    import base64
    import secrets

    grant_for(source, journalist, keeper)
    other = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    with (
        override_settings(SOURCE_MASTER_KEY=other),
        pytest.raises(KeyUnavailable, match="sealed under another master key"),
    ):
        identity_reveal(user=journalist, source=source, reason="Checking the quote.")
    with (
        override_settings(SOURCE_MASTER_KEY=""),
        pytest.raises(KeyUnavailable, match="SOURCE_MASTER_KEY is not set"),
    ):
        identity_reveal(user=journalist, source=source, reason="Checking the quote.")
    with (
        override_settings(SOURCE_MASTER_KEY="not-a-key"),
        pytest.raises(KeyUnavailable, match="not url-safe base64 of 32 bytes"),
    ):
        identity_reveal(user=journalist, source=source, reason="Checking the quote.")
    # Each attempt was access given, and logged as such.
    assert RevealEvent.objects.filter(outcome="revealed").count() == 3


def test_a_sealed_field_moved_to_another_source_or_field_does_not_open(
    source, journalist, editor, keeper
):
    from sources.crypto import SealBroken

    other = source_create(
        acting_user=editor,
        codename="HERON",
        identity=identity(name="Another Person"),
        descriptors=["an official"],
        **source_fields(),
    )
    mine = SourceIdentity.objects.get(source=source)
    # The position's ciphertext put in the name's place, and another source's name in it.
    SourceIdentity.objects.filter(source=source).update(name=mine.position)
    grant_for(source, journalist, keeper)
    with pytest.raises(SealBroken):
        identity_reveal(user=journalist, source=source, reason="Checking the quote.")
    SourceIdentity.objects.filter(source=source).update(
        name=SourceIdentity.objects.get(source=other).name
    )
    with pytest.raises(SealBroken):
        identity_reveal(user=journalist, source=source, reason="Checking the quote.")


def test_identity_replace_reseals_under_a_new_data_key(source, journalist, editor, keeper):
    old_key = bytes(SourceIdentity.objects.get(source=source).wrapped_key)
    with pytest.raises(SourceRefused):
        identity_replace(source=source, acting_user=editor, identity=identity(name="X Y"))
    identity_replace(source=source, acting_user=journalist, identity=identity(name="New Name"))
    assert bytes(SourceIdentity.objects.get(source=source).wrapped_key) != old_key
    grant_for(source, keeper, keeper)
    assert identity_reveal(user=keeper, source=source, reason="Check.")["name"] == "New Name"


def test_identity_reveal_inside_a_transaction_reveals_nothing(source, journalist, keeper):
    grant_for(source, journalist, keeper)
    with pytest.raises(RuntimeError), transaction.atomic():
        identity_reveal(user=journalist, source=source, reason="Checking the quote.")
    assert not RevealEvent.objects.exists()


def test_only_keepers_register_a_source_for_another_handler(journalist, editor, keeper):
    with pytest.raises(SourceRefused, match="you bring yourself"):
        source_create(
            acting_user=editor,
            codename="HERON",
            identity=identity(name="Other Person"),
            descriptors=["an official"],
            **source_fields(handler=journalist),
        )
    made = source_create(
        acting_user=keeper,
        codename="HERON",
        identity=identity(name="Other Person"),
        descriptors=["an official"],
        **source_fields(handler=journalist),
    )
    assert made.handler == journalist
