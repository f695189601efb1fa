"""The one Socket.IO server of a server process: built at start-up, never at import.

`build()` is called once by `chatdesk.startup`; everything else reaches the server with
`get()` (handlers) or `current()` (code that also runs in processes without one, such
as management commands, see `chat.realtime.publishing`).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import socketio
from django.conf import settings

from . import emission, payload_json

logger = logging.getLogger("chat.realtime")


class ResilientRedisManager(socketio.AsyncRedisManager, emission.DirectEmitManager):
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
        self._outgoing: list[tuple[Any, asyncio.Future]] = []
        self._sending: asyncio.Task | None = None

    async def _publish(self, data):
        """Publish `data` to the other processes, in order, and return once it is sent.

        The stock manager checks a connection out of the pool and waits for Redis's answer
        once per event: at hundreds of messages a second that was a tenth of each process's
        time (bench/README.md). Events published while a send is on its way wait for it and
        then go together, in one pipeline: one round trip for the lot, in publishing order.
        """
        loop = asyncio.get_running_loop()
        sent = loop.create_future()
        self._outgoing.append((data, sent))
        if self._sending is None:
            self._sending = loop.create_task(self._send_queued())
        await sent

    async def _send_queued(self) -> None:
        try:
            while self._outgoing:
                batch, self._outgoing = self._outgoing, []
                try:
                    await self._publish_together([data for data, _ in batch])
                finally:  # sent, or dropped and logged: no emitter waits forever
                    for _, sent in batch:
                        if not sent.done():  # its emitter may have been cancelled meanwhile
                            sent.set_result(None)
        finally:
            self._sending = None

    async def _publish_together(self, batch: list) -> None:
        """The stock _publish for several events: two attempts, reconnecting between them;
        after that the events are dropped and logged, as the stock manager does."""
        for retries_left in (1, 0):
            try:
                if not self.connected:
                    self._redis_connect()
                async with self.redis.pipeline(transaction=False) as pipe:
                    for data in batch:
                        pipe.publish(self.channel, self.json.dumps(data))
                    await pipe.execute()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if retries_left:
                    logger.error(
                        "redis_publish_failed events=%d error=%s retrying", len(batch), type(exc).__name__
                    )
                    self.connected = False
                else:
                    logger.error(
                        "redis_publish_failed events=%d error=%s dropped", len(batch), type(exc).__name__
                    )

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
    return emission.DirectEmitManager()


_sio: socketio.AsyncServer | None = None


def build() -> socketio.AsyncServer:
    """Create this process's server (once); `chatdesk.startup` registers the handlers."""
    global _sio
    if _sio is None:
        _sio = socketio.AsyncServer(
            async_mode="asgi",
            client_manager=_client_manager(),
            cors_allowed_origins=settings.SOCKETIO_CORS_ORIGINS,
            cors_credentials=True,
            ping_interval=settings.SOCKETIO_PING_INTERVAL,
            ping_timeout=settings.SOCKETIO_PING_TIMEOUT,
            max_http_buffer_size=settings.SOCKETIO_MAX_PAYLOAD_BYTES,
            # A payload nested too deeply becomes a refusal, not a handler crash.
            json=payload_json.PayloadJSON,
            serializer=emission.Packet,
            logger=False,
            engineio_logger=False,
        )
    return _sio


def current() -> socketio.AsyncServer | None:
    """This process's server, or None (a management command, a shell, a test)."""
    return _sio


def get() -> socketio.AsyncServer:
    """This process's server; only for code that runs inside a server process."""
    if _sio is None:
        raise RuntimeError("the Socket.IO server is built by chatdesk.startup.start_server_process()")
    return _sio
