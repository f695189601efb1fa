"""Fixed-window rate limits kept in the cache (Redis when configured), shared by workers.

While the cache is down the limits let requests through (and log it): a Redis outage
must not take the chat down, and what they protect has limits of its own in the database
(each sign-in code allows five tries).
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from redis.exceptions import RedisError

logger = logging.getLogger("chatdesk.ratelimit")


def _key(scope: str, key: str, window_seconds: int) -> str:
    return f"rl:{scope}:{key}:{int(time.time() // window_seconds)}"


def hit(scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one event; False when `key` already had `limit` events in this window."""
    cache_key = _key(scope, key, window_seconds)
    try:
        if cache.add(cache_key, 1, timeout=window_seconds + 1):
            return True
        try:
            count = cache.incr(cache_key)
        except ValueError:
            # The key expired between add and incr: the first event of a new window.
            cache.add(cache_key, 1, timeout=window_seconds + 1)
            return True
    except RedisError:
        logger.warning("ratelimit_unavailable scope=%s", scope)
        return True
    return count <= limit


def count(scope: str, key: str, window_seconds: int) -> int:
    try:
        return int(cache.get(_key(scope, key, window_seconds), 0))
    except RedisError:
        logger.warning("ratelimit_unavailable scope=%s", scope)
        return 0
