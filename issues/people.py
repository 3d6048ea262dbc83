"""How the newsroom names a person: by full name, the username only when none is set.

Every page, list, log and email that means a person (an author, who took a step, who has a page
open) says it through ``person_name``; pickers, where two people may share a name, add the
username (``person_label``). Lists of people are ordered as a newsroom reads them: by last
name, then first name (``people_by_name``).
"""

from django.db.models import QuerySet, Value
from django.db.models.functions import Coalesce, Lower, NullIf


def person_name(user) -> str:
    """“Anna Ivanova”, or the username when no name is set; empty for no one."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def person_label(user) -> str:
    """“Anna Ivanova (anna)” for a choice among people; the username alone when no name is set."""
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


def people_by_name(people: QuerySet) -> QuerySet:
    """``people`` by last name, then first name; someone with no name set by their username,
    among the others rather than all first."""
    return people.order_by(
        Lower(Coalesce(NullIf("last_name", Value("")), "username")),
        Lower("first_name"),
        "username",
    )
