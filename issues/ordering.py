"""Writing the order of an ordered list (a story's blocks, an issue's stories), and the forms
that ask for it.

``(story, position)`` and ``(issue, position)`` are unique and not deferrable, so the database
checks them after every row, even inside one UPDATE. Saving rows one by one with their new
positions, as Django's formsets do, fails as soon as two rows swap places. The functions here
first move the rows that change places out of the way, then write dense positions 1..n.
"""

from collections.abc import Iterable
from math import inf

from django import forms
from django.db import models, transaction
from django.db.models import F
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

POSITION = "position"
# Added to positions to park rows out of the way. Far above any list a newsroom writes (a story
# has dozens of blocks), yet far below the 2**31 limit of PostgreSQL's integer column.
OUT_OF_THE_WAY = 1_000_000


def _siblings_locked(*, parent: models.Model, related_name: str) -> models.QuerySet:
    # Locking the parent row serialises everyone who reorders the same list, including those
    # who add rows: locking the rows alone would not stop a concurrent INSERT.
    type(parent)._base_manager.select_for_update().filter(pk=parent.pk).exists()
    # By position alone: Block's default ordering would join the story, issue and newsletter.
    return getattr(parent, related_name).order_by(POSITION)


def _requested_order(rows: list[models.Model], previous: dict) -> list[models.Model]:
    """Rows that keep their number keep their order; the others are inserted at the number
    they ask for, lowest first, so that each lands where the user put it. Rows asking for one
    number follow their previous order; rows asking for none go last."""

    def requested(row):
        return getattr(row, POSITION)

    def moved(row):
        return row.pk not in previous or requested(row) != previous[row.pk]

    ordered = sorted((row for row in rows if not moved(row)), key=lambda row: previous[row.pk])
    placed = [row for row in rows if moved(row)]
    # sorted() is stable: new rows asking for one number keep the order of the form.
    inserting = sorted(
        (row for row in placed if requested(row) is not None),
        key=lambda row: (requested(row), previous.get(row.pk, inf)),
    )
    index = -1
    for row in inserting:
        index = max(requested(row) - 1, index + 1)
        ordered.insert(index, row)
    return ordered + [row for row in placed if requested(row) is None]


def positions_save(
    *, parent: models.Model, related_name: str, instances: Iterable[models.Model]
) -> list[models.Model]:
    """Save ``instances`` into ``parent``'s list and renumber the whole list 1..n.

    ``instances`` are the new or edited rows (from a formset's ``save(commit=False)``); each
    carries the position the user asked for, or ``None`` for "at the end". Rows of the list
    not among them stay where they are. Rows to delete must already be deleted. A row given a
    new number lands at that number (typing 1 into the last row moves it to the top, typing 3
    into the first of three moves it to the bottom); see ``_requested_order``.

    Only rows whose data or position changes are written; each is saved with ``save()`` so
    that signal receivers such as django-reversion see the final state. Returns the list in
    its new order.
    """
    instances = list(instances)
    with transaction.atomic():
        siblings = _siblings_locked(parent=parent, related_name=related_name)
        previous = dict(siblings.values_list("pk", POSITION))
        given = {row.pk for row in instances if row.pk is not None}
        untouched = siblings.exclude(pk__in=given)
        ordered = _requested_order([*instances, *untouched], previous)

        moving = [
            row.pk
            for number, row in enumerate(ordered, start=1)
            if row.pk in previous and previous[row.pk] != number
        ]
        if moving:
            # One UPDATE; every new value is above every old one, so no row meets another.
            offset = max(previous.values()) + len(ordered) + OUT_OF_THE_WAY
            siblings.filter(pk__in=moving).update(**{POSITION: F(POSITION) + offset})

        instance_ids = {id(row) for row in instances}
        for number, row in enumerate(ordered, start=1):
            setattr(row, POSITION, number)
            if id(row) in instance_ids:
                row.save()
            elif row.pk in moving:
                row.save(update_fields=[POSITION])
    return ordered


def positions_park(*, parent: models.Model, related_name: str) -> None:
    """Move every row of ``parent``'s list out of the way, keeping their order.

    For writers that restore old positions row by row without knowing about each other, such
    as django-reversion's revert; ``positions_save`` renumbers the list afterwards.
    """
    with transaction.atomic():
        siblings = _siblings_locked(parent=parent, related_name=related_name)
        siblings.update(**{POSITION: F(POSITION) + OUT_OF_THE_WAY})


def positions_make_room(*, parent: models.Model, related_name: str, position: int) -> None:
    """Free ``position`` in ``parent``'s list by moving it and every later row down by one."""
    with transaction.atomic():
        siblings = _siblings_locked(parent=parent, related_name=related_name)
        at_or_after = siblings.filter(**{f"{POSITION}__gte": position})
        later = siblings.filter(pk__in=list(at_or_after.values_list("pk", flat=True)))
        # Two steps because one "+ 1" UPDATE would meet the next row on its way down.
        later.update(**{POSITION: F(POSITION) + OUT_OF_THE_WAY})
        later.update(**{POSITION: F(POSITION) - OUT_OF_THE_WAY + 1})


class PositionedForm(forms.ModelForm):
    """A row whose position is a request, not a value to store as typed.

    ``positions_save`` turns the requests into 1..n, so two rows asking for the same place are
    fine and the database's uniqueness must not be checked against the rows as they are now.
    """

    position = forms.IntegerField(
        label=_("Position"),
        required=False,
        min_value=1,
        error_messages={
            "min_value": _("Positions start at 1."),
            "invalid": _("A position is a whole number, such as 3."),
        },
        widget=forms.NumberInput(attrs={"class": "vIntegerField bell-position", "min": 1}),
        help_text=_("Leave empty to add at the end."),
    )

    def _get_validation_exclusions(self):
        exclusions = super()._get_validation_exclusions()
        exclusions.add(POSITION)
        return exclusions


class PositionedInlineForm(PositionedForm):
    def has_changed(self):
        # The ordering script numbers every row, empty new ones too: a number alone adds nothing.
        if self.instance._state.adding:
            return any(name != POSITION for name in self.changed_data)
        return super().has_changed()


class PositionedInlineFormSet(BaseInlineFormSet):
    def get_form_kwargs(self, index):
        kwargs = super().get_form_kwargs(index)
        first_extra = self.initial_form_count()
        if index is not None and index >= first_extra:
            last = max((getattr(row, POSITION) for row in self.get_queryset()), default=0)
            kwargs["initial"] = {POSITION: last + index - first_extra + 1}
        return kwargs
