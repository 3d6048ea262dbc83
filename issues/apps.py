from django.apps import AppConfig


class IssuesConfig(AppConfig):
    name = "issues"
    verbose_name = "Editorial"

    def ready(self):
        from . import versioning  # noqa: F401  (registers the models with django-reversion)
        from .signals import story_step_recorded
        from .tasks import story_step_recorded_received

        # The people a step concerns are emailed once it has committed.
        story_step_recorded.connect(story_step_recorded_received, dispatch_uid="issues.notify")
