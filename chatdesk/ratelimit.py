"""Fixed-window rate limits that no cache eviction can reset, shared by every process.

Counts live in Redis when REDIS_URL is set (INCR with an expiry), else in the database
(`accounts.LimitCounter`, one row per key and window, deleted once the window is over),
never in a process's local-memory cache, which a flood of page views would empty.
While Redis is down, counts go to the database instead, so limits keep holding (counts
restart there, once, at the switch).

`hit` and `count` do I/O: call them from synchronous code (views, `run_db`), never
directly on the event loop.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from redis.exceptions import RedisError

from . import redis_client

logger = logging.getLogger("chatdesk.ratelimit")

# Expired database rows are deleted by about one hit in this many.
PRUNE_ONE_IN = 200


def _window(window_seconds: int) -> tuple[int, float]:
    """(the current window's number, the moment it ends as a Unix time)."""
    index = int(time.time() // window_seconds)
    return index, (index + 1) * window_seconds


def _name(scope: str, key: str, window_seconds: int, index: int) -> str:
    if len(key) > 100:
        key = hashlib.sha256(key.encode()).hexdigest()
    return f"rl:{scope}:{window_seconds}:{key}:{index}"


def _redis_hit(name: str, ends_at: float, amount: int = 1) -> int:
    pipe = redis_client.get().pipeline()
    pipe.incrby("chatdesk:" + name, amount)
    pipe.expireat("chatdesk:" + name, int(ends_at) + 1)
    return int(pipe.execute()[0])


def _redis_count(name: str) -> int:
    return int(redis_client.get().get("chatdesk:" + name) or 0)


def _db_hit(name: str, ends_at: float, amount: int = 1) -> int:
    from accounts.models import LimitCounter

    with transaction.atomic():
        if not LimitCounter.objects.filter(name=name).update(count=F("count") + amount):
            try:
                with transaction.atomic():
                    expires = datetime.fromtimestamp(ends_at, UTC)
                    LimitCounter.objects.create(name=name, count=amount, expires_at=expires)
            except IntegrityError:  # another request created it first
                LimitCounter.objects.filter(name=name).update(count=F("count") + amount)
        value = LimitCounter.objects.filter(name=name).values_list("count", flat=True).get()
    if random.randrange(PRUNE_ONE_IN) == 0:
        LimitCounter.objects.filter(expires_at__lt=datetime.now(UTC)).delete()
    return value


def _db_count(name: str) -> int:
    from accounts.models import LimitCounter

    return LimitCounter.objects.filter(name=name).values_list("count", flat=True).first() or 0


def hit(scope: str, key: str, limit: int, window_seconds: int, amount: int = 1) -> bool:
    """Count one event (or `amount` units of something, e.g. kilobytes stored); False when
    `key` has then passed `limit` in this window."""
    index, ends_at = _window(window_seconds)
    name = _name(scope, key, window_seconds, index)
    if settings.REDIS_URL:
        try:
            return _redis_hit(name, ends_at, amount) <= limit
        except RedisError:
            logger.warning("ratelimit_redis_unavailable scope=%s fallback=database", scope)
    return _db_hit(name, ends_at, amount) <= limit


def count(scope: str, key: str, window_seconds: int) -> int:
    """How many events `key` had in this window so far."""
    index, _ = _window(window_seconds)
    name = _name(scope, key, window_seconds, index)
    if settings.REDIS_URL:
        try:
            return _redis_count(name)
        except RedisError:
            logger.warning("ratelimit_redis_unavailable scope=%s fallback=database", scope)
    return _db_count(name)


def retry_after(window_seconds: int) -> int:
    """Seconds until the current window ends (for Retry-After)."""
    return max(1, int(_window(window_seconds)[1] - time.time()) + 1)
