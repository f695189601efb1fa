"""Agents see each other in a thread (issue 13, additive): who is viewing it.

- client→server `viewing` {thread_id: id | null}: the panel opened a thread (null: none).
- server→admin_room `agent_viewing` {thread_id, viewing: bool, agent: {id, name,
  avatar_url}}, to every other panel: when an agent opens a thread, leaves it for another,
  or closes the panel.

Typing is relayed by handlers.typing as `agent_typing` {thread_id, typing, agent}. Both
carry the agent the panel's session belongs to (read at admin_join); a session without
an agent sends neither. A panel that opens later learns of viewers when they next open a
thread (nothing is kept on the server beyond each socket's own state).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from ..events import ADMIN_ROOM
from ..validation import parse_thread_id, require_mapping
from . import server
from .handlers import _rate_limit, _require_admin, event


async def _tell(sid: str, state: dict, thread_id: str, viewing: bool) -> None:
    await server.get().emit(
        "agent_viewing",
        {"thread_id": thread_id, "viewing": viewing, "agent": state["agent"]},
        room=ADMIN_ROOM,
        skip_sid=sid,
    )


async def stop_viewing(sid: str, state: dict) -> None:
    """The panel left its thread (another thread, none, or it disconnected)."""
    previous = state.pop("viewing", None)
    if previous and state.get("agent"):
        await _tell(sid, state, previous, False)


@event("viewing")
async def viewing(sid: str, data: Any) -> dict:
    state = await _require_admin(sid, await _rate_limit(sid, "typing", settings.SOCKET_MESSAGES_PER_MINUTE))
    raw = require_mapping(data).get("thread_id")
    thread_id = str(parse_thread_id(raw)) if raw is not None else None
    if state.get("viewing") == thread_id:
        return {"ok": True}
    await stop_viewing(sid, state)
    if thread_id is not None and state.get("agent"):
        state["viewing"] = thread_id
        await _tell(sid, state, thread_id, True)
    return {"ok": True}
