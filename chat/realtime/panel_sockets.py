"""Which sockets each admin session opened, so signing out can close all of them.

Kept in the cache (Redis when configured), so a sign-out on one worker reaches sockets
held by another.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from .publishing import disconnect_sockets


def _key(session_key: str) -> str:
    return "admin-sockets:" + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def register(session_key: str, sid: str) -> None:
    sids = set(cache.get(_key(session_key), ()))
    sids.add(sid)
    cache.set(_key(session_key), sorted(sids), timeout=settings.SESSION_COOKIE_AGE)


def unregister(session_key: str, sid: str) -> None:
    sids = set(cache.get(_key(session_key), ()))
    sids.discard(sid)
    if sids:
        cache.set(_key(session_key), sorted(sids), timeout=settings.SESSION_COOKIE_AGE)
    else:
        cache.delete(_key(session_key))


def disconnect_session(session_key: str) -> int:
    """Drop every socket this admin session opened; returns how many."""
    sids = list(cache.get(_key(session_key), ()))
    cache.delete(_key(session_key))
    disconnect_sockets(sids)
    return len(sids)
