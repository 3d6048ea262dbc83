"""``manage.py archive_reindex``: rebuild every story's search row from what it says now.

Run it once after the search tables are first created, and whenever the index is in doubt
(a refresh after an edit failed and was logged). Safe to run at any time, and twice.
"""

from django.core.management.base import BaseCommand

from archive.search.indexing import documents_rebuild


class Command(BaseCommand):
    help = "Rebuild the archive's search index: one row per story, from its text as it is now."

    def handle(self, *args, **options):
        count = documents_rebuild()
        self.stdout.write(f"Indexed {count} stories.")
