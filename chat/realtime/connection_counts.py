"""How many Socket.IO connections each client address holds, across server processes.

The cap SOCKETIO_MAX_CONNECTIONS_PER_IP needs a count that every process shares, and a
count that heals by itself: a process that is SIGKILLed (or loses Redis in the middle of
a disconnect) never gets to subtract its connections. So we do not keep a counter.

* With REDIS_URL: one sorted set per address, members are socket ids, scores the moment
  each entry expires. Every process refreshes the entries of its own live sockets every
  SOCKETIO_CONNECTION_TTL / 3 seconds; entries of a dead process simply expire, so an
  address is never locked out for longer than the TTL.
* Without Redis there is one process: its memory is the exact count, and it dies with it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

from django.conf import settings

logger = logging.getLogger("chat.connection_counts")


class MemoryCounts:
    def __init__(self) -> None:
        self._sids: dict[str, set[str]] = defaultdict(set)

    async def add(self, ip: str, sid: str) -> int:
        self._sids[ip].add(sid)
        return len(self._sids[ip])

    async def remove(self, ip: str, sid: str) -> None:
        sids = self._sids.get(ip)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._sids[ip]

    def start(self) -> None:
        pass


class RedisCounts:
    def __init__(self, url: str, prefix: str, ttl: int) -> None:
        from redis import asyncio as aioredis

        # Short timeouts: a connect must be answered (or refused) quickly when Redis is gone.
        self._redis = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix
        self._ttl = ttl
        self._local: dict[str, str] = {}  # sid -> ip, the sockets this process holds
        self._refresher: asyncio.Task | None = None

    def _key(self, ip: str) -> str:
        return f"{self._prefix}:socket-connections:{ip}"

    async def add(self, ip: str, sid: str) -> int:
        now = time.time()
        key = self._key(ip)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now)
            pipe.zadd(key, {sid: now + self._ttl})
            pipe.zcard(key)
            pipe.expire(key, self._ttl)
            _, _, count, _ = await pipe.execute()
        self._local[sid] = ip
        return int(count)

    async def remove(self, ip: str, sid: str) -> None:
        self._local.pop(sid, None)
        await self._redis.zrem(self._key(ip), sid)

    async def refresh(self) -> None:
        """Push the expiry of this process's live sockets forward."""
        if not self._local:
            return
        expires = time.time() + self._ttl
        async with self._redis.pipeline(transaction=False) as pipe:
            for sid, ip in list(self._local.items()):
                pipe.zadd(self._key(ip), {sid: expires})
                pipe.expire(self._key(ip), self._ttl)
            await pipe.execute()

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(max(self._ttl / 3, 0.5))
            try:
                await self.refresh()
            except Exception:  # Redis down: the next round tries again
                logger.warning("connection_count_refresh_failed", exc_info=True)

    def start(self) -> None:
        """Start refreshing on the running loop (once per process)."""
        if self._refresher is None or self._refresher.done():
            self._refresher = asyncio.get_running_loop().create_task(self._refresh_forever())


_counts: MemoryCounts | RedisCounts | None = None


def get() -> MemoryCounts | RedisCounts:
    """This process's counts, made on first use (by `chatdesk.startup`)."""
    global _counts
    if _counts is None:
        if settings.REDIS_URL:
            _counts = RedisCounts(
                settings.REDIS_URL, settings.SOCKETIO_REDIS_CHANNEL, settings.SOCKETIO_CONNECTION_TTL
            )
        else:
            _counts = MemoryCounts()
    return _counts
