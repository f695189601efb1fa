"""Delivering events to sockets from anywhere: the server loop, worker threads, commands.

Domain operations run in worker threads (the ORM is synchronous) or in management
commands; `chat.events.send_on_commit` hands their events to `publish()` once their
transaction has committed, which delivers an event however this process can:

* inside the server process: schedule `sio.emit` on the server's event loop (with
  REDIS_URL the Redis manager then carries it to every other server process);
* in another process (a management command) with REDIS_URL: write it to Redis, where
  every server process picks it up;
* in another process without Redis: nobody is listening, so it is dropped (and logged).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import socketio
from django.conf import settings

from . import server

logger = logging.getLogger("chat.realtime")

_server_loop: asyncio.AbstractEventLoop | None = None
_write_only_manager: socketio.RedisManager | None = None
_write_only_lock = threading.Lock()


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the event loop that serves sockets in this process."""
    global _server_loop
    _server_loop = loop


def server_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop serving sockets in this process, or None (not a server process)."""
    return _server_loop


def _external_manager() -> socketio.RedisManager | None:
    global _write_only_manager
    if not settings.REDIS_URL:
        return None
    with _write_only_lock:
        if _write_only_manager is None:
            _write_only_manager = socketio.RedisManager(
                settings.REDIS_URL,
                channel=settings.SOCKETIO_REDIS_CHANNEL,
                write_only=True,
                logger=logger,
            )
    return _write_only_manager


# Events published on a database worker thread while `run_db` runs a call for the server
# loop: run_db emits them on the loop once the call returns, instead of each one waking
# the loop from the thread (run_coroutine_threadsafe), a second cross-thread hand-over per
# message on top of the call's own completion. Other threads (requests, Telegram) never
# capture: publish() schedules for them as before.
_capture = threading.local()


def capture_published(
    func: Callable[..., Any], *args: Any, **kwargs: Any
) -> tuple[Any, BaseException | None, list]:
    """Call `func` on this thread, keeping what it publishes instead of scheduling it.

    Returns (result, exception or None, [(event, data, room), ...] in publishing order).
    Events are only published after commit (transaction.on_commit), so an exception after
    a commit still leaves that commit's events to send."""
    _capture.events = events = []
    try:
        return func(*args, **kwargs), None, events
    except BaseException as exc:  # handed to the loop, which raises it there
        return None, exc, events
    finally:
        _capture.events = None


async def emit_published(events: list) -> None:
    """Emit, on the server loop, events `capture_published` kept, in order."""
    for event, data, room in events:
        if isinstance(server.get().manager, socketio.AsyncRedisManager):
            # A Redis publish can wait on the network (or on a Redis restart): the event
            # must not hold up the handler's ack, as it never did.
            asyncio.get_running_loop().create_task(server.get().emit(event, data, room=room))
            continue
        try:
            await server.get().emit(event, data, room=room)  # local queues only: no waiting
        except Exception:  # the message is stored; a failed event must not fail the ack
            logger.exception("event=%s room=%s emit_failed", event, room)


def captures_on(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether `run_db` on `loop` should capture: only for the loop serving sockets."""
    return loop is _server_loop


def publish(event: str, data: Any, room: str) -> None:
    """Emit `event` to `room` from synchronous code, wherever the sockets are."""
    events = getattr(_capture, "events", None)
    if events is not None:
        events.append((event, data, room))
        return
    loop = _server_loop
    if loop is not None and loop.is_running():
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            loop.create_task(server.get().emit(event, data, room=room))
        else:
            asyncio.run_coroutine_threadsafe(server.get().emit(event, data, room=room), loop)
        return
    manager = _external_manager()
    if manager is not None:
        manager.emit(event, data, room=room)
    else:
        logger.debug("event=%s room=%s dropped: no socket server in this process", event, room)


def disconnect_sockets(sids: list[str]) -> None:
    """Drop the given socket connections, wherever they are held."""
    loop = _server_loop
    if loop is not None and loop.is_running():
        for sid in sids:
            asyncio.run_coroutine_threadsafe(server.get().disconnect(sid), loop)
        return
    manager = _external_manager()
    if manager is not None:
        for sid in sids:
            manager.disconnect(sid, namespace="/")
