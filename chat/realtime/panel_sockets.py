"""The admin_room sockets of each signed-in admin session, so signing out ends them all.

Kept where nothing evicts it: with REDIS_URL, a Redis set per session that every server
process sees; without Redis there is one server process, and its memory is the exact
list. At sign-out (`end_session`, connected to accounts' `admin_signed_out` signal in
ChatConfig.ready) the session's sockets leave admin_room first, before anything else can
be emitted to it, and are then disconnected, wherever they are held (the Socket.IO Redis
manager carries both to the other processes, in order).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
from collections import defaultdict

from django.conf import settings

from accounts import signin
from chatdesk import redis_client

from ..events import ADMIN_ROOM
from . import publishing, server

logger = logging.getLogger("chat.realtime")

_local: dict[str, set[str]] = defaultdict(set)
_local_lock = threading.Lock()


def _key(session_key: str) -> str:
    return "chatdesk:admin-sockets:" + hashlib.sha256(session_key.encode()).hexdigest()[:32]


def register(session_key: str, sid: str) -> None:
    """Remember that this admin session's socket `sid` joined admin_room.

    If the session signed out between the handler's check and now, its sign-out did not
    see this socket: it is ended here instead."""
    if settings.REDIS_URL:
        pipe = redis_client.get().pipeline()
        pipe.sadd(_key(session_key), sid)
        pipe.expire(_key(session_key), settings.SESSION_COOKIE_AGE)
        pipe.execute()
    else:
        with _local_lock:
            _local[_key(session_key)].add(sid)
    if not signin.session_is_admin(session_key):
        unregister(session_key, sid)
        _end([sid])


def unregister(session_key: str, sid: str) -> None:
    if settings.REDIS_URL:
        redis_client.get().srem(_key(session_key), sid)
        return
    with _local_lock:
        sids = _local.get(_key(session_key))
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del _local[_key(session_key)]


def _take(session_key: str) -> list[str]:
    """Forget the session's sockets and return them."""
    if settings.REDIS_URL:
        pipe = redis_client.get().pipeline()
        pipe.smembers(_key(session_key))
        pipe.delete(_key(session_key))
        members, _ = pipe.execute()
        return sorted(m.decode() if isinstance(m, bytes) else m for m in members)
    with _local_lock:
        return sorted(_local.pop(_key(session_key), ()))


async def _leave_and_disconnect(sids: list[str]) -> None:
    sio = server.get()
    for sid in sids:
        await sio.leave_room(sid, ADMIN_ROOM)
    for sid in sids:
        asyncio.get_running_loop().create_task(sio.disconnect(sid))


def end_session(session_key: str) -> int:
    """Take every admin_room socket of this session out of the room, then disconnect it.

    Called from a request thread of a server process (sign-out): it returns once the
    sockets have left admin_room, so nothing emitted afterwards reaches them. Elsewhere
    (no server loop in this process) the disconnects go through Redis. Returns how many.
    """
    sids = _take(session_key)
    _end(sids)
    return len(sids)


def _end(sids: list[str]) -> None:
    if not sids:
        return
    loop = publishing.server_loop()
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(_leave_and_disconnect(sids), loop).result(timeout=10)
    else:
        publishing.disconnect_sockets(sids)


def on_admin_signed_out(sender, session_key: str, **kwargs) -> None:
    """Receiver of accounts.signin.admin_signed_out."""
    try:
        closed = end_session(session_key)
    except Exception:
        # Still signed out: every admin event re-checks the (flushed) session.
        logger.exception("admin_sockets_close_failed")
        return
    logger.info("admin_sockets_closed count=%d", closed)
