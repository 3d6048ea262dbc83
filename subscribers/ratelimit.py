"""Fixed-window rate limits in the Django cache, shared by every process that shares the cache.

``cache.add`` and ``cache.incr`` are atomic on Redis and Memcached, so two web processes (or
two machines) counting one client never both think they came first. Production settings refuse
an in-process cache for that reason (``bellcms/settings/production.py``).
"""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import caches


def _cache():
    return caches[settings.SUBSCRIBERS_RATE_LIMIT_CACHE]


def _bucket(scope: str, key: str, window: int) -> str:
    # Keys hold a keyed hash: the cache never holds an address or an IP address in clear.
    digest = hmac.new(
        settings.SUBSCRIBERS_SUPPRESSION_KEY.encode(), key.encode(), hashlib.sha256
    ).hexdigest()[:32]
    return f"subscribers:rl:{scope}:{digest}:{int(time.time() // window)}"


def rate_limit_hit(*, scope: str, key: str, limit: int, window: int) -> bool:
    """Count one attempt; True when this attempt is over ``limit`` in the current window."""
    cache = _cache()
    bucket = _bucket(scope, key, window)
    # add() only sets a missing key, so the first attempt of a window starts the count at 1
    # and every later one, in any process, increments the same counter.
    if cache.add(bucket, 1, timeout=window + 1):
        return limit < 1
    try:
        return cache.incr(bucket) > limit
    except ValueError:
        # The key expired between add() and incr(): this attempt opens a new window.
        cache.add(bucket, 1, timeout=window + 1)
        return limit < 1


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the one that many proxies back in X-Forwarded-For.

    ``SUBSCRIBERS_PROXY_COUNT`` says how many proxies of our own stand in front of Django; only
    the entries they appended are trusted, because the client writes the rest.
    """
    proxies = settings.SUBSCRIBERS_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        ]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
