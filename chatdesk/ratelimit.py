"""Fixed-window rate limits that no cache eviction can reset, shared by every process.

Counts live in Redis when REDIS_URL is set (INCR with an expiry), else in the database
(`accounts.LimitCounter`, one row per key and window, deleted once the window is over),
never in a process's local-memory cache, which a flood of page views would empty.
While Redis is down, counts go to the database instead, so limits keep holding (counts
restart there, once, at the switch).

`hit` and `count` do I/O: call them from synchronous code (views, `run_db`), never
directly on the event loop. `hit_hot` is for the one limit every visitor message passes
(see there): without Redis it counts in the process.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
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
    return _total_after(scope, key, window_seconds, amount) <= limit


def _total_after(scope: str, key: str, window_seconds: int, amount: int) -> int:
    index, ends_at = _window(window_seconds)
    name = _name(scope, key, window_seconds, index)
    if settings.REDIS_URL:
        try:
            return _redis_hit(name, ends_at, amount)
        except RedisError:
            logger.warning("ratelimit_redis_unavailable scope=%s fallback=database", scope)
    return _db_hit(name, ends_at, amount)


# hit_hot() without Redis: {(scope, key, window_seconds): (window index, count)}, entries of
# ended windows dropped when a window turns (so it holds this window's keys at most).
_in_process: dict[tuple[str, str, int], tuple[int, int]] = {}
_in_process_lock = threading.Lock()
_in_process_turned: dict[int, int] = {}  # window_seconds -> index of the last prune


def hit_hot(scope: str, key: str, limit: int, window_seconds: int, events: int = 1) -> int:
    """`hit` for a limit counted on every visitor message (MESSAGES_PER_MINUTE_PER_IP) or
    conversation (CONVERSATIONS_PER_HOUR_PER_IP):
    counts `events` events of `key` at once (the messages of one address in a group) and
    returns how many of them, the first ones, are within `limit`.

    With Redis, as `hit` (one round trip for all of them). Without Redis there is one
    server process (sockets of two processes reach each other only through Redis), so
    this process's memory holds the exact count, as chat/realtime/connection_counts.py
    does for connections. In the database every visitor behind one address updated the
    same row, one transaction at a time: at 500 msg/s from one office that row was the
    desk's bottleneck (bench/README.md).
    A restart forgets the current window's counts: one window of budget at most.
    """
    if settings.REDIS_URL:
        total = _total_after(scope, key, window_seconds, events)
    else:
        total = _in_process_hit((scope, key, window_seconds), events)
    return max(0, min(events, limit - (total - events)))


def _in_process_hit(slot: tuple[str, str, int], events: int) -> int:
    window_seconds = slot[2]
    index, _ = _window(window_seconds)
    with _in_process_lock:
        if _in_process_turned.get(window_seconds) != index:
            _in_process_turned[window_seconds] = index
            for old in [s for s, (i, _) in _in_process.items() if s[2] == window_seconds and i != index]:
                del _in_process[old]
        seen_index, count = _in_process.get(slot, (index, 0))
        count = (count if seen_index == index else 0) + events
        _in_process[slot] = (index, count)
    return count


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
