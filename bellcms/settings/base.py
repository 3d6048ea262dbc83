"""Settings shared by every environment. All configuration comes from environment variables.

The variables an operator sets are listed in README.md ("Configuration").
"""

import hashlib
import secrets
from datetime import timedelta
from pathlib import Path

import environ

from .paths import BASE_DIR, VAR_DIR

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "reversion",
    "anymail",
    # Only for its static files: the Tiptap/ProseMirror bundle the story editor imports.
    "django_prose_editor",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "bellcms",
    "issues",
    "sources",
    "subscribers",
    "archive",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CsrfViewMiddleware, which reads the body: refuses oversized public POSTs unread.
    "subscribers.middleware.BodySizeLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "bellcms.urls"
WSGI_APPLICATION = "bellcms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "archive.context_processors.feeds",
            ],
        },
    },
]

DATABASES = {"default": env.db_url("DATABASE_URL")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
USE_I18N = True
USE_TZ = True
# The newsroom's own zone: schedules are entered and shown in it, stored in UTC.
TIME_ZONE = env.str("NEWSROOM_TIME_ZONE", default="Europe/Riga")

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="smtp://127.0.0.1:25")
vars().update(EMAIL_CONFIG)
# Seconds a mail server may take to answer. Without a limit a hung server would hold a sending
# worker forever; with one, dispatch waits and tries again.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="BellCMS <newsroom@localhost>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)

# Celery: the broker is the only moving part that differs between the embedded default
# (a filesystem broker) and production (Redis).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="redis://127.0.0.1:6379/0")
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
# How often the scheduler's pass runs (publishing due issues, waking quiet sendings).
SCHEDULER_SECONDS = env.int("BELLCMS_SCHEDULER_SECONDS", default=15)
# The periodic schedule, in one place. Beat only enqueues; what is due lives in the database.
CELERY_BEAT_SCHEDULE = {
    "record-worker-heartbeat": {
        "task": "bellcms.tasks.record_worker_heartbeat",
        "schedule": timedelta(seconds=env.int("BELLCMS_HEARTBEAT_SECONDS", default=30)),
        # A heartbeat older than its successor is worthless: let the broker drop it.
        "options": {"expires": env.int("BELLCMS_HEARTBEAT_SECONDS", default=30)},
    },
    # The scheduler pass: what is due lives in the database, so a lost or late run only
    # delays; a run older than the next one is dropped by the broker.
    "publish-due-issues": {
        "task": "issues.tasks.publish_due",
        "schedule": timedelta(seconds=SCHEDULER_SECONDS),
        "options": {"expires": max(SCHEDULER_SECONDS - 1, 1)},
    },
    # Sendings whose tasks went quiet (lost with a restarted broker, a worker killed) are
    # woken; finished ones become sent.
    "wake-quiet-dispatches": {
        "task": "subscribers.tasks.wake_quiet_dispatches",
        "schedule": timedelta(seconds=SCHEDULER_SECONDS),
        "options": {"expires": max(SCHEDULER_SECONDS - 1, 1)},
    },
    # Sign-up attempts hold an address until a worker decides on them; lost ones go.
    "expire-signup-attempts": {
        "task": "subscribers.tasks.expire_signup_attempts",
        "schedule": timedelta(hours=1),
        "options": {"expires": 3000},
    },
}

