"""Is the background machinery alive? The admin shows the answer to editors and operators."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

HEARTBEAT_CACHE_KEY = "bellcms:worker-heartbeat"
# Beat sends a heartbeat every 30 s; two missed beats mean something is wrong.
HEARTBEAT_STALE_AFTER = timedelta(seconds=75)


@dataclass(frozen=True)
class WorkerStatus:
    last_seen: datetime | None

    @property
    def alive(self) -> bool:
        return (
            self.last_seen is not None and timezone.now() - self.last_seen < HEARTBEAT_STALE_AFTER
        )


def worker_heartbeat_record() -> None:
    cache.set(HEARTBEAT_CACHE_KEY, timezone.now().isoformat(), timeout=None)


def worker_status_get() -> WorkerStatus:
    value = cache.get(HEARTBEAT_CACHE_KEY)
    return WorkerStatus(last_seen=datetime.fromisoformat(value) if value else None)
