"""The bare relay: the same python-socketio server under daphne, with no database.

The ceiling of this stack for bench/run.py. It answers the same events as chatdesk
(join, admin_join, message_to_admin) with the same payload shapes, stores nothing and
checks nobody: `daphne bench.relay:application`.

It runs with chatdesk's interpreter settings (chatdesk/startup.py, tune_interpreter), so
that it is this stack's ceiling and not a slower one: with Python's default collector,
collections over its 1,000 sockets' objects paused it 110–260 ms (generation 2) and
30–40 ms (generation 1) during row 1's phases, and its p99 at 500 msg/s jumped to
197–257 ms in one run of three (bench/README.md, ninth round).
"""

from __future__ import annotations

import os
import time
import uuid

import socketio

from chatdesk.startup import tune_interpreter

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


os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatdesk.settings")  # what tune_interpreter() reads
tune_interpreter()  # last: what exists now is start-up, frozen out of the collector
