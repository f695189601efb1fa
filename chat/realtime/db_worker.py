"""Run synchronous ORM work from async code without blocking the event loop.

`start()` (called by `chatdesk.startup`) builds the worker threads' executor and the
pool sweeper; importing this module changes nothing in the process.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, reset_queries

from .publishing import capture_published, captures_on, emit_published

T = TypeVar("T")

logger = logging.getLogger("chat.db")

_executor: ThreadPoolExecutor | None = None


def start() -> None:
    """Build the database worker threads' executor and start the pool sweeper (once)."""
    global _executor
    if _executor is not None:
        return
    _executor = ThreadPoolExecutor(max_workers=settings.DB_THREADS, thread_name_prefix="chatdesk-db")
    if any(_has_pool(alias) for alias in settings.DATABASES) and settings.DATABASE_POOL_CHECK_SECONDS > 0:
        threading.Thread(
            target=_sweep_pools_forever,
            args=(settings.DATABASE_POOL_CHECK_SECONDS,),
            name="chatdesk-db-pool-check",
            daemon=True,
        ).start()


def _call(func: Callable[..., T], args: tuple, kwargs: dict) -> T:
    # The worker threads are few and live as long as the process, so each keeps its
    # connections between calls (bounded: DB_THREADS per process). Opening one per call
    # cost more than the message itself: a pool checkout with its check round trip on
    # PostgreSQL; on SQLite a new file handle, the PRAGMAs, and a WAL checkpoint when
    # the last handle closed. Request threads still close theirs (CONN_MAX_AGE=0).
    _drop_dead_connections()
    try:
        return func(*args, **kwargs)
    finally:
        _drop_broken_connections()
        if settings.DEBUG:
            # Under DEBUG Django logs every query on the connection until a request starts;
            # these connections never see one, so each kept up to 9,000 (tens of MB a process).
            reset_queries()


def _drop_dead_connections() -> None:
    """Close kept connections the server has hung up on (restart, pg_terminate_backend).

    An idle PostgreSQL connection has nothing to read unless the server wrote to it,
    which for us means its "terminating connection" error or the end of the stream:
    a poll() of the socket, no round trip, tells a dead connection from a live one.
    """
    for conn in connections.all(initialized_only=True):
        raw = conn.connection
        if raw is None or conn.vendor != "postgresql":
            continue
        try:
            dead = raw.closed or _readable(raw.fileno())
        except Exception:  # psycopg refuses fileno() on a broken connection
            dead = True
        if dead:
            logger.info("db_connection_dropped alias=%s reason=server_closed", conn.alias)
            _close_quietly(conn)


def _readable(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))


def _drop_broken_connections() -> None:
    """After a call: keep a healthy connection, close one left in a bad state.

    What close_old_connections() does, minus the CONN_MAX_AGE=0 close."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        try:
            if conn.in_atomic_block or conn.get_autocommit() != conn.settings_dict["AUTOCOMMIT"]:
                _close_quietly(conn)
            elif conn.errors_occurred:
                if conn.is_usable():
                    conn.errors_occurred = False
                else:
                    _close_quietly(conn)
        except Exception:
            _close_quietly(conn)


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:  # already broken; the pool discards it
        logger.debug("db_close_failed alias=%s", conn.alias, exc_info=True)
        conn.connection = None


async def run_db(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Await `func(*args, **kwargs)` run on the database worker threads.

    On the server's loop, the events `func` publishes (after its commits) are emitted
    here, in order, once it returns: one hand-over back to the loop per call instead of
    one more per event (see chat.realtime.publishing.capture_published)."""
    loop = asyncio.get_running_loop()
    if _executor is None:
        raise RuntimeError("the database workers are started by chatdesk.startup.start_server_process()")
    if not captures_on(loop):
        return await loop.run_in_executor(_executor, functools.partial(_call, func, args, kwargs))
    future = _executor.submit(_call, capture_published, (func, *args), kwargs)
    try:
        result, exc, events = await asyncio.wrap_future(future, loop=loop)
    except asyncio.CancelledError:
        # The handler is gone but the call runs on (or ran) in its thread and may have
        # committed: what it published still goes out.
        future.add_done_callback(functools.partial(_emit_when_done, loop))
        raise
    if events:
        await emit_published(events)
    if exc is not None:
        raise exc
    return result


class GroupedCalls:
    """Calls of one operation that queue up on the loop while the previous group is on the
    database thread go there together, as one call: group commit for the hot path.

    `func(list of argument tuples)` runs in run_db and returns one outcome per call, in
    order: a result, or an exception that call raises. One group at a time, in arrival
    order, so a conversation's messages keep their order. The hand-over to the database
    thread and back, and the transaction, are paid once per group. (Two groups at a time
    on PostgreSQL, by thread, overlapped their round trips but halved the groups and
    doubled the hand-overs: more CPU per message, bench/README.md, fifth round.)

    A group waits `linger` seconds on the loop before it leaves, so that calls arriving
    just after it ride along: at hundreds of messages a second the groups were otherwise
    one or two messages, each paying the hand-overs and the transaction alone.
    """

    def __init__(
        self, func: Callable[[list[tuple]], list], max_group: int = 100, linger: float = 0.0
    ) -> None:
        self._func = func
        self._max_group = max_group
        self._linger = linger
        self._queue: list[tuple[tuple, asyncio.Future]] = []
        self._draining: asyncio.Task | None = None

    async def __call__(self, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._queue.append((args, future))
        if self._draining is None:
            self._draining = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        queue = self._queue
        try:
            while queue:
                if self._linger and len(queue) < self._max_group:
                    await asyncio.sleep(self._linger)
                group = queue[: self._max_group]
                del queue[: self._max_group]
                try:
                    outcomes = await run_db(self._func, [args for args, _ in group])
                except Exception as exc:  # the whole call failed: every caller hears it
                    outcomes = [exc] * len(group)
                for (_, future), outcome in zip(group, outcomes, strict=True):
                    if future.done():  # its handler was cancelled meanwhile
                        continue
                    if isinstance(outcome, BaseException):
                        future.set_exception(outcome)
                    else:
                        future.set_result(outcome)
        finally:
            self._draining = None


def _emit_when_done(loop: asyncio.AbstractEventLoop, future) -> None:
    if future.cancelled() or future.exception() is not None:
        return  # never started, or failed outside the call: nothing was published
    events = future.result()[2]
    if events and not loop.is_closed():
        asyncio.run_coroutine_threadsafe(emit_published(events), loop)


def _sweep_pools_forever(interval: float) -> None:
    """Replace broken idle connections of the PostgreSQL pools every `interval` seconds.

    psycopg_pool checks a connection before lending it, but after a database restart
    every idle connection is dead, and it backs off 1 s, 2 s, 4 s... between the dead
    ones it finds: with a few idle connections a request could wait out the pool timeout.
    Checking the idle connections in the background (a no-op query each, cheap) finds
    them dead within `interval` instead, so the desk heals on its own.
    """
    while True:
        time.sleep(interval)
        for alias in connections:
            pool = connections[alias].pool if _has_pool(alias) else None
            if pool is None or pool.closed:  # not opened yet: nothing to check
                continue
            try:
                pool.check()
            except Exception:  # the database is down: try again next round
                logger.warning("db_pool_check_failed alias=%s", alias, exc_info=True)


def _has_pool(alias: str) -> bool:
    options = settings.DATABASES[alias].get("OPTIONS", {})
    return bool(options.get("pool"))
