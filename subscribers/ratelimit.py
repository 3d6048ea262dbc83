"""Fixed-window rate limits in the Django cache, shared by every process that shares the cache.

``cache.add`` and ``cache.incr`` are atomic on Redis and Memcached, so two web processes (or
two machines) counting one client never both think they came first. Production settings refuse
an in-process cache for that reason (``bellcms/settings/production.py``).
"""

import hashlib
import hmac
import ipaddress
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


def ip_rate_key(ip: str) -> str:
    """The rate-limit key of a client address: an IPv4 address itself, an IPv6 address's /64.

    One IPv6 subscriber line gets a whole /64 (often much more), so keying on the full address
    would give one client 2^64 buckets. An IPv4-mapped IPv6 address counts as its IPv4 address.
    """
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


GMAIL_DOMAINS = {"gmail.com", "googlemail.com"}


def mailbox_rate_key(address: str) -> str:
    """The rate-limit key of a normalised address: the mailbox its mail lands in.

    ``anna+1@example.com`` and ``anna+2@example.com`` reach one inbox (a ``+tag`` is dropped for
    every domain), and Gmail also ignores dots and treats googlemail.com as gmail.com. Only the
    key changes: the subscriber keeps the address as typed (normalised).
    """
    local, _, domain = address.rpartition("@")
    tag = local.find("+")
    if tag > 0:
        local = local[:tag]
    if domain in GMAIL_DOMAINS:
        local = local.replace(".", "")
        domain = "gmail.com"
    return f"{local}@{domain}"
