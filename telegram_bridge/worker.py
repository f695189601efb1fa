"""The bridge's background threads: the outbox sender and the update handler.

They run in every server process (started from chatdesk/asgi.py) and in
`manage.py telegram_poll`, never on the event loop: requests blocks, and the ORM is
synchronous. Each iteration gives its database connection back, so a restarted
database costs one failed iteration, not a dead thread.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time

from django.db import close_old_connections

from . import code_messages, inbound, outbox, state
from .otp import is_configured

logger = logging.getLogger("telegram_bridge.worker")

IDLE_SECONDS = 1.0  # how often other processes' new items are looked for
LOOK_GAP_SECONDS = 0.1  # the least time between two looks that sent nothing
PRUNE_EVERY = 3600.0

_started = False
_start_lock = threading.Lock()
stop_event = threading.Event()
_threads: list[threading.Thread] = []


def _run_sender() -> None:
    from .sender import LEASE, WORKER_ID, Sender

    sender = Sender()
    while not stop_event.is_set():
        wait = IDLE_SECONDS
        # Before looking: every item committed from here on wakes us again, until the step
        # says which chats must wait anyway (outbox.Wakeup).
        outbox.wakeup.looking()
        close_old_connections()
        try:
            wait = sender.step(IDLE_SECONDS)
            outbox.wakeup.looked(sender.waiting)
        except Exception:
            logger.exception("telegram_sender_iteration_failed")
            wait = 5.0
        finally:
            close_old_connections()
        if wait > 0:
            # A commit wakes the sender, but in a flood hundreds commit each second while
            # the pacer lets one message through every few: look at most once a gap.
            gap = min(wait, LOOK_GAP_SECONDS)
            if stop_event.wait(gap):
                break
            outbox.wakeup.wait(wait - gap)
    try:
        state.release_lease(LEASE, WORKER_ID)
    except Exception:
        pass
    finally:
        close_old_connections()


def _run_receiver() -> None:
    receiver = inbound.Receiver()
    last_prune = last_sweep = 0.0
    while not stop_event.is_set():
        busy = False
        inbound.wakeup.clear()
        close_old_connections()
        try:
            busy = receiver.step()
            if time.monotonic() - last_prune > PRUNE_EVERY:
                receiver.prune()
                last_prune = time.monotonic()
            if time.monotonic() - last_sweep > code_messages.SWEEP_SECONDS:
                code_messages.delete_expired(receiver.client)
                last_sweep = time.monotonic()
        except Exception:
            logger.exception("telegram_receiver_iteration_failed")
            time.sleep(5.0)
        finally:
            close_old_connections()
        if not busy:
            inbound.wakeup.wait(IDLE_SECONDS)


def start_in_background() -> bool:
    """Start the sender and the handler threads once per process, when Telegram is set up."""
    global _started
    if not is_configured():
        return False
    with _start_lock:
        if _started:
            return True
        _started = True
        stop_event.clear()
        _threads[:] = [
            threading.Thread(target=_run_sender, name="telegram-sender", daemon=True),
            threading.Thread(target=_run_receiver, name="telegram-receiver", daemon=True),
        ]
        for thread in _threads:
            thread.start()
        # On a graceful exit (SIGTERM) the sender finishes its send and gives the lease
        # back; otherwise the next process could not send until the lease expired.
        atexit.register(_stop_and_wait)
    logger.info("telegram_worker_started")
    return True


def stop() -> None:
    stop_event.set()
    outbox.wakeup.set()
    inbound.wakeup.set()


def _stop_and_wait(timeout: float = 10.0) -> None:
    stop()
    # Only the sender: the receiver holds no lease and may be in a long poll.
    for thread in _threads:
        if thread.name == "telegram-sender":
            thread.join(timeout)
