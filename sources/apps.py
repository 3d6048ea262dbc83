from django.apps import AppConfig


class SourcesConfig(AppConfig):
    """Anonymous-source records, sealed identities, access grants, citations and their audit."""

    name = "sources"
    verbose_name = "Sources"

    def ready(self):
        from issues.models import Story
        from issues.signals import story_review_checks

        from . import checks, history, versioning  # noqa: F401  (registers checks, versions)
        from .citing import story_review_check

        history.register()
        # Submit and approve refuse a story whose attributed claims cite no source.
        story_review_checks.connect(
            story_review_check, sender=Story, dispatch_uid="sources.story_review_check"
        )
