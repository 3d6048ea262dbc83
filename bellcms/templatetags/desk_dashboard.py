"""The dashboard on the admin's front page, as a template tag: the index view stays Django's
own (its app list and recent actions unchanged) and only its template asks for the panels."""

from django import template

from bellcms.dashboard import dashboard_for

register = template.Library()


@register.simple_tag
def desk_dashboard(user):
    """The panels this person may see (``bellcms.dashboard.panels.dashboard_for``)."""
    return dashboard_for(user=user)
