"""Which agents have the panel open (sockets that joined admin_room), across processes,
and telling visitors when the desk's availability changes.

* With REDIS_URL: one sorted set of panel socket ids, scored by when each entry expires;
  every process refreshes its own sockets' entries every SOCKETIO_CONNECTION_TTL / 3
  seconds, so the sockets of a process that died stop counting by themselves (the same
  bookkeeping as chat/realtime/connection_counts.py).
* Without Redis there is one process, and its own set of panel sockets is exact.

Each server process re-checks availability every AVAILABILITY_CHECK_SECONDS, and at once
when a panel socket of its own comes or goes, and emits `availability` to its own visitor
sockets (VISITORS_ROOM, locally: every process does the same for its visitors).
"""

from __future__ import annotations

import asyncio
import logging
import time

from django.conf import settings

from .. import availability
from . import server
from .db_worker import run_db

logger = logging.getLogger("chat.presence")

# Every visitor socket that joined a conversation, in each process.
VISITORS_ROOM = "visitors"


class MemoryPresence:
    def __init__(self) -> None:
        self._sids: set[str] = set()

    async def add(self, sid: str) -> None:
        self._sids.add(sid)

    async def remove(self, sid: str) -> bool:
        if sid in self._sids:
            self._sids.discard(sid)
            return True
        return False

    async def count(self) -> int:
        return len(self._sids)

    async def refresh(self) -> None:
        pass


class RedisPresence(MemoryPresence):
    def __init__(self, url: str, prefix: str, ttl: int) -> None:
        super().__init__()
        from redis import asyncio as aioredis

        self._redis = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._key = f"{prefix}:panel-sockets"
        self._ttl = ttl

    async def add(self, sid: str) -> None:
        await super().add(sid)
        await self._redis.zadd(self._key, {sid: time.time() + self._ttl})

    async def remove(self, sid: str) -> bool:
        known = await super().remove(sid)
        if known:
            await self._redis.zrem(self._key, sid)
        return known

    async def count(self) -> int:
        now = time.time()
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(self._key, "-inf", now)
            pipe.zcard(self._key)
            _, count = await pipe.execute()
        return int(count)

    async def refresh(self) -> None:
        if self._sids:
            expires = time.time() + self._ttl
            await self._redis.zadd(self._key, {sid: expires for sid in self._sids})


_presence: MemoryPresence | None = None
_last_sent: dict | None = None
_check_lock: asyncio.Lock | None = None
_task: asyncio.Task | None = None


def get() -> MemoryPresence:
    global _presence
    if _presence is None:
        if settings.REDIS_URL:
            _presence = RedisPresence(
                settings.REDIS_URL, settings.SOCKETIO_REDIS_CHANNEL, settings.SOCKETIO_CONNECTION_TTL
            )
        else:
            _presence = MemoryPresence()
    return _presence


async def agents_online() -> int:
    try:
        return await get().count()
    except Exception:  # Redis down: this process's own panels still count
        logger.warning("presence_count_failed", exc_info=True)
        return await MemoryPresence.count(get())


# Joins reuse a state computed this recently (with the same number of open panels), so a
# burst of visitors costs one look at the database; the watcher always looks afresh.
REUSE_SECONDS = 1.0
_computed: tuple[float, int, dict] | None = None


async def check(skip_sid: str | None = None, fresh: bool = True) -> dict:
    """Availability now; visitors of this process are told when it changed (except
    `skip_sid`, a visitor that gets it in its join ack)."""
    global _last_sent, _check_lock, _computed
    if _check_lock is None:
        _check_lock = asyncio.Lock()
    async with _check_lock:
        agents = await agents_online()
        reusable = _computed is not None and _computed[1] == agents
        # (Never staler than the measured reply time may be: tests set that to 0.)
        window = min(REUSE_SECONDS, settings.AVAILABILITY_MEDIAN_CACHE_SECONDS)
        if not fresh and reusable and time.monotonic() - _computed[0] < window:
            state = _computed[2]
        else:
            state = await run_db(availability.current, agents)
            _computed = (time.monotonic(), agents, state)
        if state != _last_sent:
            _last_sent = state
            await server.get().emit(
                "availability", state, room=VISITORS_ROOM, skip_sid=skip_sid, ignore_queue=True
            )
    return state


def check_soon() -> None:
    """Re-check in the background (a panel socket came or went)."""
    asyncio.get_running_loop().create_task(_check_logged())


async def _check_logged() -> None:
    try:
        await check()
    except Exception:
        logger.exception("availability_check_failed")


async def _watch_forever() -> None:
    last_refresh = 0.0
    while True:
        await asyncio.sleep(max(0.2, settings.AVAILABILITY_CHECK_SECONDS))
        if time.monotonic() - last_refresh >= settings.SOCKETIO_CONNECTION_TTL / 3:
            try:
                await get().refresh()
                last_refresh = time.monotonic()
            except Exception:
                logger.warning("presence_refresh_failed", exc_info=True)
        await _check_logged()


def start() -> None:
    """Start watching on the running loop (once per process, from chatdesk.startup)."""
    global _task
    if _task is None or _task.done():
        _task = asyncio.get_running_loop().create_task(_watch_forever())


def current_from_thread(timeout: float = 3.0) -> dict:
    """check() for synchronous code of a server process (an HTTP view): asked on the
    server loop, which knows the open panels. Elsewhere (no server loop), without them."""
    from .publishing import server_loop

    loop = server_loop()
    if loop is None or not loop.is_running():
        return availability.current(0)
    return asyncio.run_coroutine_threadsafe(check(fresh=False), loop).result(timeout)
