"""One synchronous Redis client per process for small shared state (rate limits, the
admin sockets of each session), built on first use, never at import."""

from __future__ import annotations

import threading

from django.conf import settings

_client = None
_lock = threading.Lock()


def get():
    """The client for REDIS_URL (callers check that it is set)."""
    global _client
    with _lock:
        if _client is None:
            import redis

            _client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)
    return _client
