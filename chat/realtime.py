"""The one Socket.IO server of this process, and how the rest of the code reaches it.

Domain operations run in worker threads (the ORM is synchronous) or in management
commands. They call `publish()`, which delivers an event however this process can:

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

logger = logging.getLogger("chat.realtime")

ADMIN_ROOM = "admin_room"


class ResilientRedisManager(socketio.AsyncRedisManager):
    """The stock Redis manager, with a health check so a dead connection is noticed.

    redis-py closes an idle pub/sub socket only when a read times out; with no timeout a
    Redis restart could leave the listener waiting forever. Health-check pings make it
    notice within seconds and reconnect.
    """

    # python-socketio's listener waits 1, 2, 4 ... 60 s between attempts to resubscribe; after
    # a Redis restart that could leave processes deaf to each other for a minute. We retry
    # at most this far apart instead (one cheap connection attempt per process).
    max_retry_seconds = 2.0

    def __init__(self, url: str, **kwargs: Any) -> None:
        options = {"health_check_interval": 10, "socket_keepalive": True, "socket_connect_timeout": 5}
        super().__init__(url, redis_options=options, **kwargs)

    async def _redis_listen_with_retries(self):  # the stock loop, with the back-off capped
        retry_sleep = 0.5
        subscribed = False
        while True:
            try:
                if not subscribed:
                    await self._close_quietly()
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    subscribed = True
                    if retry_sleep > 0.5:
                        logger.warning("redis_pubsub_resubscribed channel=%s", self.channel)
                    retry_sleep = 0.5
                async for message in self.pubsub.listen():
                    yield message
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.error("redis_pubsub_lost error=%s retry_in=%.1fs", type(exc).__name__, retry_sleep)
                subscribed = False
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, self.max_retry_seconds)

    async def _close_quietly(self) -> None:
        """Drop the previous (dead) subscription instead of leaking it on every retry.
        (Not self.redis: a publish may be using it; its pool reconnects by itself.)"""
        if self.pubsub is not None:
            try:
                await self.pubsub.aclose()
            except Exception:
                pass


def _client_manager() -> socketio.AsyncManager:
    if settings.REDIS_URL:
        return ResilientRedisManager(
            settings.REDIS_URL, channel=settings.SOCKETIO_REDIS_CHANNEL, logger=logger
        )
    return socketio.AsyncManager()


sio = socketio.AsyncServer(
    async_mode="asgi",
    client_manager=_client_manager(),
    cors_allowed_origins=settings.SOCKETIO_CORS_ORIGINS,
    cors_credentials=True,
    ping_interval=settings.SOCKETIO_PING_INTERVAL,
    ping_timeout=settings.SOCKETIO_PING_TIMEOUT,
    # A little above the largest legal event (4,000 characters of text plus fields).
    max_http_buffer_size=64 * 1024,
    logger=False,
    engineio_logger=False,
)

_server_loop: asyncio.AbstractEventLoop | None = None
_write_only_manager: socketio.RedisManager | None = None
_write_only_lock = threading.Lock()


def bind_server_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the event loop that serves sockets in this process."""
    global _server_loop
    _server_loop = loop


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


def capture_published(func: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[Any, BaseException | None, list]:
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
        if isinstance(sio.manager, socketio.AsyncRedisManager):
            # A Redis publish can wait on the network (or on a Redis restart): the event
            # must not hold up the handler's ack, as it never did.
            asyncio.get_running_loop().create_task(sio.emit(event, data, room=room))
            continue
        try:
            await sio.emit(event, data, room=room)  # local queues only: no waiting
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
            loop.create_task(sio.emit(event, data, room=room))
        else:
            asyncio.run_coroutine_threadsafe(sio.emit(event, data, room=room), loop)
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
            asyncio.run_coroutine_threadsafe(sio.disconnect(sid), loop)
        return
    manager = _external_manager()
    if manager is not None:
        for sid in sids:
            manager.disconnect(sid, namespace="/")
