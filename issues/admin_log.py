"""Workflow steps in the admin's "Recent actions".

The admin logs what is saved through its forms; a step (submit, return, approve, schedule…)
is a service, so it writes its own entry, beside its event row and in the same transaction,
when a person took it. Steps the system takes with nobody acting (publishing, finishing a
sending) have their event row only.
"""

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from django.utils.formats import date_format

from .workflow import Transition


def admin_log(*, obj, acting_user, transition: Transition, comment: str = "", publish_at=None):
    """Write the step ``transition`` taken on ``obj`` (a story or an issue) by ``acting_user``
    as an admin log entry; nothing without an acting user. Returns the entry or None."""
    if acting_user is None or acting_user.pk is None:
        return None
    message = str(transition.done)
    if publish_at is not None:
        message += f" ({date_format(timezone.localtime(publish_at), 'DATETIME_FORMAT')})"
    if comment:
        message += f": {comment}"
    # Not LogEntry.objects.log_actions(): it names the entry by str(obj) alone, and the
    # "Recent actions" list shows nothing but that name, so the step goes in front of it.
    return LogEntry.objects.create(
        user_id=acting_user.pk,
        content_type_id=ContentType.objects.get_for_model(obj, for_concrete_model=False).pk,
        object_id=str(obj.pk),
        object_repr=f"{transition.done}: {obj}"[:200],
        action_flag=CHANGE,
        change_message=message,
    )
