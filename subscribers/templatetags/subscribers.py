"""The sign-up form on other apps' pages: ``{% load subscribers %}{% signup_form newsletter %}``.

A template tag lets the public archive (in ``issues``) show the form without ``issues``
importing ``subscribers``: dependencies run one way.
"""

from django import template

from ..forms import SignupForm

register = template.Library()


@register.inclusion_tag("subscribers/_signup_form.html")
def signup_form(newsletter):
    """An empty sign-up form for this newsletter, posting to its sign-up page.

    Ids carry the newsletter's slug, so several forms can share a page; field names do not
    change, so the sign-up view reads the post as usual. Django's inclusion tags pass the
    CSRF token on.
    """
    form = SignupForm(newsletter=newsletter, auto_id=f"signup-{newsletter.slug}-%s")
    return {"form": form, "newsletter": newsletter}
