"""Production: every secret and address comes from the environment; nothing has a default.

Required: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, CELERY_BROKER_URL, EMAIL_URL, CACHE_URL,
BELLCMS_BASE_URL and SUBSCRIBERS_SUPPRESSION_KEY.
CACHE_URL must name a cache that web and worker processes share (Redis): the admin's worker
status and the sign-up rate limits depend on it. The suppression key must not follow
SECRET_KEY: rotating that would make every stored suppression unmatchable, and people who
asked never to be mailed again would be.
"""

import environ

from .base import *  # noqa: F403
from .base import env

# Read, not forced off, so that DEBUG=true is refused at start (bellcms/checks.py) rather than
# silently ignored.
DEBUG = env.bool("DEBUG", default=False)
# Servers refuse to start with a weak SECRET_KEY, a wildcard host, a short suppression key or
# DEBUG on (bellcms/checks.py); `manage.py check --deploy` lists the same as errors.
BELLCMS_REFUSE_WEAK_SETTINGS = True

# Fail at start-up, not at the first request, when the operator forgot one.
_REQUIRED = (
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "EMAIL_URL",
    "CACHE_URL",
    "BELLCMS_BASE_URL",
    "SUBSCRIBERS_SUPPRESSION_KEY",
)
for _name in _REQUIRED:
    if not env.str(_name, default=""):
        raise environ.ImproperlyConfigured(f"Set the {_name} environment variable.")
if CACHES["default"]["BACKEND"].endswith(("LocMemCache", "DummyCache")):  # noqa: F405
    raise environ.ImproperlyConfigured(
        "CACHE_URL must name a cache shared by all processes, such as redis://host:6379/1."
    )

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# One-click unsubscribe (RFC 8058) and every link in an email need https; a local trial
# without TLS (SECURE_SSL_REDIRECT=false) may use http.
if SECURE_SSL_REDIRECT and not BELLCMS_BASE_URL.startswith("https://"):  # noqa: F405
    raise environ.ImproperlyConfigured("BELLCMS_BASE_URL must start with https://.")

# gunicorn serves the static files itself, compressed and cached forever under hashed names.
MIDDLEWARE = [*MIDDLEWARE]  # noqa: F405
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)

# A worker keeps its database connection between requests (checked before reuse): opening one
# costs more than most pages do.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True  # noqa: F405

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preloading is a commitment to https for every subdomain; set false if that cannot hold.
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
X_FRAME_OPTIONS = "DENY"
