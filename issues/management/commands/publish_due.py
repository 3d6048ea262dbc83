"""One scheduler pass, for those who run it from cron instead of Celery beat."""

from django.core.management.base import BaseCommand

from issues.models import Issue
from issues.scheduling import publish_due_issues


class Command(BaseCommand):
    help = "Publish the scheduled issues that are due, and print what was published."

    def handle(self, *args, **options):
        published = publish_due_issues()
        if not published:
            self.stdout.write("Nothing due.")
            return
        for issue in Issue.objects.filter(pk__in=published).select_related("newsletter"):
            self.stdout.write(f"Published {issue.newsletter.slug} {issue} (id {issue.pk})")