# Files stored by this installation (the embedded database, broker and outbox live here).
VAR_DIR.mkdir(parents=True, exist_ok=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    # Subscribers' tokens in logged paths (a 404 or 405 on /u/<token>/) become "[redacted]".
    "filters": {"token_paths": {"()": "subscribers.logging.TokenPathFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["token_paths"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"filters": ["token_paths"]},
        "django.security.csrf": {"filters": ["token_paths"]},
        # runserver's request lines; they propagate to the console handler above.
        "django.server": {"filters": ["token_paths"]},
    },
}

# Where people reach this installation; links in notification emails start with it.
BELLCMS_BASE_URL = env.str("BELLCMS_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# The public archive (docs/archive.md). Pages are kept in the cache until anything changes;
# browsers and proxies may reuse one for ARCHIVE_MAX_AGE seconds before asking again (a
# conditional GET, answered 304 while nothing changed).
ARCHIVE_CACHE_SECONDS = env.int("ARCHIVE_CACHE_SECONDS", default=24 * 3600)
ARCHIVE_MAX_AGE = env.int("ARCHIVE_MAX_AGE", default=60)
# Each process trusts the archive's stamp it last read this long (seconds) before reading it
# again: a cached page then costs no database query, and a change shows within this time.
ARCHIVE_STAMP_SECONDS = env.float("ARCHIVE_STAMP_SECONDS", default=1.0)

# The import refuses files larger than this before reading them.
BELLCMS_IMPORT_MAX_BYTES = env.int("BELLCMS_IMPORT_MAX_BYTES", default=2 * 1024 * 1024)

# Sources (docs/sources.md). The master key wraps each source's data key: url-safe base64 of 32
# bytes, from the environment only, never derived from SECRET_KEY. Without it identities can be
# neither sealed nor revealed; everything else works. During a rotation the old key goes in
# SOURCE_MASTER_KEY_PREVIOUS. The index key (any long random string) keys the blind index that
# tells a keeper a new source may be a known one; it never changes.
SOURCE_MASTER_KEY = env.str("SOURCE_MASTER_KEY", default="")
SOURCE_MASTER_KEY_PREVIOUS = env.str("SOURCE_MASTER_KEY_PREVIOUS", default="")
SOURCE_INDEX_KEY = env.str("SOURCE_INDEX_KEY", default="")
# Who holds the master key: a class with wrap/unwrap/is_current (sources.keys.MasterKeys).
SOURCE_KEY_PROVIDER = env.str("SOURCE_KEY_PROVIDER", default="sources.keys.EnvironmentMasterKeys")
# In the admin, revealing an identity needs the password typed again within this many seconds.
SOURCE_REVEAL_PASSWORD_SECONDS = env.int("SOURCE_REVEAL_PASSWORD_SECONDS", default=300)

# Subscribers (docs/subscribers.md).
# The key of the suppression list's address hashes. Set it once and keep it: a new key makes
# every stored suppression unmatchable. Without it, a key is derived from SECRET_KEY.
SUBSCRIBERS_SUPPRESSION_KEY = env.str("SUBSCRIBERS_SUPPRESSION_KEY", default="") or (
    hashlib.sha256(f"bellcms.subscribers.suppression:{SECRET_KEY}".encode()).hexdigest()
)
# A confirmation link works for this long; unsubscribe links never expire; a preferences link
# (a fresh one is in every email) for this long.
SUBSCRIBERS_CONFIRM_MAX_AGE = env.int("SUBSCRIBERS_CONFIRM_MAX_AGE", default=7 * 24 * 3600)
SUBSCRIBERS_PREFERENCES_MAX_AGE = env.int(
    "SUBSCRIBERS_PREFERENCES_MAX_AGE", default=365 * 24 * 3600
)
# Sign-ups per client IP address and window (seconds), counted in the cache all processes share.
SUBSCRIBERS_SIGNUP_LIMIT = env.int("SUBSCRIBERS_SIGNUP_LIMIT", default=10)
SUBSCRIBERS_SIGNUP_WINDOW = env.int("SUBSCRIBERS_SIGNUP_WINDOW", default=3600)
# At most one confirmation email per address in this many seconds: a sign-up form must not
# become a way to flood someone's inbox.
SUBSCRIBERS_CONFIRM_RESEND_SECONDS = env.int("SUBSCRIBERS_CONFIRM_RESEND_SECONDS", default=600)
SUBSCRIBERS_RATE_LIMIT_CACHE = "default"
# How many proxies of ours append to X-Forwarded-For in front of Django (0: use REMOTE_ADDR).
SUBSCRIBERS_PROXY_COUNT = env.int("SUBSCRIBERS_PROXY_COUNT", default=0)
# Public forms refuse bodies larger than this before reading them
# (subscribers.middleware.BodySizeLimitMiddleware; django-anymail's webhooks: 2 MiB).
SUBSCRIBERS_MAX_FORM_BYTES = 64 * 1024
# The admin takes files (an issue to import, a members CSV): a file part larger than
# FILE_UPLOAD_MAX_MEMORY_SIZE goes to a temporary file, each page checks its own size limit.
# A larger non-file body (a form, the story editor's draft) is refused (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
# The mailto: of List-Unsubscribe (default: unsubscribe@ the newsletter's sender domain) and
# the domain of List-Id (default: the sender's domain).
SUBSCRIBERS_UNSUBSCRIBE_MAILTO = env.str("SUBSCRIBERS_UNSUBSCRIBE_MAILTO", default="")
SUBSCRIBERS_LIST_ID_DOMAIN = env.str("SUBSCRIBERS_LIST_ID_DOMAIN", default="")
# import_subscribers refuses files larger than this before reading them.
SUBSCRIBERS_IMPORT_MAX_BYTES = env.int("SUBSCRIBERS_IMPORT_MAX_BYTES", default=256 * 1024 * 1024)
# Dispatch of issues (docs/dispatch.md).
# Deliveries a batch task claims at a time, and how long its claim (lease) holds: a worker
# renews it while it sends; the rows of a worker that died are claimed again once it ran out.
DISPATCH_BATCH_SIZE = env.int("DISPATCH_BATCH_SIZE", default=250)
# SMTP connections each batch task sends over at once (one thread each): a distant relay costs
# two round trips per message and connection, so more connections make up for the distance.
DISPATCH_CONNECTIONS = env.int("DISPATCH_CONNECTIONS", default=8)
# What the relay allows every worker together (0: no limit): connections at once, messages a
# second. Counted in Redis: DISPATCH_LIMITS_REDIS_URL, or the Celery broker if it is Redis.
DISPATCH_MAX_CONNECTIONS = env.int("DISPATCH_MAX_CONNECTIONS", default=0)
DISPATCH_MAX_RATE = env.float("DISPATCH_MAX_RATE", default=0)
DISPATCH_LIMITS_REDIS_URL = env.str("DISPATCH_LIMITS_REDIS_URL", default="")
# Recipients per call of an ESP's batch API (0: the ESP's own limit, e.g. Mailgun's 1 000).
DISPATCH_ESP_BATCH_SIZE = env.int("DISPATCH_ESP_BATCH_SIZE", default=0)
DISPATCH_LEASE_SECONDS = env.int("DISPATCH_LEASE_SECONDS", default=300)
# Batch tasks queued per issue: how many worker processes may share one sending.
DISPATCH_TASKS_PER_ISSUE = env.int("DISPATCH_TASKS_PER_ISSUE", default=4)
# A batch task hands over to a fresh one after this long, so other tasks get their turn.
DISPATCH_TASK_SECONDS = env.int("DISPATCH_TASK_SECONDS", default=60)
# The scheduler's pass wakes a sending with work due and no batch claimed for this long.
DISPATCH_QUIET_SECONDS = env.int("DISPATCH_QUIET_SECONDS", default=30)
# A temporary refusal (4xx) is tried again after this long, doubling each time up to an hour,
# at most this many times in all before the delivery counts as failed.
DISPATCH_RETRY_SECONDS = env.int("DISPATCH_RETRY_SECONDS", default=300)
DISPATCH_MAX_ATTEMPTS = env.int("DISPATCH_MAX_ATTEMPTS", default=6)
# django-anymail: ESP backends (EMAIL_BACKEND="anymail.backends.…") and tracking webhooks at
# /anymail/<esp>/tracking/, protected by HTTP basic auth "user:password". Unset, a random
# secret nobody knows: every webhook call is refused rather than accepted unauthenticated.
ANYMAIL = {
    "WEBHOOK_SECRET": env.str("ANYMAIL_WEBHOOK_SECRET", default="")
    or f"unset:{secrets.token_urlsafe(32)}",
}

# The public JSON API (archive/api, docs/api.md): read-only, anonymous and JSON only (no
# browsable API: nothing but data under /api/). No authentication at all: the API shows what the
# archive shows, to everyone alike. Requests are counted per client address in the default cache
# (AnonRateThrottle); the address is found as the sign-up forms find it, so that a forged
# X-Forwarded-For does not buy a fresh allowance.
API_ANON_RATE = env.str("API_ANON_RATE", default="120/minute")
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": API_ANON_RATE},
    "NUM_PROXIES": SUBSCRIBERS_PROXY_COUNT,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "archive.api.errors.exception_handler",
}
# The OpenAPI schema at /api/v1/schema/, generated from the code (drf-spectacular).
SPECTACULAR_SETTINGS = {
    "TITLE": "BellCMS archive API",
    "DESCRIPTION": "Published newsletters, issues and stories of the public archive, read-only.",
    "VERSION": "1.0.0",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
}
