"""SQLite's WAL is checkpointed by a thread of the server process (chat/realtime/
sqlite_checkpoint.py), not by the commit of whichever message fills it: a visitor's
messages reach the database file itself within the interval, while the messages' own
commits only append to the WAL."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid

import pytest

from tests.support.clients import visitor


async def _send_messages(base_url: str, count: int) -> str:
    client, thread_id = await visitor(base_url)
    try:
        for n in range(count):
            ack = await client.call("message_to_admin", {"thread_id": thread_id, "text": f"message {n}"})
            assert ack["ok"], ack
    finally:
        await client.close()
    return thread_id


def _in_database_file(path, thread_id: str) -> int:
    """The thread's messages in the database file alone: immutable=1 reads no WAL."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as db:
        return db.execute(
            "SELECT count(*) FROM messages WHERE thread_id = ?", (uuid.UUID(thread_id).hex,)
        ).fetchone()[0]


@pytest.mark.parametrize("interval_ms, expected", [("200", 5), ("0", 0)], ids=["checkpointing", "off"])
def test_stored_messages_reach_the_database_file(make_server, interval_ms, expected):
    live = make_server({"SQLITE_CHECKPOINT_MS": interval_ms})
    thread_id = asyncio.run(_send_messages(live.url, 5))
    path = live.workdir / "db.sqlite3"
    deadline = time.monotonic() + 3
    while (found := _in_database_file(path, thread_id)) != 5 and time.monotonic() < deadline:
        time.sleep(0.1)
    # Off, they are stored all the same, in the WAL only (SQLite's own checkpoint waits
    # for 10,000 pages): the server's thread is what copies them.
    assert found == expected
    assert "sqlite_checkpoint_failed" not in live.log()
