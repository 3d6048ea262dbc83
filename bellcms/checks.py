"""Settings a public installation must not run with, checked two ways.

``manage.py check --deploy`` reports each as an error (``bellcms.E001``…), and every server
refuses to start with one when the settings ask it to (production does): gunicorn through
``bellcms/wsgi.py``, ``manage.py serve``, and the Celery worker and beat. A weak ``SECRET_KEY``
lets anyone forge unsubscribe and confirmation links and admin sessions; a wildcard host lets
a forged Host header into the links of password resets and emails; a short suppression key
makes the suppression list's hashes guessable; ``DEBUG`` shows settings and data on error
pages.
"""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

SECRET_KEY_MIN_LENGTH = 50
# As Django's own check: fewer distinct characters than this is a pattern, not a secret.
KEY_MIN_DISTINCT_CHARACTERS = 5
SUPPRESSION_KEY_MIN_BYTES = 32
_NEW_KEY = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe({n}))'"


def _secret_key() -> list[Error]:
    key = str(settings.SECRET_KEY)
    if len(key) < SECRET_KEY_MIN_LENGTH:
        problem = f"is {len(key)} characters long; it needs at least {SECRET_KEY_MIN_LENGTH}"
    elif len(set(key)) < KEY_MIN_DISTINCT_CHARACTERS:
        problem = f"has only {len(set(key))} distinct characters"
    elif key.startswith("django-insecure-"):
        problem = "is one Django generated for development"
    else:
        return []
    return [
        Error(
            f"SECRET_KEY {problem}: anyone could forge sessions and subscribers' links.",
            hint="Set the SECRET_KEY environment variable to a random value; "
            + _NEW_KEY.format(n=50),
            id="bellcms.E001",
        )
    ]


def _allowed_hosts() -> list[Error]:
    if "*" not in settings.ALLOWED_HOSTS:
        return []
    return [
        Error(
            "ALLOWED_HOSTS contains '*': any Host header would be believed, and put into links.",
            hint="Set the ALLOWED_HOSTS environment variable to the site's host names, "
            "comma-separated (news.example.org,www.news.example.org).",
            id="bellcms.E002",
        )
    ]


def _suppression_key() -> list[Error]:
    key = str(settings.SUBSCRIBERS_SUPPRESSION_KEY)
    size = len(key.encode())
    if size >= SUPPRESSION_KEY_MIN_BYTES and len(set(key)) >= KEY_MIN_DISTINCT_CHARACTERS:
        return []
    problem = (
        f"is {size} bytes long; it needs at least {SUPPRESSION_KEY_MIN_BYTES}"
        if size < SUPPRESSION_KEY_MIN_BYTES
        else f"has only {len(set(key))} distinct characters"
    )
    return [
        Error(
            f"SUBSCRIBERS_SUPPRESSION_KEY {problem}: the suppression list's address hashes "
            "could be reversed by hashing a list of addresses.",
            hint="Set the SUBSCRIBERS_SUPPRESSION_KEY environment variable once, to a random "
            "value, and keep it (a new key makes stored suppressions unmatchable); "
            + _NEW_KEY.format(n=32),
            id="bellcms.E003",
        )
    ]


def _debug() -> list[Error]:
    if not settings.DEBUG:
        return []
    return [
        Error(
            "DEBUG is on: error pages would show settings, queries and subscribers' data.",
            hint="Unset the DEBUG environment variable (or set DEBUG=false).",
            id="bellcms.E004",
        )
    ]


def weak_settings() -> list[Error]:
    """Every weak setting, as errors naming the variable to change."""
    return [*_secret_key(), *_allowed_hosts(), *_suppression_key(), *_debug()]


@register(Tags.security, deploy=True)
def check_weak_settings(app_configs, **kwargs):
    return weak_settings()


def weak_settings_refuse(server: str) -> None:
    """Raise ``ImproperlyConfigured`` listing every weak setting, when the settings ask servers
    to refuse them (``BELLCMS_REFUSE_WEAK_SETTINGS``, on in production)."""
    if not getattr(settings, "BELLCMS_REFUSE_WEAK_SETTINGS", False):
        return
    errors = weak_settings()
    if errors:
        lines = [f"{server} will not start with these settings:"]
        lines += [f"- {error.msg} {error.hint}" for error in errors]
        raise ImproperlyConfigured("\n".join(lines))
