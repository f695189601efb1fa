"""Everything a server process starts, in one place.

Importing a module of chatdesk changes nothing in the interpreter: no thread, no
executor, no Socket.IO server, no tuned garbage collector. A server process calls
`start_server_process()` once (from `chatdesk.asgi`; daphne has no lifespan events),
and gets the ASGI application with all of that running. Shells, management commands
and tests that import the code keep their interpreter as it was.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import threading
import time

import socketio
from django.conf import settings

from . import malloc_tuning

logger = logging.getLogger("chatdesk.startup")


def tune_interpreter() -> None:
    """Interpreter settings for a server that holds thousands of sockets.

    The database threads and the event loop share one GIL. With CPython's default 5 ms
    switch interval a busy worker holds the loop up to 5 ms at every hand-over, and a
    message crosses several (event -> worker -> loop -> emit): under load that was most
    of the delivery latency.

    Storing a message allocates a few hundred short-lived objects (the ORM), so with
    Python's default gen0 threshold (700) a collection ran about every message, and a
    full one over the whole heap every ~100, pausing for the thousands of held sockets.
    Freezing what exists after start-up (Django, modules: never garbage) and collecting
    the young generation less often keeps those pauses short (bench/README.md).
    """
    if settings.GIL_SWITCH_INTERVAL_US > 0:
        sys.setswitchinterval(settings.GIL_SWITCH_INTERVAL_US / 1_000_000)
    if settings.GC_GEN0_THRESHOLD > 0:
        gc.freeze()
        gc.set_threshold(settings.GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    if settings.GC_FULL_COLLECT_SECONDS > 0:
        threading.Thread(
            target=_collect_forever, args=(settings.GC_FULL_COLLECT_SECONDS,), name="gc-full", daemon=True
        ).start()


def _collect_forever(seconds: float, stop: threading.Event | None = None) -> None:
    """A full collection every `seconds` (GC_FULL_COLLECT_SECONDS), until `stop` is set."""
    stop = stop or threading.Event()
    while not stop.wait(seconds):
        started = time.perf_counter()
        freed = gc.collect()
        collected = time.perf_counter()
        # What the collection freed leaves holes in malloc's heaps: hand their pages back.
        trimmed = malloc_tuning.trim()
        # The pause is the price (the loop waits for it): logged so it can be weighed.
        logger.info(
            "gc_full_collect freed=%d ms=%.1f trimmed=%s trim_ms=%.1f",
            freed,
            (collected - started) * 1000,
            trimmed,
            (time.perf_counter() - collected) * 1000,
        )


def start_server_process():
    """Start this process's server parts and return the ASGI application."""
    from channels.routing import ProtocolTypeRouter
    from django.core.asgi import get_asgi_application

    from chat.attachments import views as upload_views
    from chat.realtime import connection_counts, db_worker, handlers, presence, publishing, server
    from notifications.worker import start_in_background as start_email_worker
    from telegram_bridge.worker import start_in_background as start_telegram_worker

    from . import memory_probe
    from .body_limit import BodyLimitMiddleware, install_daphne_body_limit

    # Before the worker threads start: each would otherwise get a malloc arena of its own.
    malloc_tuning.limit_arenas(settings.MALLOC_ARENAS)
    sio = server.build()
    handlers.register(sio)
    db_worker.start()
    upload_views.start()
    # Request bodies are capped while they arrive (daphne buffers them before the app runs).
    install_daphne_body_limit()
    django_application = ProtocolTypeRouter({"http": BodyLimitMiddleware(get_asgi_application())})
    application = socketio.ASGIApp(sio, other_asgi_app=django_application, socketio_path="socket.io")
    # The outbox sender and update handler (threads; only when Telegram is set up).
    start_telegram_worker()
    # The visitor-email sender (a thread; only when EMAIL_URL is set or under DEBUG).
    start_email_worker()
    tune_interpreter()  # last: what exists now is start-up, frozen out of the collector
    memory_probe.start_if_asked()  # CHATDESK_TRACEMALLOC=1: where memory goes (soaks)

    loop_bound = False

    async def serve(scope, receive, send):
        # The event loop exists only once the server runs: the first connection or request
        # binds it, so that domain operations in worker threads can emit through it.
        nonlocal loop_bound
        if not loop_bound:
            loop_bound = True
            publishing.bind_server_loop(asyncio.get_running_loop())
            connection_counts.get().start()
            presence.start()  # availability: re-checked, visitors told of changes
        await application(scope, receive, send)

    return serve
