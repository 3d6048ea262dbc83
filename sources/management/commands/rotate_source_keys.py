"""``manage.py rotate_source_keys``: re-wrap every source's data key under a new master key."""

from django.core.management.base import BaseCommand, CommandError

from sources.keys import KeyUnavailable
from sources.services import source_keys_rotate


class Command(BaseCommand):
    help = (
        "Re-wrap every source's data key under the master key in SOURCE_MASTER_KEY, opening "
        "the old ones with SOURCE_MASTER_KEY_PREVIOUS. Identities are not decrypted. Run it "
        "after setting the new key in SOURCE_MASTER_KEY and the old one in "
        "SOURCE_MASTER_KEY_PREVIOUS; afterwards the old key opens nothing and can be dropped. "
        "Safe to run again: keys already under the new master key are skipped."
    )

    def handle(self, *args, **options):
        try:
            rewrapped, current = source_keys_rotate()
        except KeyUnavailable as error:
            raise CommandError(
                f"{error} Keys re-wrapped before this one stay re-wrapped."
            ) from None
        self.stdout.write(
            f"Re-wrapped {rewrapped} data keys under the current master key; "
            f"{current} were under it already."
        )
