"""SQLite's WAL checkpoints in the background of a server process, off the messages' path.

With SQLite's own checkpoints, the commit that fills the WAL past wal_autocheckpoint
copies the pages into the database and syncs it, and the messages queued behind that
commit wait for it. A checkpoint here, on a thread of its own, runs beside the writers
(PASSIVE: it takes no lock a writer needs), so the database thread only ever appends to
the WAL. Copying once a second also copies a page that many messages changed once (a
thread's row, the index leaves at the end): bench/README.md, tenth round. The
wal_autocheckpoint of settings.DATABASES stays as the backstop, for processes without
this thread (commands) and for a burst that outruns it.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.db import connections

logger = logging.getLogger("chat.db")


def start(interval: float) -> threading.Thread | None:
    """Checkpoint every SQLite database of settings.DATABASES every `interval` seconds
    on a daemon thread; None when there is none (or `interval` is 0)."""
    aliases = [alias for alias in settings.DATABASES if connections[alias].vendor == "sqlite"]
    if not aliases or interval <= 0:
        return None
    thread = threading.Thread(
        target=checkpoint_forever, args=(aliases, interval), name="chatdesk-sqlite-checkpoint", daemon=True
    )
    thread.start()
    return thread


def checkpoint(alias: str) -> tuple[int, int, int]:
    """One PASSIVE checkpoint of `alias`: (1 if it could not finish, frames in the WAL,
    frames copied into the database), as SQLite reports it."""
    with connections[alias].cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        busy, frames, copied = cursor.fetchone()
    return busy, frames, copied


def checkpoint_forever(aliases: list[str], interval: float, stop: threading.Event | None = None) -> None:
    """Checkpoint `aliases` every `interval` seconds until `stop` is set. The thread's
    connections stay open between rounds (a new one would read the schema each time)."""
    stop = stop or threading.Event()
    try:
        while not stop.wait(interval):
            for alias in aliases:
                try:
                    checkpoint(alias)
                except Exception:  # a locked or missing file: the next round tries again
                    logger.warning("sqlite_checkpoint_failed alias=%s", alias, exc_info=True)
    finally:
        connections.close_all()
