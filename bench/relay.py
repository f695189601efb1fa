"""The bare relay: the same python-socketio server under daphne, with no database.

The ceiling of this stack for bench/run.py. It answers the same events as chatdesk
(join, admin_join, message_to_admin) with the same payload shapes, stores nothing and
checks nobody: `daphne bench.relay:application`.
"""

from __future__ import annotations

import time
import uuid

import socketio

sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins=[], logger=False, engineio_logger=False)
application = socketio.ASGIApp(sio)


@sio.on("join")
async def join(sid, data):
    thread_id = str(uuid.uuid4())
    await sio.enter_room(sid, thread_id)
    async with sio.session(sid) as session:
        session["threads"] = {thread_id}
    await sio.emit("joined", {"thread_id": thread_id}, to=sid)
    return {
        "ok": True,
        "thread_id": thread_id,
        "display_name": data.get("display_name"),
        "resumed": False,
        "messages": [],
    }


@sio.on("admin_join")
async def admin_join(sid, data):
    await sio.enter_room(sid, "admin_room")
    return {"ok": True}


@sio.on("message_to_admin")
async def message_to_admin(sid, data):
    session = await sio.get_session(sid)
    if data.get("thread_id") not in session.get("threads", ()):
        return {"ok": False, "error": "This thread does not belong to this visitor."}
    message = {
        "id": str(uuid.uuid4()),
        "thread_id": data["thread_id"],
        "sender": "visitor",
        "type": "text",
        "content_text": data.get("text"),
        "file_path": None,
        "created_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    await sio.emit("message_from_visitor", message, room="admin_room")
    return {"ok": True, "message": message, "duplicate": False}
