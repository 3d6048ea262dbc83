"""The newsroom's admin: newsletters, issues with their stories, stories with their blocks, and
the editorial workflow around them (review, approval, schedule, calendar).

Every page keeps versions through django-reversion. Lists that have an order (an issue's
stories, a story's blocks) are saved through ``issues.ordering``, because the database refuses
two rows at one position even for the moment of a swap. Status and schedule are shown, never
edited here: every workflow step is a call to ``issues.services``, and a refused one is an error
message on the page. Every save carries the revision it started from; a stale one is refused,
showing what the other person changed.

- ``stories``: stories, their blocks, the review buttons;
- ``issues``: issues, the order of their stories, approval and schedule;
- ``forms``: the story, issue and schedule forms, with their revision checks;
- ``reverting``: revert and recover as edits that keep the workflow's state;
- ``calendar``: the month of scheduled and sent issues;
- ``presence``: who else has a page open;
- ``base``: what the story and issue pages share.
"""

# The admin is loaded before IssuesConfig.ready(); VersionAdmin would register the models itself
# (and differently) if our registrations were not in place first.
from .. import versioning  # noqa: F401  isort: skip
from . import issues, newsletters, stories  # noqa: F401  (each registers its admin)
