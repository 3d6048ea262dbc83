"""The test suite: SQLite unless DATABASE_URL names another database (CI sets PostgreSQL)."""

import base64
import os
import secrets
import tempfile
import uuid

os.environ.setdefault("SECRET_KEY", "bellcms-test-key")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")
# Unit tests run tasks eagerly and never touch it; tests with real workers use it (Redis).
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("BELLCMS_VAR_DIR", tempfile.mkdtemp(prefix="bellcms-test-var-"))
# Fresh source keys for each run; processes a test starts inherit them.
os.environ.setdefault(
    "SOURCE_MASTER_KEY", base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
)
os.environ.setdefault("SOURCE_INDEX_KEY", secrets.token_urlsafe(48))

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
if "EMAIL_URL" not in os.environ:
    # In-process tests read mail from django.core.mail.outbox; worker processes started by
    # tests are given EMAIL_URL and send to a real SMTP server instead.
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Unit tests run a task's logic in the test's own process; tests/e2e and the process tests
# start real workers (and beat) for what crosses the broker, with BELLCMS_TEST_EAGER=false so
# that what those processes queue goes through the broker too.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("BELLCMS_TEST_EAGER", "true") != "false"
CELERY_TASK_EAGER_PROPAGATES = True
# A queue of this test run's own, so that a worker a test starts takes only this run's tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault(
    "BELLCMS_TEST_QUEUE", f"bellcms-test-{uuid.uuid4().hex[:12]}"
)

if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":  # noqa: F405
    # The reveal log refuses TRUNCATE (sources migration 0007) unless the connection allows
    # it: transactional tests empty every table between tests.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (  # noqa: F405
        "-c bellcms.reveal_log_truncate=allowed"
    )
