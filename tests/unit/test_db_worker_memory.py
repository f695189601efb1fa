"""chat/realtime/db_worker.py under DEBUG: the worker threads' kept connections log no
queries across calls (Django logs each query until a request starts, and these threads
never see one: the soak's servers grew by ~4 MB a minute until the log held 9,000 each)."""

from __future__ import annotations

import asyncio

import pytest
from django.db import connection

from chat.realtime import db_worker

pytestmark = pytest.mark.django_db


def _query() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _close() -> None:
    connection.close()


def _logged() -> int:
    return len(connection.queries_log)


async def _run(calls: int) -> int:
    for _ in range(calls):
        await db_worker.run_db(_query)
    logged = await db_worker.run_db(_logged)
    await db_worker.run_db(_close)
    return logged


def test_worker_connection_keeps_no_query_log_under_debug(settings, monkeypatch):
    settings.DEBUG = True
    # One worker thread: every call below runs on the same kept connection.
    threads = db_worker.DatabaseThreads(1)
    monkeypatch.setattr(db_worker, "_executor", threads)
    try:
        assert asyncio.run(_run(300)) == 0
    finally:
        threads.shutdown()
