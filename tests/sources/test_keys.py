"""Master keys: rotation re-wraps every data key, after which the old key opens nothing."""

import base64
import io
import secrets
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from sources.keys import KeyUnavailable
from sources.models import SourceIdentity
from sources.services import access_grant, identity_reveal, source_create
from tests.sources.conftest import identity, source_fields

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def rotate() -> str:
    out = io.StringIO()
    call_command("rotate_source_keys", stdout=out)
    return out.getvalue()


def test_rotate_source_keys_keeps_every_identity_readable_and_retires_the_old_key(
    settings, journalist, keeper
):
    old = settings.SOURCE_MASTER_KEY
    sources = [
        source_create(
            acting_user=journalist,
            codename=f"BIRD-{n}",
            identity=identity(name=f"Person Number {n}"),
            descriptors=["an official"],
            **source_fields(),
        )
        for n in range(5)
    ]
    for source in sources:
        access_grant(
            source=source,
            user=keeper,
            granted_by=keeper,
            reason="Key rotation check.",
            expires_at=timezone.now() + timedelta(days=1),
        )
    before = {s.pk: bytes(s.identity.name) for s in sources}
    new = new_key()

    with override_settings(SOURCE_MASTER_KEY=new, SOURCE_MASTER_KEY_PREVIOUS=old):
        assert (
            rotate()
            == "Re-wrapped 5 data keys under the current master key; 0 were under it already.\n"
        )
        assert "Re-wrapped 0 data keys" in rotate()  # safe to run again

    with override_settings(SOURCE_MASTER_KEY=new, SOURCE_MASTER_KEY_PREVIOUS=""):
        for n, source in enumerate(sources):
            revealed = identity_reveal(user=keeper, source=source, reason="After rotation.")
            assert revealed["name"] == f"Person Number {n}"
    # The sealed fields did not change: only the wrapping of their keys.
    assert {s.pk: bytes(s.name) for s in SourceIdentity.objects.all()} == before

    with (
        override_settings(SOURCE_MASTER_KEY=old, SOURCE_MASTER_KEY_PREVIOUS=""),
        pytest.raises(KeyUnavailable, match="sealed under another master key"),
    ):
        identity_reveal(user=keeper, source=sources[0], reason="With the old key.")


def test_rotate_without_the_previous_key_says_what_to_set(settings, journalist):
    source_create(
        acting_user=journalist,
        codename="BIRD",
        identity=identity(),
        descriptors=["an official"],
        **source_fields(),
    )
    with (
        override_settings(SOURCE_MASTER_KEY=new_key()),
        pytest.raises(CommandError, match="SOURCE_MASTER_KEY_PREVIOUS"),
    ):
        rotate()


def test_rotate_with_reseal_leaves_an_old_key_and_an_old_backup_opening_nothing(
    settings, journalist, keeper
):
    from sources.crypto import SealBroken

    source = source_create(
        acting_user=journalist,
        codename="BIRD",
        identity=identity(name="Person Sealed Anew"),
        descriptors=["an official"],
        **source_fields(),
    )
    access_grant(
        source=source,
        user=keeper,
        granted_by=keeper,
        reason="Rotation check.",
        expires_at=timezone.now() + timedelta(days=1),
    )
    old = settings.SOURCE_MASTER_KEY
    backup = SourceIdentity.objects.get(source=source)  # an old copy of the row
    new = new_key()

    with override_settings(SOURCE_MASTER_KEY=new, SOURCE_MASTER_KEY_PREVIOUS=old):
        out = io.StringIO()
        call_command("rotate_source_keys", "--reseal", stdout=out)
        assert "Sealed 1 identities again" in out.getvalue()

    now = SourceIdentity.objects.get(source=source)
    assert bytes(now.name) != bytes(backup.name)
    with override_settings(SOURCE_MASTER_KEY=new):
        assert identity_reveal(user=keeper, source=source, reason="After.")["name"] == (
            "Person Sealed Anew"
        )
    # The old master key opens the old wrapped key, but that data key opens nothing today.
    from sources.crypto import field_open
    from sources.keys import EnvironmentMasterKeys

    old_data_key = EnvironmentMasterKeys(current=old).unwrap(
        backup.wrapped_key, source_id=source.pk
    )
    with pytest.raises(SealBroken):
        field_open(old_data_key, now.name, source_id=source.pk, field="name")
