"""Run synchronous ORM work from async code without blocking the event loop.

`start()` (called by `chatdesk.startup`) builds the worker threads' executor and the
pool sweeper; importing this module changes nothing in the process.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import math
import queue
import select
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.db import connections, reset_queries

from . import sqlite_checkpoint
from .publishing import capture_published, captures_on, emit_published

T = TypeVar("T")

logger = logging.getLogger("chat.db")


class DatabaseThreads:
    """The database worker threads: a call goes in from a loop, its outcome comes back to
    that loop's future with one call_soon_threadsafe, and nothing else.

    What concurrent.futures and asyncio.wrap_future add to a hand-over (a second future,
    its condition and locks, the idle-thread semaphore, the callbacks chaining the two
    futures) cost a third of it: 115 µs of CPU a round trip against 80 µs this way, on
    an otherwise idle loop (bench/README.md, tenth round), and the hot path pays one per
    group of messages. As with ThreadPoolExecutor, the calls queued at exit still run
    (atexit: a message being stored is committed before the process ends).
    """

    def __init__(self, count: int, name: str = "chatdesk-db") -> None:
        self._calls: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}_{n}", daemon=True) for n in range(count)
        ]
        for thread in self._threads:
            thread.start()
        atexit.register(self.shutdown)

    def submit(
        self,
        loop: asyncio.AbstractEventLoop,
        func: Callable[..., T],
        *args: Any,
        orphaned: Callable[[T], None] | None = None,
    ) -> asyncio.Future:
        """Run `func(*args)` on one of the threads; the future (of `loop`) gets its outcome.

        If the future was cancelled meanwhile (its caller is gone), `orphaned(result)` is
        called on the loop instead, when `func` returned."""
        future = loop.create_future()
        self._calls.put((loop, future, orphaned, func, args))
        return future

    def shutdown(self) -> None:
        """Let the threads finish the calls queued so far, then end them."""
        for _ in self._threads:
            self._calls.put(None)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join()
        atexit.unregister(self.shutdown)

    def _work(self) -> None:
        calls = self._calls
        while (call := calls.get()) is not None:
            loop, future, orphaned, func, args = call
            try:
                outcome, failed = func(*args), False
            except BaseException as exc:  # handed to the caller, which raises it there
                outcome, failed = exc, True
            try:
                loop.call_soon_threadsafe(_settle, future, outcome, failed, orphaned)
            except RuntimeError:  # the loop is closed: nobody waits for the outcome
                pass
            del call, loop, future, orphaned, func, args, outcome  # hold nothing until the next


def _settle(future: asyncio.Future, outcome: Any, failed: bool, orphaned: Callable | None) -> None:
    if future.cancelled():
        if orphaned is not None and not failed:
            orphaned(outcome)
    elif failed:
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


_executor: DatabaseThreads | None = None


def start() -> None:
    """Start the database worker threads, the pool sweeper and the SQLite checkpoints (once)."""
    global _executor
    if _executor is not None:
        return
    _executor = DatabaseThreads(settings.DB_THREADS)
    sqlite_checkpoint.start(settings.SQLITE_CHECKPOINT_MS / 1000)
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
        return await _executor.submit(loop, _call, func, args, kwargs)
    result, exc, events = await _executor.submit(
        loop, _call, capture_published, (func, *args), kwargs, orphaned=_emit_orphaned
    )
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
    one or two messages, each paying the hand-overs and the transaction alone. It waits
    only while calls come often (recent gaps under BUSY_GAP lingers on average): at a
    quiet desk nobody rides along, and the wait was a millisecond of a 4–5 ms delivery
    (bench/README.md, thirteenth round).
    """

    BUSY_GAP = 4  # lingers between calls, on average, below which a group waits

    def __init__(
        self, func: Callable[[list[tuple]], list], max_group: int = 100, linger: float = 0.0
    ) -> None:
        self._func = func
        self._max_group = max_group
        self._linger = linger
        self._busy_gap = self.BUSY_GAP * linger
        # A moving mean of the gaps between calls, each gap counted as at most twice
        # `_busy_gap`, so that a few calls after a quiet spell are enough to say it ended.
        self._mean_gap = 2 * self._busy_gap
        self._last_call = -math.inf
        self._queue: list[tuple[tuple, asyncio.Future]] = []
        self._draining: asyncio.Task | None = None

    async def __call__(self, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._mean_gap += (min(now - self._last_call, 2 * self._busy_gap) - self._mean_gap) / 4
        self._last_call = now
        future = loop.create_future()
        self._queue.append((args, future))
        if self._draining is None:
            self._draining = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        queue = self._queue
        try:
            while queue:
                if self._linger and len(queue) < self._max_group and self._mean_gap < self._busy_gap:
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


def _emit_orphaned(outcome: tuple) -> None:
    """A captured call whose handler was cancelled meanwhile: the call ran on in its
    thread and may have committed, so what it published still goes out."""
    events = outcome[2]
    if events:
        asyncio.get_running_loop().create_task(emit_published(events))


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
