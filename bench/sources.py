"""Sealed sources: registrations, reveals per second, and a key rotation, for 10 000 sources.

    .venv/bin/python bench/sources.py [--sources 10000] [--reveals 2000]

Runs on a throw-away SQLite database (or on DATABASE_URL when it is set: the bench then adds its
sources to that database), with fresh keys of its own. Prints figures; it asserts nothing.
A reveal is the whole of ``identity_reveal``: the grant looked up, the reveal log row written
and committed, the data key unwrapped and four fields opened.
"""

import argparse
import base64
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BELLCMS_VAR_DIR", tempfile.mkdtemp(prefix="bellcms-bench-"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bellcms.settings.local")
os.environ["SOURCE_MASTER_KEY"] = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
os.environ["SOURCE_INDEX_KEY"] = secrets.token_urlsafe(48)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=10_000)
    parser.add_argument("--reveals", type=int, default=2_000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from sources.models import Source
    from sources.services import (
        access_grant,
        identity_reveal,
        source_create,
        source_keys_rotate,
    )

    call_command("migrate", verbosity=0)
    user_model = django.contrib.auth.get_user_model()
    run = str(int(time.time()))
    keeper = user_model.objects.create_user(f"bench-keeper-{run}", password=secrets.token_hex())
    keeper.groups.add(Group.objects.get(name="Source keepers"))
    keeper = user_model.objects.get(pk=keeper.pk)

    start = time.perf_counter()
    sources = [
        source_create(
            acting_user=keeper,
            codename=f"BENCH-{run}-{n}",
            identity={
                "name": f"Person {run} {n}",
                "position": "Official",
                "contacts": f"+7 900 {n:07d}\nbench{n}@example.org",
                "notes": "Met at a conference.",
            },
            descriptors=["an official"],
            basis="participant",
            reliability="usually",
            motive="Wants the facts known.",
            anonymity_reason="Would be dismissed and prosecuted if named.",
        )
        for n in range(args.sources)
    ]
    created = time.perf_counter() - start

    expires = timezone.now() + timedelta(days=1)
    picked = [sources[n % len(sources)] for n in range(args.reveals)]
    for source in {source.pk: source for source in picked}.values():
        access_grant(
            source=source, user=keeper, granted_by=keeper, reason="Bench.", expires_at=expires
        )
    start = time.perf_counter()
    for source in picked:
        identity_reveal(user=keeper, source=source, reason="Bench.")
    revealed = time.perf_counter() - start

    settings.SOURCE_MASTER_KEY_PREVIOUS = settings.SOURCE_MASTER_KEY
    settings.SOURCE_MASTER_KEY = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    start = time.perf_counter()
    rewrapped, current = source_keys_rotate()
    rotated = time.perf_counter() - start

    total = Source.objects.count()
    print(f"database: {connection.vendor}, {args.sources} new sources ({total} in all)")
    print(f"register: {created:.2f} s, {args.sources / created:,.0f} sources/s (sealed, indexed)")
    print(
        f"reveal:   {revealed:.2f} s for {args.reveals}, {args.reveals / revealed:,.0f} "
        "reveals/s (logged and committed first)"
    )
    print(
        f"rotate:   {rotated:.2f} s for {rewrapped + current} identities "
        f"({rewrapped} re-wrapped), {(rewrapped + current) / rotated:,.0f} keys/s"
    )


if __name__ == "__main__":
    main()
