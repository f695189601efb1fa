"""Fixed-window rate limits kept in the cache (Redis when configured), shared by workers."""

from __future__ import annotations

import time

from django.core.cache import cache


def hit(scope: str, key: str, limit: int, window_seconds: int) -> bool:
    """Count one event; False when `key` already had `limit` events in this window."""
    window = int(time.time() // window_seconds)
    cache_key = f"rl:{scope}:{key}:{window}"
    if cache.add(cache_key, 1, timeout=window_seconds + 1):
        return True
    try:
        count = cache.incr(cache_key)
    except ValueError:
        # The key expired between add and incr: this is the first event of a new window.
        cache.add(cache_key, 1, timeout=window_seconds + 1)
        return True
    return count <= limit


def count(scope: str, key: str, window_seconds: int) -> int:
    window = int(time.time() // window_seconds)
    return int(cache.get(f"rl:{scope}:{key}:{window}", 0))


def reset(scope: str, key: str, window_seconds: int) -> None:
    window = int(time.time() // window_seconds)
    cache.delete(f"rl:{scope}:{key}:{window}")
