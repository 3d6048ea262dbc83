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

    def add_arguments(self, parser):
        parser.add_argument(
            "--reseal",
            action="store_true",
            help="Also give every identity a new data key and seal it again (after a suspected "
            "leak of the master key: the old key with an old backup then opens nothing).",
        )

    def handle(self, *args, reseal=False, **options):
        try:
            rewrapped, current = source_keys_rotate(reseal=reseal)
        except KeyUnavailable as error:
            raise CommandError(
                f"{error} Keys re-wrapped before this one stay re-wrapped."
            ) from None
        if reseal:
            self.stdout.write(
                f"Sealed {rewrapped} identities again under new data keys, wrapped by the "
                "current master key."
            )
            return
        self.stdout.write(
            f"Re-wrapped {rewrapped} data keys under the current master key; "
            f"{current} were under it already."
        )
