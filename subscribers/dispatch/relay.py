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

import contextlib
import uuid
from functools import cache

from django.conf import settings
from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured

# Times are the Redis server's (TIME), in whole microseconds, written with %.0f so that Lua's
# tostring does not round them: every worker counts on one clock.
_NOW = "local t = redis.call('TIME') local now = t[1] * 1000000 + t[2]\n"

# KEYS[1]: the slots; ARGV: lifetime (µs), limit, holder. 1 if the holder has a slot now.
_SLOT_TAKE = (
    _NOW
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[1])), ARGV[3])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) / 1000000) + 60)
  return 1
end
return 0
"""
)

# KEYS[1]: the slots. How many are held now.
_SLOTS_HELD = _NOW + "return redis.call('ZCOUNT', KEYS[1], string.format('%.0f', now), '+inf')\n"

# KEYS[1]: the next moment messages may go; ARGV: their cost (µs: count / rate), the burst
# (µs). Microseconds to wait (a string), "0" when they may go now and are counted.
_RATE_TAKE = (
    _NOW
    + """
local cost = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local next_at = math.max(tonumber(redis.call('GET', KEYS[1]) or 0), now)
if next_at - now > burst then
  return string.format('%.0f', next_at - now - burst)
end
local until_ms = math.ceil((next_at + cost - now) / 1000) + 60000
redis.call('SET', KEYS[1], string.format('%.0f', next_at + cost), 'PX', until_ms)
return '0'
"""
)


class RelayUnavailable(Exception):
    """Redis, where the relay's limits are counted, did not answer."""

    def __init__(self, error: Exception):
        super().__init__(error)
        self.reason = f"the relay's limits cannot be counted (Redis: {error})"[:500]


@cache
def _client(url: str):
    import redis

    # A Redis that does not answer is an error in seconds, not a connection stuck for good.
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _eval(script: str, key: str, *args):
    import redis

    try:
        return _redis().eval(script, 1, key, *args)
    except redis.RedisError as error:
        raise RelayUnavailable(error) from error


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


def relay_address() -> str:
    """The SMTP relay this process sends to: its host and port."""
    return f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"


def _relay() -> str:
    return f"bellcms:relay:{relay_address()}"


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
        lifetime = settings.DISPATCH_LEASE_SECONDS * 1_000_000
        key = f"{_relay()}:connections"
        self.held = bool(_eval(_SLOT_TAKE, key, lifetime, limit, self.holder))
        return self.held

    def give_back(self) -> None:
        import redis

        if self.held:
            self.held = False
            # Not given back (Redis gone), it runs out after DISPATCH_LEASE_SECONDS.
            with contextlib.suppress(redis.RedisError):
                _redis().zrem(f"{_relay()}:connections", self.holder)


def relay_connections_in_use() -> int:
    """Slots held now across the fleet."""
    if not settings.DISPATCH_MAX_CONNECTIONS:
        return 0
    return int(_eval(_SLOTS_HELD, f"{_relay()}:connections"))


def relay_wait(count: int = 1) -> float:
    """Seconds these ``count`` messages must wait to keep the relay under
    ``DISPATCH_MAX_RATE`` (0: send them now, and they are counted)."""
    rate = settings.DISPATCH_MAX_RATE
    if not rate:
        return 0.0
    cost = round(count * 1_000_000 / rate)
    return float(_eval(_RATE_TAKE, f"{_relay()}:rate", cost, 1_000_000)) / 1_000_000
