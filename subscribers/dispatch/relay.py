"""What the relay allows the whole fleet of workers: ``DISPATCH_MAX_CONNECTIONS`` connections at
once and ``DISPATCH_MAX_RATE`` messages a second, counted in Redis so that every worker process
on every machine keeps to the same ceiling.

- Connections: a sorted set of slots per relay (host and port), each slot held by one
  connection of one task and given back when it ends; a slot whose holder died (killed worker)
  runs out after ``DISPATCH_LEASE_SECONDS``, as its batch's claim does. A connection without a
  slot waits for one, closed.
- Rate: one timestamp per relay, the generic cell rate algorithm (GCRA): each message moves it
  on by 1 / rate; a connection that would be ahead of it waits. A second's worth of messages may
  go at once after a pause.

Unset (the default), neither is counted and Redis is not used.
"""

import time
import uuid
from functools import cache

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

# KEYS[1]: the slots; ARGV: now, expiry, limit, holder. 1 if the holder has a slot now.
_SLOT_TAKE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[4]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2] - ARGV[1]) + 60)
  return 1
end
return 0
"""

# KEYS[1]: the next moment a message may go; ARGV: now, interval, burst. Seconds to wait (as a
# string), "0" when the message may go now.
_RATE_TAKE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local next_at = math.max(tonumber(redis.call('GET', KEYS[1]) or now), now)
if next_at - now > burst then
  return tostring(next_at - now - burst)
end
redis.call('SET', KEYS[1], tostring(next_at + interval), 'EX', math.ceil(burst + interval) + 60)
return '0'
"""


@cache
def _client(url: str):
    import redis

    return redis.Redis.from_url(url)


_NO_REDIS = (
    "DISPATCH_MAX_CONNECTIONS and DISPATCH_MAX_RATE are counted in Redis: set "
    "DISPATCH_LIMITS_REDIS_URL (the Celery broker is not Redis)."
)


def _redis_url() -> str:
    return settings.DISPATCH_LIMITS_REDIS_URL or (
        settings.CELERY_BROKER_URL
        if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://"))
        else ""
    )


def _redis():
    url = _redis_url()
    if not url:
        raise ImproperlyConfigured(_NO_REDIS)
    return _client(url)


def check_relay_limits(app_configs, **kwargs) -> list[Error]:
    """``manage.py check``: a relay limit set with nowhere to count it."""
    limited = settings.DISPATCH_MAX_CONNECTIONS or settings.DISPATCH_MAX_RATE
    if limited and not _redis_url():
        return [Error(_NO_REDIS, id="subscribers.E001")]
    return []


def _relay() -> str:
    return f"bellcms:relay:{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"


class RelaySlot:
    """One connection's slot among the relay's ``DISPATCH_MAX_CONNECTIONS``."""

    def __init__(self):
        self.holder = uuid.uuid4().hex
        self.held = False

    def take(self) -> bool:
        """Take the slot, or renew it; False if every slot is held by others."""
        limit = settings.DISPATCH_MAX_CONNECTIONS
        if not limit:
            return True
        client = _redis()
        now = time.time()
        expiry = now + settings.DISPATCH_LEASE_SECONDS
        key = f"{_relay()}:connections"
        self.held = bool(client.eval(_SLOT_TAKE, 1, key, now, expiry, limit, self.holder))
        return self.held

    def give_back(self) -> None:
        if self.held:
            _redis().zrem(f"{_relay()}:connections", self.holder)
            self.held = False


def relay_connections_in_use() -> int:
    """Slots held now across the fleet (for the sending page and ``dispatch_status``)."""
    if not settings.DISPATCH_MAX_CONNECTIONS:
        return 0
    client = _redis()
    key = f"{_relay()}:connections"
    return client.zcount(key, time.time(), "+inf")


def relay_wait() -> float:
    """Seconds this message must wait to keep the relay under ``DISPATCH_MAX_RATE`` (0: send
    it now, and it is counted)."""
    rate = settings.DISPATCH_MAX_RATE
    if not rate:
        return 0.0
    answer = _redis().eval(_RATE_TAKE, 1, f"{_relay()}:rate", time.time(), 1 / rate, 1.0)
    return float(answer)
