"""Load the demo newsroom: The Bell Weekly's sample issue, one user per role, and one
anonymous source (fictional) the journalist can cite in the sample's attributed claims.

The sample is there twice: as issue #1, published a week ago, so the public archive has
something to show (its pages, search, feeds), and as #2, a draft the newsroom works on.

Safe to run again: the sample is imported once, and each run gives the users new passwords and
prints them (nothing stores a password in clear anywhere else).
"""

import io
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from issues.models import Issue, Story
from sources.keys import KeyUnavailable
from sources.models import Source
from sources.services import descriptor_approve, source_create

SAMPLE = settings.BASE_DIR / "issues" / "samples" / "bell-weekly-kremlin-view.txt"
SAMPLE_TITLE = "The Kremlin view on Putin-Trump talks"
DEMO_SOURCE = "KESTREL"
DEMO_USERS = {
    "editor": ("Editors", "Elena", "Editor"),
    # A second editor: a retraction or a takedown needs two.
    "editor2": ("Editors", "Emil", "Redaktor"),
    "journalist": ("Journalists", "Jonas", "Journalist"),
    "keeper": ("Source keepers", "Karin", "Keeper"),
    "audience": ("Audience", "Aino", "Audience"),
}


class Command(BaseCommand):
    help = (
        "Create the demo users (two editors, journalist, keeper, audience) and import the sample "
        "issue."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            passwords = {name: self._user_reset(name, *spec) for name, spec in DEMO_USERS.items()}
            if not Issue.objects.filter(title=SAMPLE_TITLE).exists():
                self._published_back_issue()
            issue = (
                Issue.objects.filter(title=SAMPLE_TITLE)
                .exclude(pk__in=Issue.objects.published())
                .first()
            )
            if issue is None:
                issue = self._sample_import()
        self.stdout.write(f"Sample issue: #{issue.number} {issue.title} (id {issue.pk})")
        self._source_create()
        self.stdout.write("Demo users (new passwords on every run):")
        for name, password in passwords.items():
            self.stdout.write(f"  {name:<11} {password}")

    def _sample_import(self) -> Issue:
        out = io.StringIO()
        call_command("import_issue", str(SAMPLE), "--author", "journalist", stdout=out)
        return Issue.objects.get(pk=int(out.getvalue().split()[-1]))

    def _published_back_issue(self) -> None:
        """Last week's issue, as if the scheduler had sent it: the archive's first page."""
        issue = self._sample_import()
        # Every story in an issue that went out had been approved.
        issue.stories.update(status=Story.Status.APPROVED)
        issue.status = Issue.Status.SENT
        issue.published_at = issue.publish_at = timezone.now() - timedelta(days=7)
        issue.save(update_fields=["status", "published_at", "publish_at", "updated_at"])
        self.stdout.write(f"Published back issue: #{issue.number} {issue.title}")

    def _source_create(self):
        if Source.objects.filter(codename=DEMO_SOURCE).exists():
            return
        try:
            source = source_create(
                acting_user=get_user_model().objects.get(username="journalist"),
                codename=DEMO_SOURCE,
                identity={
                    "name": "Demo Source (fictional)",
                    "position": "A made-up adviser, for trying out reveals",
                    "contacts": "demo-source@example.org",
                },
                descriptors=[
                    "a source with contacts inside the Kremlin",
                    "a source close to the Kremlin",
                ],
                basis="participant",
                reliability="usually",
                motive="Wants the facts known (demo data).",
                anonymity_reason="Would be dismissed and prosecuted if named (demo data).",
            )
        except KeyUnavailable as error:
            self.stderr.write(f"No demo source: {error}")
            return
        # The editor approved how print may describe it, so the journalist can cite it.
        editor = get_user_model().objects.get(username="editor")
        for descriptor in source.descriptors.all():
            descriptor_approve(descriptor=descriptor, acting_user=editor)
        self.stdout.write(
            f"Demo source: {DEMO_SOURCE} (cite it in the sample's first story; the keeper "
            "grants access to its identity)"
        )

    def _user_reset(self, username, group_name, first_name, last_name):
        user, _ = get_user_model().objects.get_or_create(
            username=username,
            defaults={
                "first_name": first_name,
                "last_name": last_name,
                "email": f"{username}@newsroom.example",
            },
        )
        password = secrets.token_urlsafe(12)
        user.set_password(password)
        user.is_staff = True
        user.save()
        user.groups.add(Group.objects.get(name=group_name))
        return password
