"""The embedded default: SQLite, a filesystem Celery broker and a file outbox. No servers needed."""

import os

from .dev_keys import dev_source_keys_load
from .paths import VAR_DIR

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "bellcms-local-development-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR_DIR / 'bellcms.sqlite3'}")
os.environ.setdefault("CACHE_URL", f"filecache://{VAR_DIR / 'cache'}")
# Four slashes: django-environ reads a filemail path as relative unless it has one more.
os.environ.setdefault("EMAIL_URL", f"filemail:///{VAR_DIR / 'outbox'}")
os.environ.setdefault("CELERY_BROKER_URL", "filesystem://localhost/")
dev_source_keys_load(VAR_DIR)

from .base import *  # noqa: F403, E402
from .base import CELERY_BROKER_URL, DATABASES  # noqa: E402

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker, beat and web share one SQLite file: wait for a lock rather than fail at once, and
    # take the write lock when a transaction starts (two transactions that both read and then
    # both write, like two batch tasks claiming deliveries, would otherwise fail at once).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    )

if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
