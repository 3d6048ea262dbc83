"""The test suite: SQLite unless DATABASE_URL names another database (CI sets PostgreSQL)."""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "bellcms-test-key")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")
os.environ.setdefault("BELLCMS_VAR_DIR", tempfile.mkdtemp(prefix="bellcms-test-var-"))

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Unit tests run a task's logic in the test's own process; tests/e2e and the process tests
# start real workers for what crosses the broker.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
