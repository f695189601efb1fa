"""Run synchronous ORM work from async code without blocking the event loop."""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections, connections

T = TypeVar("T")

logger = logging.getLogger("chat.db")

_executor = ThreadPoolExecutor(max_workers=settings.DB_THREADS, thread_name_prefix="chatdesk-db")


def _call(func: Callable[..., T], args: tuple, kwargs: dict) -> T:
    # Drop a connection that died (database restart) before use, and hand ours back after.
    close_old_connections()
    try:
        return func(*args, **kwargs)
    finally:
        close_old_connections()


async def run_db(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Await `func(*args, **kwargs)` run on the database worker threads."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_executor, functools.partial(_call, func, args, kwargs))


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


if any(_has_pool(alias) for alias in settings.DATABASES) and settings.DATABASE_POOL_CHECK_SECONDS > 0:
    threading.Thread(
        target=_sweep_pools_forever, args=(settings.DATABASE_POOL_CHECK_SECONDS,),
        name="chatdesk-db-pool-check", daemon=True,
    ).start()
