"""People in the admin by name (``issues.people``): the pickers, the list filters and the
columns or read-only fields that show a person, wherever the newsroom's admin has them.

- ``PeopleByNameMixin`` on a ModelAdmin: every choice of a user (a foreign key or a
  many-to-many to the user model) reads “Anna Ivanova (anna)”, ordered by name;
- ``PersonListFilter``: ``("authors", PersonListFilter)`` instead of Django's
  ``RelatedOnlyFieldListFilter``, which names people by username;
- ``person_display("handler", _("handler"))``: a column or read-only field for a foreign key
  to a user, showing the person's name instead of the username ``str(user)`` gives.
"""

from django import forms
from django.conf import settings
from django.contrib import admin

from ..people import people_by_name, person_label, person_name


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


class PeopleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return person_label(obj)


def _to_people(db_field) -> bool:
    return db_field.remote_field.model._meta.label == settings.AUTH_USER_MODEL


class PeopleByNameMixin:
    """A ModelAdmin whose user pickers show and order people by name (see the module)."""

    def _person_field_kwargs(self, db_field, request, kwargs, form_class):
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.all()
        kwargs["queryset"] = people_by_name(queryset)
        kwargs.setdefault("form_class", form_class)
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if _to_people(db_field) and db_field.name not in self.get_autocomplete_fields(request):
            kwargs = self._person_field_kwargs(db_field, request, kwargs, PersonChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if _to_people(db_field) and db_field.name not in self.get_autocomplete_fields(request):
            kwargs = self._person_field_kwargs(db_field, request, kwargs, PeopleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class PersonListFilter(admin.RelatedOnlyFieldListFilter):
    """The people a list's rows name (authors, say), each by name, ordered by name."""

    def field_choices(self, field, request, model_admin):
        named = (
            model_admin.get_queryset(request)
            .distinct()
            .values_list(f"{self.field_path}__pk", flat=True)
        )
        people = people_by_name(field.related_model._default_manager.filter(pk__in=named))
        return [(person.pk, person_name(person)) for person in people]


def person_display(field_name: str, description, *, ordering: bool = True):
    """A ModelAdmin method showing the person in ``field_name`` (a foreign key to a user) by
    name, for ``list_display`` or ``readonly_fields``; nothing (the admin's “-”) for no one."""

    @admin.display(
        description=description,
        ordering=f"{field_name}__last_name" if ordering else None,
    )
    def display(model_admin, obj):
        return person_name(getattr(obj, field_name)) or None

    display.__name__ = f"{field_name}_name"
    return display
