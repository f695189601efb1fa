"""The email worker thread of a server process (started by chatdesk.startup)."""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import close_old_connections

from . import outbox

logger = logging.getLogger("notifications.worker")

IDLE_SECONDS = 2.0  # how often other processes' new items are looked for
PRUNE_EVERY = 3600.0
_started = False
_lock = threading.Lock()
stop_event = threading.Event()


def _run() -> None:
    from . import sender

    last_prune = 0.0
    while not stop_event.is_set():
        outbox.wakeup.clear()  # before looking: an item committed meanwhile wakes us again
        close_old_connections()
        try:
            wait = sender.step(IDLE_SECONDS)
            if time.monotonic() - last_prune > PRUNE_EVERY:
                sender.prune()
                last_prune = time.monotonic()
        except Exception:
            logger.exception("email_worker_iteration_failed")
            wait = 5.0
        finally:
            close_old_connections()
        if wait > 0:
            outbox.wakeup.wait(wait)


def start_in_background() -> bool:
    """Start the sender once per process, when this desk sends emails."""
    global _started
    if not settings.EMAIL_ENABLED:
        return False
    with _lock:
        if _started:
            return True
        _started = True
        threading.Thread(target=_run, name="email-sender", daemon=True).start()
    logger.info("email_worker_started")
    return True


def stop() -> None:
    stop_event.set()
    outbox.wakeup.set()
