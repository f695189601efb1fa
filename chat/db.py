"""Run synchronous ORM work from async code without blocking the event loop."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.conf import settings
from django.db import close_old_connections

T = TypeVar("T")

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
